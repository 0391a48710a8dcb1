"""What the demo knows as it goes: ports, tokens (each party's own), ids and counts.

The demo plays every party, so it holds every party's token; each step uses only the one
the real person in that role would use.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fedlink.demo.federation import AGENCIES, Agency, Layout
from fedlink.demo.processes import Commands, Supervisor
from fedlink.demo.ui import StepList
from fedlink.errors import CommandError

T = TypeVar("T")
R = TypeVar("R")
_TOKEN = re.compile(r"\b(fl[ueni]_[A-Za-z0-9_-]{20,})")


@dataclass
class Demo:
    layout: Layout
    people: int
    seed: int
    commands: Commands
    supervisor: Supervisor
    steps: StepList
    hub_port: int = 0
    node_ports: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    enrollment: dict[str, str] = field(default_factory=dict)
    request_id: str = ""
    run_id: str = ""
    #: Agency code to stop right after the linkage run starts (--fail-node), or "".
    fail_node: str = ""
    #: The agencies' files hold rows per person per period under agency person ids
    #: (``fedlink synth --longitudinal``); off (``--no-longitudinal``): one record per person.
    longitudinal: bool = True
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def hub_url(self) -> str:
        return f"http://127.0.0.1:{self.hub_port}"

    def node_url(self, agency: Agency) -> str:
        return f"http://127.0.0.1:{self.node_ports[agency.code]}"

    def fedlink(self, *args: str, who: str, env: dict[str, str] | None = None) -> str:
        """Run one ``fedlink`` command as ``who``; its standard output."""
        return self.commands.run(*args, who=who, env=env).stdout

    def api_env(self, who: str) -> dict[str, str]:
        """``FEDLINK_HUB_URL`` and ``who``'s ``FEDLINK_TOKEN`` for a command using the API."""
        return {"FEDLINK_HUB_URL": self.hub_url, "FEDLINK_TOKEN": self.tokens[who]}

    def hub_client(self, who: str) -> Any:
        """The hub's Python client with ``who``'s own token."""
        from hub.client import HubClient

        return HubClient(self.hub_url, token=self.tokens[who])

    def write_state(self) -> None:
        """Ports and pids of the running services (``fedlink demo --stop`` reads it)."""
        services = {
            name: {"pid": service.pid, "url": service.url}
            for name, service in self.supervisor.services.items()
        }
        state = {"workdir": str(self.layout.root), "services": services}
        self.layout.state.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def token_in(output: str, what: str) -> str:
    """The first API/enrollment token or invitation code printed in a command's output."""
    found = _TOKEN.search(output)
    if found is None:
        raise CommandError(f"no {what} in the command's output")
    return found.group(1)


def each_agency(work: Callable[[Agency], R], agencies: Iterable[Agency] = AGENCIES) -> list[R]:
    """Do ``work`` for every agency at once, as three agencies' IT staff would."""
    return parallel(work, list(agencies))


def parallel(work: Callable[[T], R], items: list[T], workers: int = 3) -> list[R]:
    """``work`` on each item in threads; results in order; the first failure is raised
    (and, like Ctrl-C, cancels the items not started yet)."""
    pool = ThreadPoolExecutor(max_workers=workers)
    try:
        futures = [pool.submit(work, item) for item in items]
        return [f.result() for f in futures]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
