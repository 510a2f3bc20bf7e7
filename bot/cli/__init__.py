"""The command line (``python -m bot``): one module per group of subcommands."""

from __future__ import annotations

import sys


def cli_error(message: object, code: int = 2, who: str = "error") -> int:
    """Print ``who: message`` on stderr (``who``: "error", or the command that refuses); the
    exit code for the subcommand to return (2: the command was wrong or not allowed here, 1:
    what it names was not found or could not be done)."""
    print(f"{who}: {message}", file=sys.stderr)
    return code
