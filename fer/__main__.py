"""``python -m fer`` runs the command-line interface."""

from fer.cli import main

raise SystemExit(main())
