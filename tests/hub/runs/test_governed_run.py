"""A linkage run against nodes that pinned the governance roster: the match requests carry
the members' signed decisions and the nodes answer; a hub that marks a project approved
without them (an admin or a compromised database) gets a named refusal from every node,
and a member's revocation reaches every node and ends the project there."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import delete

from agency_node.store.governance import get_revocation
from hub.db.models import GovernanceDecisionRecord
from protocol.governance import Revocation, sign_statement

NODES = ("HE", "K12")


def test_run_with_signed_quorum_is_answered_by_governed_nodes(federation: Any) -> None:
    federation.approved_project()  # roster pinned by every node, quorum signed
    run = federation.start_run()
    federation.worker().run_once()
    done = federation.run(run["id"])
    assert done["status"] == "succeeded", done["failure"]
    assert all(len(federation.truth(a)) > 0 for a in NODES)


def test_run_without_the_signed_decisions_refused_by_every_node(federation: Any) -> None:
    """The hub's database says approved, but the signed decisions are gone (a compromised
    hub, or an admin acting as governance): the nodes refuse before sending anything."""
    request_id = federation.approved_project()
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
    request_id = federation.approved_project()
    keys = federation.member_keys
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
