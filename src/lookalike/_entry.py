"""The ``lookalike`` console script: an interrupt during start-up ends in one line, not a traceback."""

from __future__ import annotations

import sys


def main() -> None:
    """Import the command line (numpy, pandas, ...) and run it; Ctrl-C at any point exits 130."""
    try:
        from lookalike.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("lookalike: interrupted\n")
        raise SystemExit(130) from None
    run()
