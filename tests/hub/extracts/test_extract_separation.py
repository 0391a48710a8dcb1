"""Separation of duties end to end, with real nodes: the hub API / linkage role asks for an
extract, only the assembly role can open what the nodes send, the nodes refuse to seal to
the linkage role's key, and each role's signing key is accepted only on its own requests."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from agency_node.store.models import AuditEvent
from hub.errors import ConfigError, ExtractBuildError
from hub.extracts.payloads import SentRequest, read_payload
from hub.persistence import audit as audit_store
from hub.persistence import requests as request_store
from hub.services.terms import agency_terms
from protocol.keyfiles import key_id
from protocol.signing import sign
from protocol.wire import ExtractRequest, ExtractTermsOptions

Federation = Any  # tests/hub/extracts/conftest.py


def _ask_sch(fed: Federation, project: str, run_id: str, pids: dict[str, dict[str, int]],
             recipient_kid: str, signer: Any = None) -> tuple[ExtractRequest, Any, Any]:
    ctx = fed.hub.ctx
    with ctx.session_factory() as session:  # the options the SCH steward signed
        terms = agency_terms(request_store.get_request(session, request_id=project), "SCH")
    request = ExtractRequest(
        project_id=project, agency="SCH", run_id=run_id, variables=("grade_level",),
        first_year=2019, last_year=2020, recipient_kid=recipient_kid,
        assignments=tuple((pid, f"{n:026d}") for n, pid in enumerate(sorted(pids["SCH"]))),
        extract=ExtractTermsOptions.model_validate(terms["extract"]))
    envelope = sign(request, typ=ExtractRequest.TYP,
                    private_key=signer or fed.hub.assembly_signing, now=ctx.now_ts())
    answer = fed.nodes["SCH"].client.post("/v1/extracts", content=envelope.to_json())
    return request, envelope, answer


def test_the_api_queues_and_the_assembler_builds_the_extract(federation: Federation) -> None:
    project, _, _ = federation.ready_project()
    extract = federation.api_extract(project)
    assert extract["status"] == "available" and extract["persons"] == 10
    with federation.hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, project=project,
                                              action="extract.built")
    assert [e.actor for e in events] == ["assembler"]


def test_the_linkage_role_cannot_open_a_node_payload(federation: Federation) -> None:
    project, run_id, pids = federation.ready_project()
    hub = federation.hub
    request, envelope, answer = _ask_sch(federation, project, run_id, pids,
                                         key_id(hub.assembly_key.public_key()))
    assert answer.status_code == 200, answer.text
    node_key = federation.nodes["SCH"].runtime.settings.dir
    from agency_node.keys import load_signing_key

    public = load_signing_key(node_key).public_key()
    sent = SentRequest(request=request, nonce=envelope.nonce,
                       node_keyring={key_id(public): public}, now=hub.ctx.now_ts(),
                       max_ttl=300)
    run_pids = {pid for mapping in pids.values() for pid in mapping}
    with pytest.raises(ExtractBuildError) as refused:
        read_payload(answer.json(), sent, hub.ctx.keys.hpke, run_pids=run_pids)
    assert refused.value.code == "payload_undecryptable"
    table = read_payload(answer.json(), sent, hub.assembly_key, run_pids=run_pids)
    assert table.num_rows > 0


def test_nodes_refuse_to_seal_to_the_linkage_role_key(federation: Federation) -> None:
    project, run_id, pids = federation.ready_project()
    _, _, answer = _ask_sch(federation, project, run_id, pids, federation.hub.ctx.keys.hpke_kid)
    assert (answer.status_code, answer.json()["error"]) == (403, "linkage_key_recipient")


def test_nodes_refuse_an_extract_request_signed_by_the_linkage_role(
        federation: Federation) -> None:
    """The hub signing key (API, linkage workers) may sign match requests only: even
    naming the assembly key as recipient, its extract request is refused and audited."""
    project, run_id, pids = federation.ready_project()
    hub = federation.hub
    _, _, answer = _ask_sch(federation, project, run_id, pids,
                            key_id(hub.assembly_key.public_key()), signer=hub.ctx.keys.signing)
    assert (answer.status_code, answer.json()["error"]) == (403, "wrong_signer")
    assert hub.ctx.keys.signing_kid in answer.json()["detail"]
    runtime = federation.nodes["SCH"].runtime
    with runtime.sessions() as session:
        refused = session.scalars(select(AuditEvent).where(
            AuditEvent.reason == "wrong_signer")).all()
    assert [(e.actor, e.outcome) for e in refused] == [(hub.ctx.keys.signing_kid, "refused")]


def test_the_assembler_context_holds_no_hub_key(federation: Federation) -> None:
    """The assembler signs with its own key and cannot sign a match request: its hub
    context carries none of the hub's private keys."""
    actx = federation.hub.assembler()
    assert actx.hub.hub_keys is None
    assert actx.signing_kid != federation.hub.ctx.keys.signing_kid
    with pytest.raises(ConfigError, match="holds no hub key"):
        _ = actx.hub.keys
