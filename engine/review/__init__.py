"""Human review of a run: what it holds, decisions kept beside the story, the page, the gate."""
