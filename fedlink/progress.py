"""Progress bars for the long steps of ``fedlink`` commands (docs/cli.md, "Progress").

A bar goes to stderr, so stdout stays the command's result; it is transient (gone once the
step ends) and shown only when stderr is a terminal, so logs, pipes and tests see nothing.
It counts real work reported by the service (rows read, events verified), with a total when
the service knows one; a service takes the callback this yields, never rich itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Report(Protocol):
    """``report(done, total, label)``: ``done`` units so far; ``total`` when known (None
    keeps it); ``label`` a new description for the bar (None keeps it)."""

    def __call__(self, done: int, total: int | None = None,
                 label: str | None = None) -> None: ...


@contextmanager
def progress_bar(description: str, *, unit: str, total: int | None = None) -> Iterator[Report]:
    """A transient progress bar on stderr; yields ``report(done, total=None)``."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(),
               TextColumn(f"{{task.completed:,.0f}}{{task.fields[of]}} {unit}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True,
                  disable=not console.is_terminal) as bar:
        task = bar.add_task(description, total=total, of=_of(total))

        def report(done: int, total: int | None = None, label: str | None = None) -> None:
            if label is not None:
                bar.update(task, description=label)
            if total is None:
                bar.update(task, completed=done)
            else:
                bar.update(task, completed=done, total=total, of=_of(total))

        yield report


def _of(total: int | None) -> str:
    return f" of {total:,}" if total is not None else ""
