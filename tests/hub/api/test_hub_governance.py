"""Governance signed with the members' own keys, through the hub API: key registration,
the roster chain, signed reviews, signed revocations pushed to the nodes."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from protocol.governance import (
    GovernanceDecision,
    Revocation,
    Roster,
    new_roster,
    roster_digest,
    show_fingerprint,
    sign_statement,
)
from protocol.keyfiles import key_id, public_key_to_b64
from protocol.project import ProjectTerms, project_digest


@dataclass
class Member:
    token: str
    key: Ed25519PrivateKey

    @property
    def kid(self) -> str:
        return key_id(self.key.public_key())


def member(hub: Any) -> Member:
    found = Member(token=hub.token("governance"), key=Ed25519PrivateKey.generate())
    response = hub.client.post("/v1/governance/keys", headers=hub.auth(found.token),
                               json={"public_key": public_key_to_b64(found.key.public_key())})
    assert response.status_code == 201, response.text
    assert response.json()["kid"] == found.kid
    return found


def submit(hub: Any, roster: Roster, *signers: Member, token: str | None = None) -> Any:
    body = {"signatures": [sign_statement(roster, m.key).model_dump(mode="json")
                           for m in signers]}
    return hub.client.post("/v1/governance/roster", headers=hub.auth(token or signers[0].token),
                           content=json.dumps(body))


def roster_of(*members: Member, quorum: int = 2, previous: Roster | None = None) -> Roster:
    return new_roster(((f"m{i}", m.key.public_key()) for i, m in enumerate(members)),
                      quorum=quorum, previous=previous)


def governed(hub: Any) -> tuple[list[Member], Roster]:
    members = [member(hub) for _ in range(3)]
    roster = roster_of(*members)
    assert submit(hub, roster, members[0], members[1]).status_code == 201
    return members, roster


def signed_review(hub: Any, request_id: str, who: Member, decision: str = "approve", *,
                  key: Ed25519PrivateKey | None = None, terms: dict | None = None) -> Any:
    if terms is None:
        got = hub.client.get(f"/v1/requests/{request_id}/project-terms",
                             headers=hub.auth(who.token))
        assert got.status_code == 200, got.text
        terms = got.json()["project_terms"]
    parsed = ProjectTerms.model_validate(terms)
    body = GovernanceDecision(project_id=request_id, decision=decision,  # type: ignore[arg-type]
                              reason="" if decision == "approve" else "disproportionate",
                              project_terms=parsed, project_digest=project_digest(parsed),
                              decided_at=dt.datetime.now(dt.UTC),
                              # An approval answers the whole review checklist as met.
                              criteria=hub.criteria() if decision == "approve" else ())
    envelope = sign_statement(body, key or who.key)
    return hub.client.post(f"/v1/requests/{request_id}/signed-reviews",
                           headers=hub.auth(who.token), content=envelope.to_json())


def error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == code


# --- roster ------------------------------------------------------------------------------------


def test_genesis_roster_accepted_and_shown_with_fingerprint(hub) -> None:
    members, roster = governed(hub)
    shown = hub.client.get("/v1/governance/roster", headers=hub.auth(members[2].token)).json()
    assert shown["fingerprint"] == show_fingerprint(roster_digest(roster))
    assert len(shown["versions"]) == 1 and len(shown["versions"][0]) == 2


def test_genesis_roster_below_its_own_quorum_refused(hub) -> None:
    members = [member(hub) for _ in range(3)]
    error(submit(hub, roster_of(*members), members[0]), 422, "roster_not_quorum")


def test_roster_update_signed_by_non_quorum_refused(hub) -> None:
    members, roster = governed(hub)
    outsider = member(hub)
    takeover = roster_of(outsider, quorum=1, previous=roster)
    error(submit(hub, takeover, members[0], outsider), 422, "roster_not_quorum")
    events = hub.client.get("/v1/audit/events?action=governance.roster_refused",
                            headers=hub.auth(hub.token("auditor"))).json()
    assert events["total"] == 1


def test_roster_update_signed_by_quorum_accepted(hub) -> None:
    members, roster = governed(hub)
    newcomer = member(hub)
    update = roster_of(members[0], members[1], newcomer, previous=roster)
    response = submit(hub, update, members[1], members[2])
    assert response.status_code == 201 and response.json()["version"] == 2


def test_admin_cannot_register_a_governance_key(hub) -> None:
    key = Ed25519PrivateKey.generate()
    response = hub.client.post("/v1/governance/keys", headers=hub.auth(hub.admin_token),
                               json={"public_key": public_key_to_b64(key.public_key())})
    assert response.status_code == 403


def test_key_registered_to_another_member_refused(hub) -> None:
    first = member(hub)
    other = hub.token("governance")
    response = hub.client.post("/v1/governance/keys", headers=hub.auth(other),
                               json={"public_key": public_key_to_b64(first.key.public_key())})
    error(response, 409, "key_taken")


# --- signed reviews ------------------------------------------------------------------------------


def _request(hub: Any) -> tuple[str, str]:
    researcher = hub.token("researcher", email="ada@uni.example")
    request_id = hub.submitted_request(researcher)
    assert hub.decide(request_id, "K12").status_code == 200
    assert hub.decide(request_id, "HE").status_code == 200
    return researcher, request_id


def test_signed_reviews_of_a_quorum_approve(hub) -> None:
    members, _ = governed(hub)
    researcher, request_id = _request(hub)
    assert signed_review(hub, request_id, members[0]).status_code == 201
    assert hub.status(request_id, researcher) == "in_review"
    assert signed_review(hub, request_id, members[2]).status_code == 201
    assert hub.status(request_id, researcher) == "approved"


def test_unsigned_approval_refused_once_a_roster_exists(hub) -> None:
    members, _ = governed(hub)
    _, request_id = _request(hub)
    error(hub.review(request_id, members[0].token), 409, "signature_required")
    # Denying or sending back removes access only: no signature needed.
    assert hub.review(request_id, members[1].token, "request_changes").status_code == 201


def test_unsigned_approval_still_counts_before_any_roster(hub) -> None:
    _, request_id = _request(hub)
    assert hub.review(request_id, hub.token("governance")).status_code == 201


def test_signed_review_with_another_members_key_refused(hub) -> None:
    members, _ = governed(hub)
    _, request_id = _request(hub)
    forged = signed_review(hub, request_id, members[0], key=members[1].key)
    error(forged, 403, "not_your_key")


def test_forged_governance_signature_refused(hub) -> None:
    members, _ = governed(hub)
    _, request_id = _request(hub)
    got = hub.client.get(f"/v1/requests/{request_id}/project-terms",
                         headers=hub.auth(members[0].token)).json()
    parsed = ProjectTerms.model_validate(got["project_terms"])
    body = GovernanceDecision(project_id=request_id, decision="approve", project_terms=parsed,
                              project_digest=project_digest(parsed),
                              decided_at=dt.datetime.now(dt.UTC))
    envelope = sign_statement(body, Ed25519PrivateKey.generate()).model_copy(
        update={"kid": members[0].kid})
    response = hub.client.post(f"/v1/requests/{request_id}/signed-reviews",
                               headers=hub.auth(members[0].token), content=envelope.to_json())
    error(response, 401, "bad_signature")


def test_signed_review_of_stale_terms_refused(hub) -> None:
    members, _ = governed(hub)
    _, request_id = _request(hub)
    got = hub.client.get(f"/v1/requests/{request_id}/project-terms",
                         headers=hub.auth(members[0].token)).json()["project_terms"]
    stale = {**got, "term_end": "2099-12-31"}
    error(signed_review(hub, request_id, members[0], terms=stale), 409, "stale_terms")


def test_signed_review_by_registered_non_member_refused(hub) -> None:
    governed(hub)
    outsider = member(hub)
    _, request_id = _request(hub)
    error(signed_review(hub, request_id, outsider), 403, "not_a_member")


# --- revocations ---------------------------------------------------------------------------------


class Nodes:
    """A node-side transport that records the revocations pushed to it."""

    def __init__(self) -> None:
        self.pushed: list[tuple[str, dict]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/governance/revocations"
        self.pushed.append((request.url.host, json.loads(request.content)))
        return httpx.Response(200, json={"recorded": True})


def _approved(hub: Any, members: list[Member]) -> str:
    researcher, request_id = _request(hub)
    for who in members[:2]:
        assert signed_review(hub, request_id, who).status_code == 201
    assert hub.status(request_id, researcher) == "approved"
    return request_id


def test_revocation_by_one_member_revokes_and_is_pushed_to_every_node(make_hub) -> None:
    hub = make_hub(allow_insecure_http=True)  # the test nodes' URLs are http://k12:8101…
    hub.enroll("K12")
    hub.enroll("HE")
    members, _ = governed(hub)
    request_id = _approved(hub, members)
    nodes = Nodes()
    hub.app.state.node_transport = httpx.MockTransport(nodes)
    body = Revocation(project_id=request_id, reason="consent withdrawn",
                      revoked_at=dt.datetime.now(dt.UTC))
    envelope = sign_statement(body, members[2].key)
    response = hub.client.post(f"/v1/requests/{request_id}/revocations",
                               headers=hub.auth(members[2].token), content=envelope.to_json())
    assert response.status_code == 200, response.text
    assert response.json()["pushed_to"] == ["HE", "K12"]
    assert sorted(host for host, _ in nodes.pushed) == ["he", "k12"]
    assert all(sent["kid"] == members[2].kid for _, sent in nodes.pushed)
    assert hub.status(request_id, members[0].token) == "revoked"
    pulled = hub.client.get("/v1/node/governance", headers=hub.auth(hub.agencies["K12"].token))
    assert pulled.status_code == 200
    assert [r["kid"] for r in pulled.json()["revocations"]] == [members[2].kid]
    assert len(pulled.json()["roster_updates"]) == 1


def test_revocation_signed_by_non_member_refused(hub) -> None:
    members, _ = governed(hub)
    request_id = _approved(hub, members)
    body = Revocation(project_id=request_id, reason="x", revoked_at=dt.datetime.now(dt.UTC))
    envelope = sign_statement(body, Ed25519PrivateKey.generate())
    response = hub.client.post(f"/v1/requests/{request_id}/revocations",
                               headers=hub.auth(members[0].token), content=envelope.to_json())
    error(response, 403, "unknown_key")
    assert hub.status(request_id, members[0].token) == "approved"
