"""``fedlink node roster-sync``: pin the governance roster and follow its signed updates.

``fedlink node enroll`` pins roster version 1 as well when the hub has one; this command
pins it later (a federation that set its roster up after the node enrolled) and pulls
updates and revocations on demand — ``fedlink node serve`` also pulls them on a schedule.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer

from fedlink.commands.node import DirOption, _hub_client, _open, _out, node_app

FingerprintOption = Annotated[str | None, typer.Option(
    "--roster-fingerprint", help="The governance roster fingerprint given to the agency out "
    "of band; the node refuses to pin any other roster.", show_default=False)]


def register(_app: typer.Typer) -> None:
    """The command is attached to ``fedlink node`` at import (see :func:`roster_sync`)."""


def pin_and_report(node_dir: Path, fingerprint: str | None, *, lenient: bool = False) -> None:
    """Pin/follow the hub's roster chain and print what this node now enforces. ``lenient``
    (right after enrollment, no fingerprint given): a hub that cannot answer is reported,
    not an error — the enrollment itself has succeeded."""
    from agency_node.errors import HubClientError
    from agency_node.services.governance import sync_from_hub
    from protocol.governance import roster_digest, show_fingerprint

    with _open(node_dir) as runtime, _hub_client(runtime) as client:
        try:
            answer = client.fetch_governance()
        except HubClientError as exc:
            if not lenient or fingerprint:
                raise
            _out.print(f"governance roster not fetched ({exc}); run `fedlink node "
                       "roster-sync` later")
            return
        roster = sync_from_hub(runtime, answer, fingerprint=fingerprint,
                               now=dt.datetime.now(dt.UTC))
        if roster is None:
            _out.print("no governance roster at the hub yet: this node refuses every match "
                       "and extract request (no_roster) until one is pinned; run `fedlink node "
                       "roster-sync --roster-fingerprint FP` once the roster exists")
            return
        from agency_node.store.governance import first_roster

        with runtime.sessions() as session:
            first = first_roster(session)
            pinned = first.digest if first is not None else roster_digest(roster)
    _out.print(f"governance roster pinned (fingerprint {show_fingerprint(pinned)}): compare "
               f"it with the one given out of band; now at version {roster.version}, quorum "
               f"{roster.quorum}")


@node_app.command("roster-sync")
def roster_sync(node_dir: DirOption, roster_fingerprint: FingerprintOption = None) -> None:
    """Pin the governance roster (if none yet) and follow its signed updates from the hub."""
    pin_and_report(node_dir, roster_fingerprint)
