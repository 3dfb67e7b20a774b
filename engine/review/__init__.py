"""Human review of a run: what it holds, the decisions kept beside the story, the page and the gate."""
