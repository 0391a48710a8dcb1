"""Which parts of the VLDS flow this build of Fedlink can do.

The demo never fakes a step: a feature that is not installed is reported as "not available
in this build" and the demo goes on with what it can show. Detection looks at what a user
would use — the ``fedlink`` sub-commands and the hub client's methods — not at internals.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass


def _command(name: str) -> bool:
    return importlib.util.find_spec(f"fedlink.commands.{name}") is not None


def _module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def _client_has(*methods: str) -> bool:
    from hub.client import HubClient

    return all(callable(getattr(HubClient, m, None)) for m in methods)


@dataclass(frozen=True)
class Features:
    runs: bool
    extracts: bool

    @classmethod
    def detect(cls) -> Features:
        return cls(
            runs=_command("run") and _client_has("start_run", "get_run", "run_report_html"),
            extracts=(_command("extract")
                      and _client_has("build_extract", "get_extract", "download_extract")
                      and _module("hub.services.extract_destruction")),
        )
