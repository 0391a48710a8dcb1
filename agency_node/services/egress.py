"""The node-side egress guard: nothing identifying is sealed into an extract payload.

Independent of the hub (which checks variable *names*): just before an extract payload is
sealed, :func:`guard` scans the outgoing table with
:func:`agency_node.services.egress_rules.scan` — each value against the same record's
own identity values, and against identifier patterns. A finding refuses the **whole**
payload: a node audit event ``refused``/``egress_identifier`` names each variable (or the
hub's ``person_id`` column, checked for the node's own record and person ids), the
kind of identifier and how many rows matched (never a value), and the hub gets a
:class:`~agency_node.errors.RefusedError` ``egress_identifier`` (403), which fails the
extract with that code (``hub/services/extract_nodes.py`` keeps a node's refusal code).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from agency_node.errors import RefusedError
from agency_node.runtime import NodeRuntime
from agency_node.services.context import NodeServices
from agency_node.services.egress_rules import (
    Finding,
    agency_id_forms,
    person_identities,
    record_identity,
    scan,
    scan_agency_ids,
)
from agency_node.store.audit import events_with_reason
from agency_node.store.models import Record
from protocol.wire import ExtractRequest

#: The refusal code the hub and the audit log see.
EGRESS_CODE = "egress_identifier"

_KIND_LABELS = {
    "name": "the record's own first, middle or last name",
    "full_name": "the record's own first and last name",
    "dob": "the record's own birth date",
    "ssn": "the record's own SSN",
    "ssn_last4": "the last four digits of the record's own SSN",
    "postal_code": "the record's own ZIP code",
    "street_address": "the record's own street address",
    "ssn_pattern": "an SSN-shaped value",
    "email_pattern": "an e-mail address",
    "phone_pattern": "a phone number",
    "zip4_pattern": "a ZIP+4 code",
    "date_pattern": "a date in a variable not declared as a date",
    "agency_id": "a local record id or agency person id of the payload's rows",
}


def describe(findings: Sequence[Finding], rows: int) -> str:
    """One sentence per finding: variable, kind, row count — never a value."""
    parts = [f"variable {f.variable!r} holds {_KIND_LABELS.get(f.kind, f.kind)} in "
             f"{f.rows} of {rows} rows" for f in findings]
    return "; ".join(parts)


def guard(services: NodeServices, *, actor: str, request: ExtractRequest, table: pa.Table,
          records: Sequence[Record]) -> None:
    """Refuse (and audit) the payload ``table`` — one row per entry of ``records`` — if
    any requested variable carries an identifier, or any column (the hub's ``person_id``
    too) a local record id or agency person id; return quietly otherwise."""
    config = services.runtime.settings.node
    types = {name: config.variables[name].type for name in request.variables}
    identities = person_identities(
        [record_identity(r.identity or {}, r.raw_identity or {}) for r in records],
        [r.person_id for r in records])
    findings = scan(table, identities, types, request.variables)
    findings += _agency_ids(table, records, types)
    if not findings:
        return
    services.runtime.audit.append(
        actor=actor, typ=ExtractRequest.TYP, project_id=request.project_id,
        outcome="refused", reason=EGRESS_CODE, now=services.now(),
        details={"run_id": request.run_id, "rows": table.num_rows,
                 "findings": [{"variable": f.variable, "kind": f.kind, "rows": f.rows}
                              for f in findings]},
    )
    raise RefusedError(
        EGRESS_CODE,
        "the node's egress guard refused the extract payload: "
        f"{describe(findings, table.num_rows)}. Nothing was sent; the agency steward must "
        "remove or remap the variable (node audit event egress_identifier)",
    )


def _agency_ids(table: pa.Table, records: Sequence[Record],
                types: Mapping[str, str]) -> list[Finding]:
    """The node's own ids in the payload: a row's own record or person id in any column
    but dates and booleans; any row's in the hub's person id and in string variables
    (a number may equal another row's numeric id by chance; a text rarely does)."""
    own = [agency_id_forms(r.record_id) | agency_id_forms(r.person_id) for r in records]
    names = ["person_id", *(n for n, t in types.items() if t not in ("date", "boolean"))]
    columns = {name: table.column(name).to_pylist() for name in names}
    anywhere = {"person_id", *(n for n, t in types.items() if t == "string")}
    return scan_agency_ids(columns, own, anywhere=anywhere)


def refusals(runtime: NodeRuntime, *, limit: int = 50) -> list[dict[str, Any]]:
    """The latest egress refusals from the node's audit log, for the steward
    (``fedlink node egress``): when, project, run and the findings — never a value."""
    with runtime.sessions() as session:
        events = events_with_reason(session, reason=EGRESS_CODE, limit=limit)
        return [{"at": e.at, "project_id": e.project_id,
                 "run_id": (e.details or {}).get("run_id", ""),
                 "rows": (e.details or {}).get("rows", 0),
                 "findings": list((e.details or {}).get("findings", []))} for e in events]
