"""Shared options of the `fedlink` commands that talk to a hub API (request, review, audit).

The API token never travels as a flag value (``ps``, shell history): it comes from
``FEDLINK_TOKEN`` or from ``--token-file FILE`` (mode 0600; ``FEDLINK_TOKEN_FILE``), see
:mod:`fedlink.secretfile`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fedlink.errors import CommandError
from fedlink.secretfile import resolve_secret

if TYPE_CHECKING:  # httpx (and its own CLI's imports) only when a command calls a hub
    import httpx

HubUrlOption = Annotated[
    str | None,
    typer.Option("--hub", envvar="FEDLINK_HUB_URL", help="The hub's URL (or FEDLINK_HUB_URL).",
                 show_default=False),
]
#: A command's ``token`` parameter holds the *file* the token is read from, never the token.
TokenOption = Annotated[
    Path | None,
    typer.Option("--token-file", envvar="FEDLINK_TOKEN_FILE",
                 help="File (mode 0600) holding your API token; or set FEDLINK_TOKEN.",
                 show_default=False),
]
#: Tests point the client at an in-process hub (httpx transport); None = real network.
transport: httpx.BaseTransport | None = None


def api_token(token_file: Path | None, *, required: bool = True) -> str | None:
    """The caller's API token: from ``token_file`` (0600) or ``FEDLINK_TOKEN``."""
    token = resolve_secret(token_file, env="FEDLINK_TOKEN", what="API token")
    if required and not token:
        raise CommandError("give your API token in FEDLINK_TOKEN or a 0600 file with "
                           "--token-file FILE")
    return token


def client(hub_url: str | None, token_file: Path | None) -> Any:
    """A :class:`hub.client.HubClient` for ``hub_url`` authenticated with the token read
    from ``token_file`` or ``FEDLINK_TOKEN``."""
    from hub.client import HubClient

    if not hub_url:
        raise CommandError("give the hub's URL with --hub URL or FEDLINK_HUB_URL")
    token = api_token(token_file)
    # FEDLINK_CA_FILE: the federation's CA bundle when the hub's certificate is private.
    return HubClient(hub_url, token=token, transport=transport,
                     ca_file=os.environ.get("FEDLINK_CA_FILE") or None)


def dumps(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
