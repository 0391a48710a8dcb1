"""``fedlink demo``: the whole federation as real processes on loopback, step by step.

:func:`run_demo` prepares the work directory, runs the steps (:mod:`fedlink.demo.steps`,
then linkage, extract, audit and expiry), prints the summary and stops every service it
started — on success, on a failed step, on Ctrl-C or SIGTERM — unless ``--keep`` asks to
leave them running; :func:`stop_demo` stops such a kept federation later.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from rich.console import Console

from fedlink.demo.federation import Layout
from fedlink.demo.processes import Commands, Supervisor, stop_pid
from fedlink.demo.state import Demo
from fedlink.demo.ui import StepList
from fedlink.errors import CommandError

#: A file marking a directory as made by ``fedlink demo`` (``--force`` only replaces those).
MARKER = ".fedlink-demo"


@dataclass(frozen=True)
class DemoOptions:
    people: int
    workdir: Path | None
    keep: bool = False
    force: bool = False
    seed: int = 1
    fail_node: str = ""
    longitudinal: bool = True


def prepare_workdir(workdir: Path | None, force: bool) -> Path:
    """A new temporary directory, or ``workdir`` (created, or emptied with ``--force`` when
    an earlier demo made it). Refuses anything else with one sentence."""
    if workdir is None:
        root = Path(tempfile.mkdtemp(prefix="fedlink-demo-"))
    else:
        root = workdir.expanduser().resolve()
        if root.exists() and not root.is_dir():
            raise CommandError(f"--workdir {root} exists and is not a directory")
        if root.exists() and any(root.iterdir()):
            if not force:
                raise CommandError(f"--workdir {root} is not empty; give an empty or new "
                                   "directory, or add --force to replace an earlier demo")
            if not (root / MARKER).exists():
                raise CommandError(f"--workdir {root} is not empty and was not made by "
                                   "fedlink demo; --force only replaces an earlier demo")
            _stop_kept(root, quiet=True)
            for child in root.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        try:
            root.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise CommandError(f"cannot create --workdir {root}: {exc.strerror}") from None
    os.chmod(root, 0o700)
    (root / MARKER).write_text("made by fedlink demo\n", encoding="utf-8")
    return root


def _stop_kept(root: Path, *, quiet: bool) -> list[str]:
    state_file = Layout(root).state
    if not state_file.exists():
        if quiet:
            return []
        raise CommandError(f"{root} has no running demo ({state_file.name} is missing)")
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        services = state["services"]
    except (ValueError, KeyError, TypeError):
        raise CommandError(f"{state_file} is not a demo state file") from None
    stopped = [name for name, info in reversed(list(services.items()))
               if isinstance(info.get("pid"), int) and stop_pid(info["pid"], str(root))]
    state_file.unlink()
    return stopped


def stop_demo(workdir: Path) -> list[str]:
    """Stop the services a ``--keep`` demo left running in ``workdir``; their names."""
    return _stop_kept(workdir.expanduser().resolve(), quiet=False)


class _Terminated(Exception):
    pass


@contextmanager
def _signals_raise() -> Iterator[None]:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so the services are stopped."""
    def handler(signum: int, _frame: FrameType | None) -> None:
        raise _Terminated(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def _write_tokens(demo: Demo) -> None:
    path = demo.layout.root / "tokens.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump({"hub": demo.hub_url, "tokens": demo.tokens}, handle, indent=2)


def run_demo(options: DemoOptions, console: Console | None = None) -> None:
    """Run the demo; raises CommandError (one line) when it cannot finish."""
    from fedlink.demo.later import LATER, evaluate
    from fedlink.demo.steps import SETUP
    from fedlink.demo.summary import print_summary

    if options.people < 50:
        raise CommandError(f"--people must be at least 50 (got {options.people})")
    console = console or Console(highlight=False)
    root = prepare_workdir(options.workdir, options.force)
    layout = Layout(root)
    layout.logs.mkdir(mode=0o700)
    console.print(f"[bold]Fedlink demo federation[/] in {root}")
    grain = ("rows per person per school year, term and wage quarter" if options.longitudinal
             else "one record per person per agency")
    console.print(f"one hub and three agency nodes as real processes on 127.0.0.1; "
                  f"{options.people:,} synthetic people (seed {options.seed}), {grain}\n")
    demo = Demo(layout=layout, people=options.people, seed=options.seed,
                commands=Commands(layout.logs / "commands.log"),
                supervisor=Supervisor(layout.logs, keep=options.keep),
                steps=StepList(console), fail_node=options.fail_node.upper(),
                longitudinal=options.longitudinal)
    started = time.monotonic()
    finished = False
    try:
        with _signals_raise():
            for step in (*SETUP, *LATER):
                step(demo)
            quality = evaluate(demo)
            finished = True
    except (KeyboardInterrupt, _Terminated) as exc:
        why = "interrupted" if isinstance(exc, KeyboardInterrupt) else f"{exc} received"
        console.print(f"[red]{why}: stopping the services[/]")
        raise CommandError(f"the demo was stopped ({why})", exit_code=130) from None
    except Exception as exc:
        if os.environ.get("FEDLINK_DEBUG"):
            raise
        failed = next((r for r in reversed(demo.steps.records) if r.status == "failed"), None)
        where = f"at “{failed.title}”" if failed else "before the first step"
        reason = failed.detail if failed else str(exc)
        raise CommandError(f"the demo stopped {where}: {reason} (logs: {layout.logs})",
                           exit_code=1) from None
    finally:
        if not (finished and options.keep):
            demo.supervisor.stop_all()
            if layout.state.exists():
                layout.state.unlink()
        if demo.tokens:
            _write_tokens(demo)
    print_summary(demo, console, quality, time.monotonic() - started, running=options.keep)
