"""Extract requests: the approved variables of linked records, sealed to the assembly role.

Beyond :func:`~agency_node.services.gate.admit`: the variables and years must be inside
the approval, the payload is sealed only to the **assembly key pinned at enrollment** —
never to the hub's linkage-role HPKE key, whatever the signed request names (separation of
duties, docs/extracts.md: whatever holds the encodings during linkage must not be able to
open attribute payloads) — and every
pseudonymous id must be one this node issued for this project in a match response. The
plaintext is an Arrow IPC stream of ``person_id`` (the hub's fresh project person id),
``period`` (the row's normalised period, when the mapping has a period column) and the
requested variables for the rows in the requested years — never an identity field, never
a local record or person id, never a pid.

A pid that is an agency person's pseudonym (the match stream sends one unit per person,
``services/match_units.py``) stands for **every** row of that person in the requested
years, one payload row per row (person × period), each under the hub's person id; the
person is found through the remembered record's person id, so nothing new is stored.
Any other pid (a row without a person id, or a record pid issued before persons were
mapped) stands for its one record, as before.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from agency_node.config import NodeConfig
from agency_node.errors import RefusedError
from agency_node.ingest.periods import period_sort_key
from agency_node.services import egress, governance, scope
from agency_node.services.context import NodeServices
from agency_node.services.extract_options import require_signed_options
from agency_node.services.gate import ReceivedBody, admit
from agency_node.store.models import Approval, Record
from agency_node.store.records import records_for_pids, records_of_persons
from protocol.keyfiles import key_id
from protocol.keys import person_pseudonymous_ids, pseudonymous_ids
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
            if name == "person_id":
                raise RefusedError("out_of_scope", "variable 'person_id' has the name of the "
                                   "hub's person id column; rename it in node.toml")

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
    config: NodeConfig, request: ExtractRequest, rows: list[tuple[str, Record]]
) -> pa.Table:
    columns = {"person_id": pa.array([person for person, _ in rows], type=pa.string())}
    # A variable named ``period`` is asked for by name: the column is then that variable
    # (as the hub reads a payload, hub/extracts/payloads.py).
    if config.mapping.period_column and "period" not in request.variables:
        columns["period"] = pa.array([r.period for _, r in rows], type=pa.string())
    for name in request.variables:
        type_ = config.variables[name].type
        columns[name] = _column([r.attributes.get(name) for _, r in rows], type_)
    return pa.table(columns)


def _chronological(record: Record) -> tuple[Any, ...]:
    period = period_sort_key(record.period) if record.period else (0, 0, "")
    return (record.year or 0, period, record.id)


def _outgoing_rows(
    services: NodeServices, request: ExtractRequest, found: dict[str, Record],
    years: range | None,
) -> list[tuple[str, Record]]:
    """(hub person id, record) for every payload row, in assignment order; a person's
    rows in period order. A pid that is neither its record's pid nor the pid of that
    record's person (the record was re-ingested under another person id since the pid
    was issued) stands for nothing now: it gives no row."""
    persons = sorted({r.person_id for r in found.values() if r.person_id})
    person_pid = dict(zip(persons, person_pseudonymous_ids(
        services.pseudonym_key, request.project_id, persons), strict=True))
    record_pid = dict(zip(found.values(), pseudonymous_ids(
        services.pseudonym_key, request.project_id, [r.record_id for r in found.values()]),
        strict=True))

    def person_of(pid: str) -> str | None:
        # A pid stands for a person only when it *is* that person's pseudonym.
        person = found[pid].person_id
        return person if person and person_pid[person] == pid else None

    wanted = {p for pid, _ in request.assignments if (p := person_of(pid))}
    with services.runtime.sessions() as session:
        rows_of = records_of_persons(session, person_ids=wanted, years=years)
    out: list[tuple[str, Record]] = []
    for pid, hub_person in request.assignments:
        person = person_of(pid)
        if person is not None:
            out += [(hub_person, r) for r in sorted(rows_of.get(person, []), key=_chronological)]
        elif record_pid[found[pid]] == pid and (years is None or found[pid].year in years):
            out.append((hub_person, found[pid]))
    return out


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
    mapping = services.runtime.settings.node.mapping
    # A period column dates the rows when no year column does (ingest).
    has_years = bool(mapping.year_column or mapping.period_column)
    years = range(request.first_year, request.last_year + 1) if has_years else None
    rows = _outgoing_rows(services, request, found, years)
    sink = io.BytesIO()
    table = _extract_table(services.runtime.settings.node, request, rows)
    # Last check before anything is sealed: no value may be the record's own identifier.
    egress.guard(services, actor=admitted.actor, request=request, table=table,
                 records=[record for _, record in rows])
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
