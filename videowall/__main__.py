"""Entry point for `python -m videowall`."""

from videowall.cli.main import main

raise SystemExit(main())
