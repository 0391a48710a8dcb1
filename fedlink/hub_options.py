"""Shared options of the `fedlink` commands that talk to a hub API (request, review, audit)."""

from __future__ import annotations

import json
import os
from typing import Annotated, Any

import httpx
import typer

from fedlink.errors import CommandError

HubUrlOption = Annotated[
    str | None,
    typer.Option("--hub", envvar="FEDLINK_HUB_URL", help="The hub's URL (or FEDLINK_HUB_URL).",
                 show_default=False),
]
TokenOption = Annotated[
    str | None,
    typer.Option("--token", envvar="FEDLINK_TOKEN", help="Your API token (or FEDLINK_TOKEN).",
                 show_default=False),
]
#: Tests point the client at an in-process hub (httpx transport); None = real network.
transport: httpx.BaseTransport | None = None


def client(hub_url: str | None, token: str | None) -> Any:
    """A :class:`hub.client.HubClient` for ``hub_url`` authenticated with ``token``."""
    from hub.client import HubClient

    if not hub_url:
        raise CommandError("give the hub's URL with --hub URL or FEDLINK_HUB_URL")
    if not token:
        raise CommandError("give your API token with --token T or FEDLINK_TOKEN")
    # FEDLINK_CA_FILE: the federation's CA bundle when the hub's certificate is private.
    return HubClient(hub_url, token=token, transport=transport,
                     ca_file=os.environ.get("FEDLINK_CA_FILE") or None)


def dumps(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
