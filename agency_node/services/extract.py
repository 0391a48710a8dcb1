"""Extract requests: the approved variables of linked records, sealed to the assembly role.

Beyond :func:`~agency_node.services.gate.admit`: the variables and years must be inside
the approval, the payload is sealed only to the **assembly key pinned at enrollment** —
never to the hub's linkage-role HPKE key, whatever the signed request names (separation of
duties, docs/extracts.md: whatever holds the encodings during linkage must not be able to
open attribute payloads) — and every
pseudonymous id must be one this node issued for this project in a match response. The
plaintext is an Arrow IPC stream of ``person_id`` (the hub's fresh project person id) plus
the requested variables for the records in the requested years — never an identity field,
never a local record id or a pid.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from agency_node.config import NodeConfig
from agency_node.errors import RefusedError
from agency_node.services import egress, governance, scope
from agency_node.services.context import NodeServices
from agency_node.services.extract_options import require_signed_options
from agency_node.services.gate import ReceivedBody, admit
from agency_node.store.models import Approval
from agency_node.store.records import records_for_pids
from protocol.keyfiles import key_id
from protocol.payload import seal_payload
from protocol.signing import sign
from protocol.wire import (
    EXTRACT_PURPOSE,
    ExtractPayloadHeader,
    ExtractRequest,
    ExtractResponse,
    extract_payload_context,
)

_ARROW_TYPES = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
                "boolean": pa.bool_(), "date": pa.date32()}


def _check(services: NodeServices) -> Callable[[ExtractRequest, Approval], None]:
    def check(request: ExtractRequest, approval: Approval) -> None:
        scope.require_variables(approval, request.variables)
        scope.require_years(approval, request.first_year, request.last_year)
        # The quorum verified when this node answered the match request must still hold
        # under the current roster (services/governance.py).
        governance.require_stored_governance(
            services.runtime, project_id=request.project_id,
            required=services.runtime.settings.governance_required)
        _require_assembly_recipient(services, request.recipient_kid)
        require_signed_options(approval, request)  # k, unmatched, policy: as signed
        known = set(services.runtime.settings.node.variables)
        for name in request.variables:
            if name not in known:
                raise RefusedError("out_of_scope", f"variable {name!r} is not offered here")

    return check


def _require_assembly_recipient(services: NodeServices, recipient_kid: str) -> None:
    if recipient_kid == key_id(services.hub_hpke_key):
        raise RefusedError(
            "linkage_key_recipient",
            "extracts are never sealed to the hub's linkage key; only to the assembly key "
            "pinned at enrollment",
        )
    if services.assembly_key is None:
        raise RefusedError(
            "no_assembly_key",
            "no assembly key was pinned at enrollment; re-enroll with a hub whose assembler "
            "is set up (`fedlink hub assembler init`)",
        )
    pinned = key_id(services.assembly_key)
    if recipient_kid != pinned:
        raise RefusedError(
            "unknown_recipient", f"extracts are sealed only to the pinned assembly key {pinned}"
        )


def _column(values: list[Any], type_: str) -> pa.Array:
    if type_ == "date":
        values = [None if v is None else dt.date.fromisoformat(v) for v in values]
    return pa.array(values, type=_ARROW_TYPES[type_])


def _extract_table(
    config: NodeConfig, request: ExtractRequest, rows: list[tuple[str, dict[str, Any]]]
) -> pa.Table:
    columns = {"person_id": pa.array([person for person, _ in rows], type=pa.string())}
    for name in request.variables:
        type_ = config.variables[name].type
        columns[name] = _column([attrs.get(name) for _, attrs in rows], type_)
    return pa.table(columns)


def answer_extract(services: NodeServices, body: ReceivedBody) -> dict[str, Any]:
    """The ExtractResponse for a verified, approved extract request, as a JSON envelope
    signed by the node key and quoting the request's nonce."""
    admitted = admit(services, body, ExtractRequest, check=_check(services))
    request = admitted.request
    audit = services.runtime.audit
    pids = [pid for pid, _ in request.assignments]
    with services.runtime.sessions() as session:
        found = records_for_pids(session, project_id=request.project_id, pids=pids)
    unknown = len(pids) - len(found)
    if unknown:
        audit.append(actor=admitted.actor, typ=ExtractRequest.TYP, project_id=request.project_id,
                     outcome="refused", reason="unknown_pid", now=services.now(),
                     details={"run_id": request.run_id, "unknown_pids": unknown})
        raise RefusedError(
            "unknown_pid",
            f"{unknown} of {len(pids)} pseudonymous ids were not issued by this node for "
            f"project {request.project_id}",
        )
    years = range(request.first_year, request.last_year + 1)
    has_years = bool(services.runtime.settings.node.mapping.year_column)
    kept = [
        (person_id, found[pid])
        for pid, person_id in request.assignments
        if not has_years or found[pid].year in years
    ]
    rows = [(person_id, record.attributes) for person_id, record in kept]
    sink = io.BytesIO()
    table = _extract_table(services.runtime.settings.node, request, rows)
    # Last check before anything is sealed: no value may be the record's own identifier.
    egress.guard(services, actor=admitted.actor, request=request, table=table,
                 records=[record for _, record in kept])
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    context = extract_payload_context(request.project_id, request.agency, request.run_id)
    assert services.assembly_key is not None  # checked on admission
    sealed = seal_payload(sink.getvalue(), services.assembly_key, purpose=EXTRACT_PURPOSE,
                          **context)
    header = ExtractPayloadHeader(
        project_id=request.project_id, agency=request.agency, run_id=request.run_id,
        rows=len(rows), variables=request.variables, sha256=sealed.sha256,
    )
    response = ExtractResponse(request_nonce=admitted.envelope.nonce, header=header,
                               payload=sealed)
    signed = sign(response, typ=ExtractResponse.TYP, private_key=services.signing_key,
                  now=int(services.clock()))
    audit.append(
        actor=admitted.actor, typ=ExtractRequest.TYP, project_id=request.project_id,
        outcome="answered", now=services.now(),
        details={"run_id": request.run_id, "requested": len(pids), "rows": len(rows),
                 "variables": list(request.variables), "sha256": sealed.sha256},
    )
    return signed.model_dump(mode="json")
