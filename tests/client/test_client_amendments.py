"""The typed clients' amendment calls (docs/amendments.md) against the real hub app: a
proposal, the versions listing, one version's agreement, the diff and a withdrawal."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest
from fedlink_client import AsyncClient, Client, Conflict
from fedlink_client.models import AgreementDiff, AgreementVersion, AgreementVersions

Hub = Any  # tests/hub/conftest.py


def _approved(hub: Hub) -> tuple[str, str]:
    researcher = hub.token("researcher")
    today = hub.clock().date()
    project = hub.submitted_request(researcher, term_start=str(today - dt.timedelta(days=5)),
                                    term_end=str(today + dt.timedelta(days=100)))
    hub.decide(project, "K12")
    hub.decide(project, "HE")
    for _ in range(2):
        hub.review(project, hub.token("governance"))
    return project, researcher


def test_client_proposes_lists_diffs_and_withdraws(hub: Hub) -> None:
    project, researcher = _approved(hub)
    with Client("http://hub.test", token=researcher, transport=hub.client._transport,
                from_env=False) as client:
        original = client.agreement_version(project, 1)
        assert isinstance(original, AgreementVersion) and original.agreement is not None
        proposed = client.propose_amendment(
            project, {**original.agreement, "title": "A clearer title"}, reason="clarity")
        assert (proposed.version, proposed.status, proposed.kind) == (2, "proposed",
                                                                      "amendment")
        listing = client.agreement_versions(project)
        assert isinstance(listing, AgreementVersions)
        assert (listing.status, listing.in_force) == ("amending", 1)
        assert listing.agencies_asked == ["HE", "K12"]  # the title is in both agencies' terms
        diff = client.agreement_diff(project, 2)
        assert isinstance(diff, AgreementDiff)
        assert [(c.path, c.after) for c in diff.changes] == [("title", "A clearer title")]
        with pytest.raises(Conflict) as raised:
            client.propose_amendment(project, original.agreement, reason="again")
        assert raised.value.code == "not_amendable"
        assert client.withdraw_amendment(project, "no").status == "withdrawn"


def test_async_client_lists_versions(hub: Hub) -> None:
    project, researcher = _approved(hub)
    transport = httpx.ASGITransport(app=hub.app)

    async def flow() -> AgreementVersions:
        async with AsyncClient("http://hub.test", token=researcher, transport=transport,
                               from_env=False) as client:
            return await client.agreement_versions(project)

    listing = asyncio.run(flow())
    assert [(v.version, v.kind, v.status) for v in listing.versions] == [
        (1, "original", "in_force")]
