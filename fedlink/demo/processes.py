"""Real processes on loopback for the demo federation: one-off ``fedlink`` commands and the
long-running services (hub, agency nodes), with clean shutdown.

* Commands run as ``fedlink …`` — the console script next to ``sys.executable`` (what a
  user types), or ``python -m fedlink.cli`` when there is none — with an environment
  cleared of every ``FEDLINK_*`` variable, so a user's own hub or node settings can never
  leak into the demo federation. Their output goes to ``DIR/logs/commands.log`` (0600),
  with every token and invitation code in it redacted (:func:`redact`).
* Services start in their own session (a Ctrl-C in the terminal reaches the demo, which
  stops them in order) and, unless they are to outlive the demo (``--keep``), with a
  parent-death signal so that even a killed demo leaves no orphan. Output goes to
  ``DIR/logs/<name>.log``. Readiness is a poll of ``/health`` with a deadline; a service
  that exits first is reported with the last line of its log.
* :meth:`Supervisor.stop_all` terminates each service, waits, then kills what is left.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fedlink.errors import CommandError

#: Seconds a one-off command may take before the demo gives up on it.
COMMAND_TIMEOUT = 300.0
#: Seconds a service has to answer ``/health`` after it starts.
READY_TIMEOUT = 60.0
#: Seconds between SIGTERM and SIGKILL when stopping a service.
STOP_GRACE = 10.0


def fedlink_command() -> list[str]:
    """How to run ``fedlink`` with the interpreter running the demo."""
    script = Path(sys.executable).with_name("fedlink")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "fedlink.cli"]


def clean_environment() -> dict[str, str]:
    """The demo's environment: the caller's, minus every ``FEDLINK_*`` setting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEDLINK_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["COLUMNS"] = "200"  # no wrapped lines in the output the demo reads back
    env.pop("NO_COLOR", None)
    return env


def free_port() -> int:
    """A TCP port free on loopback right now (the kernel's choice for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Run first in a service's process: ask Linux to SIGTERM it when the demo dies (however
#: it dies), give up if the demo is already gone, then become the service (same pid).
#: A separate interpreter instead of ``preexec_fn``, which is unsafe with threads running.
_DIE_WITH_PARENT = """
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except (OSError, AttributeError):
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)
os.execv(sys.argv[2], sys.argv[2:])
"""


#: API (flu_), node (fln_), enrollment (fle_) tokens and invitation codes (fli_).
_SECRET = re.compile(r"\bfl[unei]_[A-Za-z0-9_-]{20,}")


def redact(text: str) -> str:
    """``text`` with every token and invitation code replaced by its kind and ``…``."""
    return _SECRET.sub(lambda m: m.group(0)[:4] + "…redacted", text)


@dataclass
class CommandResult:
    args: list[str]
    stdout: str
    stderr: str
    seconds: float


class Commands:
    """Runs ``fedlink`` commands, logging each one; a failure is a one-line CommandError."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        # 0600 from the start: the log holds what each party's commands printed.
        os.close(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
        log_path.chmod(0o600)
        self._lock = threading.Lock()
        self.env = clean_environment()

    def run(self, *args: str, who: str, env: dict[str, str] | None = None,
            timeout: float = COMMAND_TIMEOUT) -> CommandResult:
        """Run ``fedlink ARGS`` as ``who``; ``env`` adds variables (tokens travel there, not
        on the command line, so they are not in ``ps`` or in the log)."""
        argv = [*fedlink_command(), *args]
        started = time.monotonic()
        try:
            done = subprocess.run(  # noqa: S603 - our own console script
                argv, env={**self.env, **(env or {})}, capture_output=True, text=True,
                timeout=timeout, check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise CommandError(f"`fedlink {args[0]} {args[1]}` ({who}) took longer than "
                               f"{timeout:.0f} s; see {self.log_path}") from None
        seconds = time.monotonic() - started
        self._log(who, args, done.returncode, done.stdout, done.stderr, seconds)
        if done.returncode != 0:
            lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
            reason = lines[-1] if lines else f"exit status {done.returncode}"
            reason = reason.removeprefix("fedlink: error: ")
            raise CommandError(f"`fedlink {' '.join(_shown(args))}` ({who}) failed: {reason}")
        return CommandResult(list(args), done.stdout, done.stderr, seconds)

    def _log(self, who: str, args: Sequence[str], code: int, out: str, err: str,
             seconds: float) -> None:
        with self._lock, self.log_path.open("a", encoding="utf-8") as log:
            log.write(redact(f"$ fedlink {' '.join(args)}    # {who}, exit {code}, "
                             f"{seconds:.1f} s\n"))
            for text in (out, err):
                if text.strip():
                    log.write(redact(text if text.endswith("\n") else text + "\n"))


def _shown(args: Sequence[str]) -> list[str]:
    """The arguments as shown in a message: the sub-command and its first words."""
    return [a if len(a) < 60 else a[:57] + "…" for a in args[:4]]


@dataclass
class Service:
    name: str
    argv: list[str]
    url: str
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = field(default=0.0)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def last_log_line(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return "no log"
        useful = [ln.strip() for ln in lines if ln.strip()]
        return useful[-1].removeprefix("fedlink: error: ") if useful else "no output"


class Supervisor:
    """Starts the services, waits until they answer, and stops them all (in reverse)."""

    def __init__(self, logs: Path, *, keep: bool = False) -> None:
        self.logs = logs
        self.keep = keep
        self.services: dict[str, Service] = {}
        self.env = clean_environment()

    def start(self, name: str, args: Sequence[str], url: str) -> Service:
        log_path = self.logs / f"{name}.log"
        service = Service(name, [*fedlink_command(), *args], url, log_path)
        argv = service.argv
        if not self.keep:
            argv = [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *argv]
        with log_path.open("ab") as log:
            service.process = subprocess.Popen(  # noqa: S603 - our own console script
                argv, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True)
        service.started_at = time.monotonic()
        self.services[name] = service
        return service

    def wait_ready(self, names: Sequence[str], timeout: float = READY_TIMEOUT) -> None:
        """Poll each service's ``/health`` until it answers 200; CommandError otherwise."""
        deadline = time.monotonic() + timeout
        pending = [self.services[n] for n in names]
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while pending:
                for service in list(pending):
                    if not service.running():
                        raise CommandError(
                            f"{service.name} stopped while starting: {service.last_log_line()} "
                            f"(log: {service.log_path})")
                    try:
                        if client.get(f"{service.url}/health").status_code == 200:
                            pending.remove(service)
                    except httpx.TransportError:
                        pass
                if pending and time.monotonic() > deadline:
                    names_left = ", ".join(s.name for s in pending)
                    raise CommandError(f"{names_left} did not answer /health within "
                                       f"{timeout:.0f} s; see {self.logs}")
                if pending:
                    time.sleep(0.1)

    def stop(self, name: str) -> None:
        service = self.services.get(name)
        if service is not None and service.process is not None:
            stop_process(service.process)

    def stop_all(self) -> None:
        for name in reversed(list(self.services)):
            self.stop(name)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, wait up to STOP_GRACE seconds, then SIGKILL."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_GRACE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_GRACE)


def _command_line(pid: int) -> str:
    """The command line of ``pid`` ("" when there is no such process)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except FileNotFoundError:
        if Path("/proc/self").exists():
            return ""
    except OSError:
        return ""
    done = subprocess.run(["ps", "-o", "command=", "-p", str(pid)],  # noqa: S603, S607
                          capture_output=True, text=True, check=False)
    return done.stdout.strip()


def stop_pid(pid: int, expected: str) -> bool:
    """Stop a process the demo started earlier (``--keep``) if it is still that process:
    its command line must contain ``expected`` (the work directory). True if it was
    running."""
    if expected not in _command_line(pid):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + STOP_GRACE
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return True
