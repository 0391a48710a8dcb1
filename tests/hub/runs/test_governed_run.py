"""A linkage run against nodes that pinned the governance roster: the match requests carry
the members' signed decisions and the nodes answer; a hub that marks a project approved
without them (an admin or a compromised database) gets a named refusal from every node,
and a member's revocation reaches every node and ends the project there."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete

from agency_node.services.approvals import steward_decide
from agency_node.services.governance import sync_from_hub
from agency_node.store.governance import get_revocation
from hub.db.models import GovernanceDecisionRecord
from protocol.governance import (
    GovernanceDecision,
    Revocation,
    new_roster,
    roster_digest,
    sign_statement,
)
from protocol.keyfiles import public_key_to_b64
from protocol.project import ProjectTerms, project_digest

NODES = ("HE", "K12")


def _govern(federation: Any) -> list[Ed25519PrivateKey]:
    """Both governance members register keys; a roster (quorum 2) exists; nodes pin it."""
    hub = federation.hub
    keys = [Ed25519PrivateKey.generate() for _ in federation.governance]
    for token, key in zip(federation.governance, keys, strict=True):
        response = hub.client.post("/v1/governance/keys", headers=hub.auth(token),
                                   json={"public_key": public_key_to_b64(key.public_key())})
        assert response.status_code == 201, response.text
    roster = new_roster((("m", k.public_key()) for k in keys), quorum=2)
    body = {"signatures": [sign_statement(roster, k).model_dump(mode="json") for k in keys]}
    response = hub.client.post("/v1/governance/roster", content=json.dumps(body),
                               headers=hub.auth(federation.governance[0]))
    assert response.status_code == 201, response.text
    for agency in NODES:
        with federation.runtime(agency) as runtime, \
                federation.node_hub_client(agency) as client:
            sync_from_hub(runtime, client.fetch_governance(), now=dt.datetime.now(dt.UTC),
                          fingerprint=roster_digest(roster))
    return keys


def _signed_approvals(federation: Any, keys: list[Ed25519PrivateKey]) -> str:
    hub = federation.hub
    response = hub.client.post("/v1/requests", json=federation.agreement(),
                               headers=hub.auth(federation.researcher))
    request_id = str(response.json()["id"])
    hub.client.post(f"/v1/requests/{request_id}/submit", headers=hub.auth(federation.researcher))
    for agency in NODES:
        with federation.runtime(agency) as runtime, \
                federation.node_hub_client(agency) as client:
            steward_decide(runtime, client, project_id=request_id, decision="approve",
                           confirm=lambda _terms: True)
    for token, key in zip(federation.governance, keys, strict=True):
        served = hub.client.get(f"/v1/requests/{request_id}/project-terms",
                                headers=hub.auth(token)).json()
        terms = ProjectTerms.model_validate(served["project_terms"])
        decision = GovernanceDecision(project_id=request_id, decision="approve",
                                      project_terms=terms, project_digest=project_digest(terms),
                                      decided_at=dt.datetime.now(dt.UTC))
        posted = hub.client.post(f"/v1/requests/{request_id}/signed-reviews",
                                 headers=hub.auth(token),
                                 content=sign_statement(decision, key).to_json())
        assert posted.status_code == 201, posted.text
    assert hub.status(request_id, federation.researcher) == "approved"
    federation.request_id = request_id
    return request_id


def test_run_with_signed_quorum_is_answered_by_governed_nodes(federation: Any) -> None:
    keys = _govern(federation)
    _signed_approvals(federation, keys)
    run = federation.start_run()
    federation.worker().run_once()
    done = federation.run(run["id"])
    assert done["status"] == "succeeded", done["failure"]
    assert all(len(federation.truth(a)) > 0 for a in NODES)


def test_run_without_the_signed_decisions_refused_by_every_node(federation: Any) -> None:
    """The hub's database says approved, but the signed decisions are gone (a compromised
    hub, or an admin acting as governance): the nodes refuse before sending anything."""
    keys = _govern(federation)
    request_id = _signed_approvals(federation, keys)
    with federation.hub.ctx.session_factory() as session:
        session.execute(delete(GovernanceDecisionRecord)
                        .where(GovernanceDecisionRecord.request_id == request_id))
        session.commit()
    run = federation.start_run()
    federation.worker().run_once()
    done = federation.run(run["id"])
    assert done["status"] == "failed"
    assert "no_governance_quorum" in json.dumps(done["failure"])
    assert all(len(federation.truth(a)) == 0 for a in NODES)


def test_member_revocation_is_pushed_to_every_node(federation: Any) -> None:
    keys = _govern(federation)
    request_id = _signed_approvals(federation, keys)
    hub = federation.hub
    hub.app.state.node_transport = federation.router
    body = Revocation(project_id=request_id, reason="consent withdrawn",
                      revoked_at=dt.datetime.now(dt.UTC))
    response = hub.client.post(f"/v1/requests/{request_id}/revocations",
                               headers=hub.auth(federation.governance[1]),
                               content=sign_statement(body, keys[1]).to_json())
    assert response.status_code == 200, response.text
    assert response.json()["pushed_to"] == sorted(NODES)
    for agency in NODES:
        with federation.runtime(agency) as runtime, runtime.sessions() as session:
            assert get_revocation(session, project_id=request_id) is not None
