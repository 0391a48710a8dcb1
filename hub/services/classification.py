"""Protection that follows classification, where the hub enforces it (docs/classification.md).

* :func:`require_record_level` — a record-level extract never holds a variable whose
  level's rule says ``record_level_download = false`` (by default ``restricted``: outputs
  only). Building and downloading such an extract is refused with 403
  ``record_level_not_allowed``, naming the variables; the callers audit the refusal. The
  classification is read from the hub's catalog *now*, so a variable the steward
  reclassified after the extract was built cannot be downloaded either, and a variable the
  catalog no longer has counts as ``restricted``.
* :func:`extract_protection` — the k, and the l-diversity / t-closeness of sensitive
  variables, an extract is built with (the strictest level among its variables).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from hub.db.models import Request
from hub.domain.classification import Protection, protection
from hub.errors import PermissionDeniedError
from hub.persistence import agencies as agency_store
from hub.services.context import HubContext
from hub.services.terms import in_force_dsa


def variable_levels(session: Session, variables: Mapping[str, Sequence[str]]
                    ) -> dict[str, str]:
    """``AGENCY.name`` → its classification in the catalog (``restricted`` when the catalog
    does not have it: as strict as possible)."""
    levels = {}
    for agency, names in variables.items():
        known = {v.name: v.classification
                 for v in agency_store.catalog(session, agency_code=agency)}
        for name in names:
            levels[f"{agency}.{name}"] = known.get(name, "restricted")
    return levels


def project_variables(request: Request,
                      wanted: Mapping[str, Sequence[str]] | None = None
                      ) -> dict[str, list[str]]:
    """The variables of the agreement in force, narrowed to ``wanted`` when given (names
    outside the approval are left to the caller's own check)."""
    chosen: dict[str, list[str]] = {}
    for entry in in_force_dsa(request).variables:
        names = list(entry.variables) if wanted is None else [
            v for v in wanted.get(entry.agency, []) if v in entry.variables]
        if names:
            chosen.setdefault(entry.agency, []).extend(names)
    return chosen


def outputs_only(session: Session, ctx: HubContext,
                 variables: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """``AGENCY.name`` → level of each of ``variables`` whose classification releases it
    as outputs only (never in record-level data), sorted by name."""
    rules = ctx.settings.classification_rules
    levels = variable_levels(session, variables)
    return {name: levels[name] for name in sorted(levels)
            if not rules.rule(levels[name]).record_level_download}


def require_record_level(session: Session, ctx: HubContext,
                         variables: Mapping[str, Sequence[str]]) -> None:
    """Refuse (403 ``record_level_not_allowed``) record-level data holding a variable whose
    classification allows outputs only."""
    blocked = outputs_only(session, ctx, variables)
    if blocked:
        listed = ", ".join(f"{name} ({level})" for name, level in blocked.items())
        raise PermissionDeniedError(
            f"{listed}: this hub's policy releases variables of that classification as "
            "outputs only, never as records (classification_rules); leave them out of the "
            "extract, or submit aggregate outputs for review", code="record_level_not_allowed")


def extract_protection(ctx: HubContext, catalog: Mapping[str, Mapping[str, Mapping[str, Any]]],
                       variables: Mapping[str, Sequence[str]], *, base_k: int) -> Protection:
    """How the extract of ``variables`` is protected, from the catalog entries the
    assembler holds (``catalog[agency][name]``); a variable missing there is restricted."""
    released: dict[str, dict[str, Any]] = {}
    for agency, names in variables.items():
        for name in names:
            released[f"{agency}.{name}"] = dict(catalog.get(agency, {}).get(name) or {
                "classification": "restricted", "quasi_identifier": False})
    return protection(ctx.settings.classification_rules, released, base_k=base_k)
