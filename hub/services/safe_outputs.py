"""Automatic safe outputs (docs/safe-outputs.md): a project's table of counts back with
primary and complementary suppression and rounding applied per its policy, ready for the
airlock (:mod:`hub.services.airlock`).

The same people and the same rule as submitting to the airlock: the project's personnel,
of a ``ready`` or ended project, each with a current completion of the hub's required
training (403 ``training_required``). The hub keeps nothing of the table: it protects it
and answers. The audit log records the shape, the rules and how many cells were suppressed
(and, for a table built from the extract, the variables it was grouped by) — never a cell's
value or a label. :func:`submit_protected` protects the table again and submits the
protected one to the airlock, so what reaches the stewards is what the policy produced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import OutputSubmission
from hub.disclosure.outputs import OutputCheck, check_output
from hub.disclosure.safe_tables import ProtectedTable, TableError, parse_counts, protect
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import Caller
from hub.errors import ConflictError, HubError, InvalidInputError, PermissionDeniedError
from hub.services import airlock, audit
from hub.services.context import HubContext
from hub.services.extract_policy import is_personnel, visible_project
from hub.services.output_policy import OutputRules, effective_rules
from hub.services.terms import in_force_dsa
from hub.services.training import refusal_detail, require_current_training

#: The states whose personnel may protect tables: as the airlock (data to make tables of).
OPEN_STATES = (RequestStatus.READY, RequestStatus.EXPIRED)


@dataclass(frozen=True)
class SafeTable:
    """A protected table, the rules it was protected with, and the airlock's own automatic
    checks run on it (``airlock.passed``: it would go straight to the stewards)."""

    project_id: str
    rules: OutputRules
    table: ProtectedTable
    airlock: OutputCheck
    had_margins: bool

    @property
    def csv(self) -> str:
        return self.table.csv()


def _project_rules(session: Session, ctx: HubContext, caller: Caller,
                   project_id: str) -> OutputRules:
    """The project's rules, after every check of who may protect its tables."""
    request = visible_project(session, caller, project_id=project_id)
    if not is_personnel(request, caller.principal):
        raise PermissionDeniedError("only the project's personnel protect its tables",
                                    code="not_personnel")
    require_current_training(session, ctx, caller.principal)
    if request.status not in OPEN_STATES:
        raise ConflictError(f"project {project_id} is {request.status}; tables are "
                            "protected for ready or ended projects", code="project_not_ready")
    return effective_rules(ctx.settings, in_force_dsa(request).outputs)


def _protect(ctx: HubContext, rules: OutputRules, csv: str, project_id: str) -> SafeTable:
    try:
        counts = parse_counts(csv, max_cells=ctx.settings.safe_output_max_cells)
    except TableError as exc:
        raise InvalidInputError(str(exc), code=exc.code) from None
    table = protect(counts, min_cell=rules.min_cell, rounding_base=rules.rounding_base,
                    suppress_zeros=rules.suppress_zeros)
    # The airlock's own check, with the threshold the airlock applies to this project.
    check = check_output(table.csv(), kind="frequency", threshold=rules.min_cell)
    return SafeTable(project_id=project_id, rules=rules, table=table, airlock=check,
                     had_margins=counts.had_margins)


def _shape(safe: SafeTable, group_by: dict[str, Any] | None) -> dict[str, Any]:
    """What the audit log keeps of a protected table: no value, no label."""
    table = safe.table
    detail: dict[str, Any] = {
        "rows": len(table.row_labels) - 1, "columns": len(table.column_labels) - (
            0 if table.one_way else 1),
        "primary": table.count("primary"), "complementary": table.count("complementary"),
        "min_cell": safe.rules.min_cell, "rounding_base": safe.rules.rounding_base,
        "suppress_zeros": safe.rules.suppress_zeros, "airlock_passed": safe.airlock.passed}
    if group_by:
        detail["group_by"] = group_by
    return detail


def protect_table(session: Session, ctx: HubContext, caller: Caller, *, project_id: str,
                  csv: str, group_by: dict[str, Any] | None = None) -> SafeTable:
    """Protect one table of counts for ``project_id`` (audited as ``output.protected``;
    refusals as ``output.protect_refused``)."""
    fields = {"object_type": "output", "project": project_id}
    try:
        rules = _project_rules(session, ctx, caller, project_id)
        safe = _protect(ctx, rules, csv, project_id)
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="output.protect_refused", **fields,
                     detail=refusal_detail(exc))
    audit.record(session, ctx, caller, action="output.protected", **fields,
                 detail=_shape(safe, group_by))
    session.commit()
    return safe


def submit_protected(session: Session, ctx: HubContext, caller: Caller, *, project_id: str,
                     csv: str, name: str, description: str = "",
                     group_by: dict[str, Any] | None = None) -> OutputSubmission:
    """Protect the table and submit the protected one to the airlock (its own checks,
    status and audit events apply)."""
    safe = protect_table(session, ctx, caller, project_id=project_id, csv=csv,
                         group_by=group_by)
    return airlock.submit_output(session, ctx, caller, project_id=project_id, name=name,
                                 description=description, kind="frequency", csv=safe.csv)
