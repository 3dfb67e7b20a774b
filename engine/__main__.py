"""`python -m engine` runs the storyreel command."""

from engine.cli import main

raise SystemExit(main())
