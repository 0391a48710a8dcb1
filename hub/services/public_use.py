"""Restricted-use and public-use files (docs/public-use-files.md).

An agreement's ``file_types`` says which record-level files it authorises:

``restricted_use``
    the linked extract itself (the default): only the approved project's personnel download
    it, under the agreement's terms; it never leaves through the airlock as records.
``public_use``
    a record-level file released publicly through the airlock. It must pass the disclosure
    checks of :mod:`hub.disclosure.public_use` on **every** column, measured on the data.

:func:`protect_file` answers a researcher's file with the standard methods applied
(:mod:`hub.disclosure.public_use_methods`) and what was done, or refuses it (422
``public_use_unsafe``, with the findings) when it cannot be made safe. The hub keeps nothing
of the file; the audit log records its shape, the methods' counts and the risk before and
after — never a value — and the answer carries the airlock's own checks on the released
file (as safe tables do). :func:`check_records` is the airlock's check of a ``records``
output: returned unless the agreement authorises ``public_use`` and the file passes.
"""

from __future__ import annotations

import csv as std_csv
import io
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from hub.disclosure.outputs import OutputCheck, check_output
from hub.disclosure.public_use import RiskRules, measure
from hub.disclosure.public_use_methods import ContinuousMethod, Protection, protect
from hub.domain.classification import required_k
from hub.domain.dsa import DataSharingAgreement
from hub.domain.lifecycle import RequestStatus
from hub.domain.roles import Caller
from hub.errors import ConflictError, HubError, InvalidInputError, PermissionDeniedError
from hub.services import audit
from hub.services.classification import outputs_only, variable_levels
from hub.services.context import HubContext
from hub.services.extract_policy import is_personnel, visible_project
from hub.services.output_policy import effective_rules
from hub.services.terms import in_force_dsa
from hub.services.training import refusal_detail, require_current_training

#: The states whose personnel may prepare files: as the airlock.
OPEN_STATES = (RequestStatus.READY, RequestStatus.EXPIRED)
#: Wider files are refused: the combinations checked grow with the columns.
MAX_COLUMNS = 60


@dataclass(frozen=True)
class PublicUseFile:
    """A file made safe, and the airlock's own automatic checks run on it (``airlock.passed``:
    submitted as ``records``, it goes straight to the stewards)."""

    project_id: str
    protection: Protection
    airlock: OutputCheck


class PublicUseUnsafeError(InvalidInputError):
    """The file cannot be made safe for public use; the message lists the findings."""

    code = "public_use_unsafe"

    def __init__(self, findings: list[dict[str, str]]) -> None:
        listed = "; ".join(f"{f['check']} ({f['where']}): {f['detail']}" for f in findings)
        super().__init__(f"the file cannot be made safe for public use: {listed}")
        self.findings = findings


def rules_of(session: Session, ctx: HubContext, dsa: DataSharingAgreement) -> RiskRules:
    """The measure's rules for a project: its agreement's k (else the hub's), raised to the
    ``min_k`` of the strictest classification among its variables (docs/classification.md)."""
    base = dsa.extract.k_anonymity or ctx.settings.disclosure_k
    levels = variable_levels(session, {e.agency: list(e.variables) for e in dsa.variables})
    return RiskRules(k=required_k(ctx.settings.classification_rules, levels.values(),
                                  base_k=base))


def read_records(csv: str) -> pd.DataFrame:
    """A record-level CSV as text columns (422 ``bad_records_file`` when it is not one)."""
    try:
        frame = pd.read_csv(io.StringIO(csv), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError) as exc:
        raise InvalidInputError(f"not a readable CSV file ({type(exc).__name__})",
                                code="bad_records_file") from None
    if frame.empty or len(frame.columns) < 2:
        # Two columns as the airlock's own reading of any output (hub.disclosure.outputs).
        raise InvalidInputError("the file needs a header, at least one record and two "
                                "columns", code="bad_records_file")
    if len(frame.columns) > MAX_COLUMNS:
        raise InvalidInputError(f"the file has more than {MAX_COLUMNS} columns",
                                code="bad_records_file")
    # pandas renames a repeated header ("a" → "a.1"): read the header as sent.
    header = next(std_csv.reader(io.StringIO(csv)), [])
    if len(set(header)) != len(header) or any(not h.strip() for h in header):
        raise InvalidInputError("every column needs a distinct name", code="bad_records_file")
    return frame


def _authorised(dsa: DataSharingAgreement, project_id: str) -> None:
    if "public_use" not in dsa.file_types:
        raise PermissionDeniedError(
            f"the agreement of project {project_id} authorises only "
            f"{', '.join(dsa.file_types)} files, not public-use files",
            code="public_use_not_authorised")


def outputs_only_columns(session: Session, ctx: HubContext, dsa: DataSharingAgreement,
                         columns: list[str]) -> list[str]:
    """The file's columns that are agreement variables (``name`` or ``AGENCY.name``) whose
    classification releases them as outputs only (docs/classification.md): never in a
    record-level file. A guard on top of the measure, which trusts no name."""
    wanted: dict[str, list[str]] = {}
    for entry in dsa.variables:
        names = [n for n in entry.variables if n in columns or f"{entry.agency}.{n}" in columns]
        if names:
            wanted[entry.agency] = names
    return list(outputs_only(session, ctx, wanted))


def _shape(protection: Protection) -> dict[str, Any]:
    """What the audit log keeps: counts, method names per column — no value, no label."""
    before, after = protection.before.report(), protection.after.report()
    keep = ("sample_uniques", "special_uniques", "records_below_k", "max_risk",
            "combination_sizes_checked")
    return {"rows": before["rows"], "columns": before["columns"], "k": before["k"],
            "suppressed_cells": protection.suppressed_cells,
            "methods": {name: [m.split(":")[0] for m in done]
                        for name, done in protection.methods.items() if done},
            "before": {key: before[key] for key in keep},
            "after": {key: after[key] for key in keep}}


def protect_file(session: Session, ctx: HubContext, caller: Caller, *, project_id: str,
                 csv: str, continuous: ContinuousMethod = "recode") -> PublicUseFile:
    """Make ``csv`` safe for public use, or refuse (audited as
    ``output.public_use_protected`` / ``output.public_use_refused``)."""
    fields = {"object_type": "output", "project": project_id}
    try:
        request = visible_project(session, caller, project_id=project_id)
        if not is_personnel(request, caller.principal):
            raise PermissionDeniedError("only the project's personnel prepare its files",
                                        code="not_personnel")
        require_current_training(session, ctx, caller.principal)
        if request.status not in OPEN_STATES:
            raise ConflictError(f"project {project_id} is {request.status}; files are "
                                "prepared for ready or ended projects",
                                code="project_not_ready")
        dsa = in_force_dsa(request)
        _authorised(dsa, project_id)
        frame = read_records(csv)
        blocked = outputs_only_columns(session, ctx, dsa, [str(c) for c in frame.columns])
        if blocked:
            raise PermissionDeniedError(
                f"{', '.join(blocked)}: classified for outputs only, never records "
                "(classification_rules); leave them out of the file",
                code="record_level_not_allowed")
        protection = protect(frame, rules_of(session, ctx, dsa), continuous=continuous)
        if not protection.passed:
            raise PublicUseUnsafeError(protection.findings())
        airlock = _airlock_check(session, ctx, dsa, project_id, protection.csv())
    except HubError as exc:
        audit.refuse(session, ctx, caller, exc, action="output.public_use_refused", **fields,
                     detail=refusal_detail(exc))
    audit.record(session, ctx, caller, action="output.public_use_protected", **fields,
                 detail=_shape(protection))
    session.commit()
    return PublicUseFile(project_id=project_id, protection=protection, airlock=airlock)


def _airlock_check(session: Session, ctx: HubContext, dsa: DataSharingAgreement,
                   project_id: str, csv: str) -> OutputCheck:
    """What the airlock will find on the released file, with the same rules."""
    # Imported here: the airlock imports this module for its own records check.
    from hub.services.airlock import quasi_identifiers_of

    qis, k = quasi_identifiers_of(session, project_id)
    threshold = effective_rules(ctx.settings, dsa.outputs).min_cell
    check = check_output(csv, kind="records", threshold=threshold,
                         k=k or ctx.settings.disclosure_k, quasi_identifiers=qis)
    check_records(session, ctx, dsa, csv, check)
    return check


def check_records(session: Session, ctx: HubContext, dsa: DataSharingAgreement, csv: str,
                  result: OutputCheck) -> None:
    """The airlock's public-use check of a ``records`` output: adds findings to ``result``
    (the agreement must authorise public-use files, no column may be a variable classified
    for outputs only, and every column is measured)."""
    if "public_use" not in dsa.file_types:
        result.add("public_use_not_authorised", "agreement", "the agreement authorises no "
                   "public-use file: record-level data stays in the restricted-use extract")
        return
    try:
        frame = read_records(csv)
    except InvalidInputError as exc:
        result.add("bad_records_file", "file", str(exc))
        return
    for name in outputs_only_columns(session, ctx, dsa, [str(c) for c in frame.columns]):
        result.add("record_level_not_allowed", name, "classified for outputs only: never "
                   "released as records (docs/classification.md)")
    risk = measure(frame.astype(str), rules_of(session, ctx, dsa))
    result.summary["public_use"] = risk.report()
    for finding in risk.findings():
        result.add(finding["check"], finding["where"], finding["detail"])
