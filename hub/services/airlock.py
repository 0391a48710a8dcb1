"""Output checking (the airlock): researchers' tables out, only with the stewards' release.

1. The project's personnel submit an output table (CSV) of a ``ready`` or ended (not
   revoked) project. The automatic checks of :mod:`hub.disclosure.outputs` run at once
   with the hub's ``disclosure_min_cell`` threshold (or the project's stricter
   ``outputs.min_cell``, docs/safe-outputs.md) and the project's k on the catalog's
   declared quasi-identifiers. Failing checks return it to the researcher straight away
   (``returned``, with the findings); passing ones wait for the stewards
   (``pending_review``). A ``records`` output is a public-use file: returned unless the
   agreement's ``file_types`` authorise ``public_use`` and every column passes the measure
   of :mod:`hub.services.public_use` (docs/public-use-files.md).
2. Each agency whose data the project uses reviews once through its steward: ``release``,
   or ``return`` with comments. One return returns it; release by every agency releases it.
3. Released outputs are public: listed on the project's public entry and downloadable at
   ``GET /v1/public/outputs/{id}`` without login. Everything is audited.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy.orm import Session

from hub.db.models import OutputSubmission
from hub.disclosure.outputs import OutputFormatError, OutputKind, check_output
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import Caller, Role
from hub.errors import (
    ConflictError,
    HubError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from hub.persistence import agencies as agency_store
from hub.persistence import outputs as store
from hub.persistence import requests as request_store
from hub.services import audit, public_use
from hub.services.context import HubContext
from hub.services.extract_policy import is_personnel, may_see, visible_project
from hub.services.output_policy import effective_rules
from hub.services.terms import in_force_dsa
from hub.services.training import refusal_detail, require_current_training

S = RequestStatus


def quasi_identifiers_of(session: Session, project_id: str) -> tuple[list[str], int | None]:
    """The catalog's declared quasi-identifiers among the project's variables (bare and
    ``AGENCY.name``) and its agreement's k (also used by :mod:`hub.services.public_use`)."""
    request = request_store.get_request(session, request_id=project_id)
    assert request is not None
    dsa = in_force_dsa(request)
    names = []
    for entry in dsa.variables:
        flagged = {v.name for v in agency_store.catalog(session, agency_code=entry.agency)
                   if v.quasi_identifier}
        names += [n for n in entry.variables if n in flagged]
        names += [f"{entry.agency}.{n}" for n in entry.variables if n in flagged]
    return names, dsa.extract.k_anonymity


def submit_output(session: Session, ctx: HubContext, caller: Caller, *, project_id: str,
                  name: str, description: str, kind: OutputKind, csv: str,
                  count_column: str = "n") -> OutputSubmission:
    fields = {"object_type": "output", "project": project_id}
    try:
        request = visible_project(session, caller, project_id=project_id)
        if not is_personnel(request, caller.principal):
            raise PermissionDeniedError("only the project's personnel submit outputs",
                                        code="not_personnel")
        require_current_training(session, ctx, caller.principal)
        if request.status not in (S.READY, S.EXPIRED):
            raise ConflictError(f"project {project_id} is {request.status}; outputs are "
                                "checked for ready or ended projects", code="project_not_ready")
        qis, k = quasi_identifiers_of(session, project_id)
        try:
            # The project's own threshold when its agreement tightens the hub's
            # (docs/safe-outputs.md): a table sent here directly meets the same rule.
            threshold = effective_rules(ctx.settings, in_force_dsa(request).outputs).min_cell
            result = check_output(csv, kind=kind, threshold=threshold,
                                  k=k or ctx.settings.disclosure_k, quasi_identifiers=qis,
                                  count_column=count_column)
        except OutputFormatError as exc:
            raise InvalidInputError(str(exc), code="bad_output_table") from None
        if kind == "records":
            # Released records are a public-use file: only when the agreement says so, and
            # measured on every column, never only the declared quasi-identifiers.
            public_use.check_records(session, ctx, in_force_dsa(request), csv, result)
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="output.refused", **fields,
                     detail=refusal_detail(exc))
    assert caller.principal is not None and caller.principal.id is not None
    output = store.create_output(session, values={
        "id": f"out-{secrets.token_hex(6)}", "project_id": project_id,
        "submitted_by": caller.principal.id, "name": name, "description": description,
        "kind": kind, "content": csv, "sha256": hashlib.sha256(csv.encode()).hexdigest(),
        "checks": result.as_dict(), "created_at": ctx.now(),
        "status": "pending_review" if result.passed else "returned",
        "decided_at": None if result.passed else ctx.now(),
    })
    audit.record(session, ctx, caller, action="output.submitted", object_id=output.id,
                 detail={"kind": kind, "status": output.status, "findings": len(
                     result.findings), "sha256": output.sha256}, **fields)
    session.commit()
    return output


def visible_output(session: Session, caller: Caller, *, output_id: str,
                   lock: bool = False) -> OutputSubmission:
    output = store.get_output(session, output_id=output_id, lock=lock)
    request = (request_store.get_request(session, request_id=output.project_id)
               if output is not None else None)
    if output is None or request is None or not may_see(request, caller.principal):
        raise NotFoundError(f"output {output_id} does not exist")
    return output


def list_outputs(session: Session, ctx: HubContext, caller: Caller) -> list[OutputSubmission]:
    requests = {r.id: r for r in request_store.list_requests(session)}
    rows = [o for o in store.list_outputs(session)
            if o.project_id in requests and may_see(requests[o.project_id], caller.principal)]
    audit.record(session, ctx, caller, action="output.listed", object_type="output",
                 detail={"count": len(rows)})
    session.commit()
    return rows


def review_output(session: Session, ctx: HubContext, caller: Caller, *, output_id: str,
                  decision: str, comments: str = "") -> OutputSubmission:
    principal = caller.principal
    fields = {"object_type": "output", "object_id": output_id}
    try:
        output = visible_output(session, caller, output_id=output_id, lock=True)
        fields["project"] = output.project_id
        request = request_store.get_request(session, request_id=output.project_id)
        assert request is not None
        agencies = set(in_force_dsa(request).agencies)
        agency = principal.agency if principal is not None else None
        if principal is None or principal.role != Role.STEWARD or agency not in agencies:
            raise PermissionDeniedError("only a steward of one of the project's agencies "
                                        "reviews its outputs", code="not_steward")
        if decision == "return" and not comments.strip():
            raise InvalidInputError("returning an output needs comments")
        if output.status != "pending_review":
            raise ConflictError(f"the output is {output.status}", code="not_pending")
        if any(r.agency_code == agency for r in store.reviews(session, output_id=output_id)):
            raise ConflictError(f"agency {agency} already reviewed this output",
                                code="already_reviewed")
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="output.review_refused", **fields)
    assert principal is not None and principal.id is not None and agency is not None
    store.add_review(session, output_id=output_id, agency_code=agency, steward_id=principal.id,
                     decision=decision, comments=comments, now=ctx.now())
    released = {r.agency_code for r in store.reviews(session, output_id=output_id)
                if r.decision == "release"}
    if decision == "return":
        output.status, output.decided_at = "returned", ctx.now()
    elif released >= agencies:
        output.status, output.decided_at = "released", ctx.now()
    audit.record(session, ctx, caller, action="output.reviewed", agency=agency,
                 detail={"decision": decision, "status": output.status}, **fields)
    session.commit()
    return output


def reviews_of(session: Session, *, output_id: str) -> list[dict[str, str]]:
    return [{"agency": r.agency_code, "decision": r.decision, "comments": r.comments,
             "at": r.created_at.isoformat()} for r in store.reviews(session, output_id=output_id)]


def released_outputs(session: Session, *, project_id: str) -> list[dict[str, str | None]]:
    """The project's released outputs, for its public entry (no names, no comments)."""
    return [{"id": o.id, "name": o.name, "description": o.description, "kind": o.kind,
             "sha256": o.sha256, "released_at": o.decided_at.date().isoformat()
             if o.decided_at else None}
            for o in store.list_outputs(session, project_ids=[project_id],
                                        statuses=["released"])]


def public_output(session: Session, *, output_id: str) -> OutputSubmission:
    output = store.get_output(session, output_id=output_id)
    if output is None or output.status != "released":
        raise NotFoundError(f"output {output_id} does not exist")
    return output


def get_output(session: Session, ctx: HubContext, caller: Caller, *,
               output_id: str) -> OutputSubmission:
    try:
        output = visible_output(session, caller, output_id=output_id)
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="output.view_refused",
                     object_type="output", object_id=output_id)
    audit.record(session, ctx, caller, action="output.viewed", object_type="output",
                 object_id=output_id, project=output.project_id)
    session.commit()
    return output
