"""Subcommands of `storyreel`: one module each, with `main(argv) -> exit code`."""
