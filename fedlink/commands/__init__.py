"""Sub-commands of ``fedlink``; each module exposes a typer app or command function."""
