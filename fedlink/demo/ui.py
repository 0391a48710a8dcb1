"""The demo's progress: one line per step, ✓ with its time and a short detail, ✗ with the
reason, or ○ "not available in this build" for a step whose feature is missing.

While a step runs, a spinner shows its name (only on a terminal; a pipe gets the finished
lines alone). Every step's outcome and time are kept for the summary.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.status import Status


@dataclass
class StepRecord:
    title: str
    actor: str
    status: str = "running"  # ok | failed | unavailable
    seconds: float = 0.0
    detail: str = ""


class StepFailed(Exception):
    """A step could not be done; the demo stops after saying why."""


@dataclass
class StepHandle:
    record: StepRecord
    status: Status | None = None
    notes: list[str] = field(default_factory=list)

    def progress(self, text: str) -> None:
        """What the step is doing now, beside the spinner (terminals only)."""
        if self.status is not None:
            self.status.update(f"{escape(self.record.title)}: {escape(text)}")

    def done(self, detail: str) -> None:
        """The one-line result shown after the ✓."""
        self.record.detail = detail

    def note(self, line: str) -> None:
        """An extra line printed under the step."""
        self.notes.append(line)


class StepList:
    def __init__(self, console: Console) -> None:
        self.console = console
        self.records: list[StepRecord] = []

    @contextmanager
    def step(self, title: str, actor: str) -> Iterator[StepHandle]:
        """Run one step: ✓ on success; ✗ and re-raise on failure."""
        record = StepRecord(title, actor)
        self.records.append(record)
        handle = StepHandle(record)
        started = time.monotonic()
        try:
            with self.console.status(f"{escape(title)} [dim]({escape(actor)})[/]") as status:
                handle.status = status
                yield handle
        except BaseException as exc:
            record.seconds = time.monotonic() - started
            record.status = "failed"
            record.detail = _reason(exc)
            self._print(record, handle.notes)
            raise
        record.seconds = time.monotonic() - started
        record.status = "ok"
        self._print(record, handle.notes)

    def unavailable(self, title: str, actor: str, what: str) -> None:
        """A step this build cannot do: said plainly, never faked."""
        record = StepRecord(title, actor, status="unavailable",
                            detail=f"not available in this build: {what}")
        self.records.append(record)
        self._print(record, [])

    def _print(self, record: StepRecord, notes: list[str]) -> None:
        mark = {"ok": "[green]✓[/]", "failed": "[red]✗[/]",
                "unavailable": "[yellow]○[/]"}[record.status]
        timing = f"{record.seconds:5.1f}s" if record.status != "unavailable" else "     -"
        self.console.print(f"{mark} {timing}  [bold]{escape(record.title)}[/] "
                           f"[dim]({escape(record.actor)})[/]")
        if record.detail:
            style = "red" if record.status == "failed" else "dim"
            self.console.print(f"           [{style}]{escape(record.detail)}[/]")
        for line in notes:
            self.console.print(f"           {escape(line)}")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
