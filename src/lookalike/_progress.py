"""Progress bars for long work: shown on a terminal, silent when quiet or not a TTY."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

_state: dict = {"quiet": False, "listener": None, "drawing": False}


def set_quiet(quiet: bool) -> None:
    """Silence (or allow) progress bars for this process; the CLI's ``--quiet`` sets it."""
    _state["quiet"] = bool(quiet)


def set_listener(listener: Callable[[str, float | None, float], None] | None) -> None:
    """Call ``listener(description, total, completed)`` when a long step starts and at each of
    its advances, terminal or not (notebooks, services and tests follow the work this way);
    None removes it."""
    _state["listener"] = listener


def enabled() -> bool:
    return not _state["quiet"] and sys.stderr.isatty()


@contextlib.contextmanager
def progress(description: str, total: float | None) -> Iterator[Callable[..., None]]:
    """Yield ``advance(steps=1, description=None)``; draws a rich bar on a terminal.

    >>> with progress("fitting", 3) as advance:
    ...     for _ in range(3):
    ...         advance()
    """
    listener = _state["listener"]
    completed, current = [0.0], [description]

    def tell(steps: float, text: str | None) -> None:
        completed[0] += steps
        current[0] = text if text is not None else current[0]
        if listener is not None:
            listener(current[0], total, completed[0])

    if listener is not None:
        listener(description, total, 0.0)
    if not enabled() or _state["drawing"]:  # one bar at a time: a step inside another's is silent
        yield lambda steps=1, description=None: tell(steps, description)
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
    _state["drawing"] = True
    try:
        with bar:
            task = bar.add_task(description, total=total)

            def advance(steps: float = 1, description: str | None = None) -> None:
                tell(steps, description)
                if description is not None:
                    bar.update(task, advance=steps, description=description)
                else:
                    bar.advance(task, steps)

            yield advance
    finally:
        _state["drawing"] = False
