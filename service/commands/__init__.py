"""CLI command implementations (the typer wiring lives in service/cli.py)."""
