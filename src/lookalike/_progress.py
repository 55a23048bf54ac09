"""Progress bars for long work: shown on a terminal, silent when quiet or not a TTY."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

_state = {"quiet": False}


def set_quiet(quiet: bool) -> None:
    """Silence (or allow) progress bars for this process; the CLI's ``--quiet`` sets it."""
    _state["quiet"] = bool(quiet)


def enabled() -> bool:
    return not _state["quiet"] and sys.stderr.isatty()


@contextlib.contextmanager
def progress(description: str, total: float | None) -> Iterator[Callable[..., None]]:
    """Yield ``advance(steps=1, description=None)``; draws a rich bar on a terminal.

    >>> with progress("fitting", 3) as advance:
    ...     for _ in range(3):
    ...         advance()
    """
    if not enabled():
        yield lambda steps=1, description=None: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(steps: float = 1, description: str | None = None) -> None:
            if description is not None:
                bar.update(task, advance=steps, description=description)
            else:
                bar.advance(task, steps)

        yield advance
