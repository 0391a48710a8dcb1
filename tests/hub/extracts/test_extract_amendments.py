"""Amendments against real agency nodes (docs/amendments.md): a node refuses a variable an
amendment adds until its own steward re-approved the new terms on the node, while an agency
whose terms did not change keeps answering under its approval in force; and during an
amendment the project's extract stays downloadable by the personnel in force only."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from typing import Any

import pytest

from agency_node.services.approvals import steward_decide
from agency_node.store.approvals import get_approval
from hub.persistence import governance as governance_store
from hub.persistence import requests as request_store
from hub.services.terms import request_project_terms
from protocol.signing import SignedEnvelope, sign
from protocol.wire import MatchRequest, ProjectScope
from tests.agency_node.conftest import register_steward

Federation = Any  # tests/hub/extracts/conftest.py
SCH_IN_FORCE = ["grade_level", "gpa", "school"]


@pytest.fixture
def fed(federation: Federation) -> Iterator[Federation]:
    federation.hub.app.state.node_transport = federation.transport()
    federation.hub.clock.offset = dt.timedelta()
    yield federation
    federation.hub.clock.offset = dt.timedelta()


def _in_force(fed: Federation, project: str) -> dict[str, Any]:
    response = fed.hub.client.get(f"/v1/requests/{project}/versions/1",
                                  headers=fed.hub.auth(fed.researcher[1]))
    assert response.status_code == 200, response.text
    return dict(response.json()["agreement"])


def _propose(fed: Federation, project: str, agreement: dict[str, Any]) -> None:
    response = fed.hub.client.post(
        f"/v1/requests/{project}/amendments", headers=fed.hub.auth(fed.researcher[1]),
        json={"kind": "amendment", "reason": "the study needs it", "agreement": agreement})
    assert response.status_code == 201, response.text


def _match(fed: Federation, project: str, agency: str) -> Any:
    """The signed match request the hub sends ``agency`` for the agreement it holds now
    (the proposal, while amending) with the governance decisions of the current round —
    what a run would send once the proposal is in force — answered by the real node."""
    ctx = fed.hub.ctx
    with ctx.session_factory() as session:
        request = request_store.get_request(session, request_id=project)
        assert request is not None
        dsa, salt = request.dsa, request.project_salt
        terms = request_project_terms(request)
        rows = governance_store.decisions(session, request_id=project, round_=request.round)
        decisions = tuple(SignedEnvelope.model_validate(r.envelope) for r in rows)
    entry = next(e for e in dsa["variables"] if e["agency"] == agency)
    message = MatchRequest(
        project_id=project, agency=agency, project_salt=salt, run_id="amend-1",
        project_terms=terms, governance=decisions,
        scope=ProjectScope(agency=agency, variables=tuple(entry["variables"]),
                           first_year=entry["first_year"], last_year=entry["last_year"],
                           term_start=dsa["term_start"], term_end=dsa["term_end"],
                           matching_authorised=True))
    envelope = sign(message, typ=MatchRequest.TYP, private_key=ctx.keys.signing)
    return fed.nodes[agency].client.post("/v1/match-requests", content=envelope.to_json())


def _steward_approves(fed: Federation, agency: str, project: str) -> None:
    node = fed.nodes[agency]
    with fed.node_hub_client(node) as client:
        steward_decide(node.runtime, client, project_id=project, decision="approve",
                       confirm=lambda _terms: True, steward_key=register_steward(node.runtime))


def test_amendment_adding_one_agency_variable_node_refuses_it_before_steward_reapproval(
        fed: Federation) -> None:
    """The issue's test: an amendment adding one agency's variable is re-approved by that
    agency's steward and governance only, keeps the project id, and the node refuses the
    new variable before that re-approval."""
    hub = fed.hub
    base = fed.agreement()
    base["variables"][0]["variables"] = SCH_IN_FORCE
    project = fed.approved_project(variables=base["variables"])
    with fed.nodes["COL"].runtime.sessions() as session:
        col_decided = get_approval(session, project_id=project).decided_at
    proposal = _in_force(fed, project)
    proposal["variables"][0]["variables"] = [*SCH_IN_FORCE, "ell"]
    _propose(fed, project, proposal)
    versions = hub.client.get(f"/v1/requests/{project}/versions",
                              headers=hub.auth(fed.governance[0])).json()
    assert versions["agencies_asked"] == ["SCH"]
    for token, key in zip(fed.governance, fed.member_keys, strict=True):
        signed = hub.signed_review(project, token, key)
        assert signed.status_code == 201, signed.text
    assert hub.status(project, fed.researcher[1]) == "amending"  # SCH has not re-approved

    refused = _match(fed, project, "SCH")
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "out_of_scope"
    assert "'ell'" in refused.json()["detail"]
    # COL's terms did not change: its approval in force answers the amended project.
    assert _match(fed, project, "COL").status_code == 200

    _steward_approves(fed, "SCH", project)
    detail = hub.client.get(f"/v1/requests/{project}", headers=hub.auth(fed.researcher[1]))
    assert (detail.json()["id"], detail.json()["status"]) == (project, "approved")
    accepted = _match(fed, project, "SCH")
    assert accepted.status_code == 200, accepted.text
    with fed.nodes["SCH"].runtime.sessions() as session:
        assert "ell" in get_approval(session, project_id=project).variables
    with fed.nodes["COL"].runtime.sessions() as session:
        assert get_approval(session, project_id=project).decided_at == col_decided
    # What a run sends from now on: the new terms and the amendment round's signatures.
    assert set(fed.pids(project)) == {"SCH", "COL"}


def test_extract_downloadable_only_by_in_force_personnel_while_amending(
        fed: Federation) -> None:
    hub = fed.hub
    tag = secrets.token_hex(3)
    staying, joining = f"dee-{tag}@uni.example", f"eve-{tag}@uni.example"
    dee = hub.token("researcher", email=staying)
    eve = hub.token("researcher", email=joining)
    person = {"name": "Dee", "role": "RA", "institution": "U", "email": staying}
    project, _, _ = fed.ready_project(personnel=[
        {"name": "Dr Ada", "role": "PI", "institution": "U", "email": "ada@uni.example"},
        person])
    extract = fed.api_extract(project)
    proposal = _in_force(fed, project)
    proposal["personnel"] = [proposal["personnel"][0],
                             {**person, "name": "Eve", "email": joining}]
    _propose(fed, project, proposal)

    def download(token: str) -> int:
        return int(hub.client.get(f"/v1/extracts/{extract['id']}/download",
                                  headers=hub.auth(token)).status_code)

    assert download(dee) == 200  # in force: keeps access while the proposal is reviewed
    assert download(eve) == 404  # proposed only: nothing until it is approved
    assert download(fed.researcher[1]) == 200
    for agency in ("SCH", "COL"):  # personnel are in every agency's terms
        _steward_approves(fed, agency, project)
    for token, key in zip(fed.governance, fed.member_keys, strict=True):
        assert hub.signed_review(project, token, key).status_code == 201
    assert hub.status(project, fed.researcher[1]) == "ready"
    assert download(eve) == 200
    assert download(dee) == 404
