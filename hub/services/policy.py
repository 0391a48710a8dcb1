"""The governance policy the hub enforces (docs/governance-policy.md).

* **Review checklist**: every governance review may answer the criteria of the hub's
  ``review_criteria``; an approval must answer *every* criterion as met (422
  ``criteria_incomplete``). A criterion answered as not met needs a note. The answers, with
  each criterion's text as it read then, are stored with the review.
* **Requester types**: the agreement's ``requester_type`` picks a rule of the hub's
  ``requester_rules``: more governance approvals (``extra_quorum``), no record-level
  extracts (``record_level_extract = false``: 403 ``record_level_not_allowed``), or a
  requester who must belong to an agency asked (``agency_member``: 422
  ``requester_type_not_allowed``).
* **Research agenda**: an agreement's ``agenda_items`` must name active agenda items
  (422 ``unknown_agenda_item``; :mod:`hub.services.agenda`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from hub.db.models import Request
from hub.domain.dsa import DataSharingAgreement
from hub.errors import InvalidInputError, PermissionDeniedError
from hub.persistence import agencies as agency_store
from hub.persistence import identity as identity_store
from hub.persistence import policy as store
from hub.services.context import HubContext
from hub.services.terms import in_force_dsa, load_dsa
from protocol.governance import CriterionAnswer


@dataclass(frozen=True, slots=True)
class Answer:
    """A checked answer to one criterion, with the criterion's text as it reads now."""

    criterion: str
    text: str
    met: bool
    note: str


def check_criteria(ctx: HubContext, *, decision: str,
                   answers: Sequence[CriterionAnswer]) -> list[Answer]:
    """The answers of one review, checked against the checklist: unknown or repeated
    criteria and a "not met" without a note are refused (422); an ``approve`` must answer
    every criterion as met (422 ``criteria_incomplete``, naming what is missing)."""
    checklist = {c.id: c.text for c in ctx.settings.review_criteria}
    seen: set[str] = set()
    checked: list[Answer] = []
    for answer in answers:
        if answer.id not in checklist:
            raise InvalidInputError(
                f"criterion {answer.id!r} is not in this hub's review checklist "
                f"({', '.join(checklist)})", code="unknown_criterion")
        if answer.id in seen:
            raise InvalidInputError(f"criterion {answer.id!r} is answered twice",
                                    code="unknown_criterion")
        seen.add(answer.id)
        if not answer.met and not answer.note.strip():
            raise InvalidInputError(
                f"criterion {answer.id!r} is answered as not met without a note saying why",
                code="criterion_note_required")
        checked.append(Answer(answer.id, checklist[answer.id], answer.met, answer.note.strip()))
    if decision == "approve":
        missing = [c for c in checklist if c not in seen]
        unmet = [a.criterion for a in checked if not a.met]
        if missing or unmet:
            parts = ([f"not answered: {', '.join(missing)}"] if missing else []) + (
                [f"not met: {', '.join(unmet)}"] if unmet else [])
            raise InvalidInputError(
                "an approval answers every review criterion as met (" + "; ".join(parts)
                + "); deny or request changes instead", code="criteria_incomplete")
    return checked


def record_criteria(session: Session, *, review_id: int, answers: Sequence[Answer]) -> None:
    """Store the checked answers with the review."""
    store.add_criteria(session, review_id=review_id,
                       answers=[(a.criterion, a.text, a.met, a.note) for a in answers])


def quorum(ctx: HubContext, request: Request, classifications: set[str]) -> int:
    """The governance quorum of ``request``: the classifications' quorum plus its
    requester type's ``extra_quorum``."""
    rule = ctx.settings.requester_rule(load_dsa(request).requester_type)
    return ctx.settings.quorum_for(classifications) + rule.extra_quorum


def check_agreement(session: Session, ctx: HubContext, *, requester_id: int,
                    dsa: DataSharingAgreement) -> None:
    """The policy's checks of an agreement when it is created, edited or submitted: its
    agenda items are active, and its requester meets the requester type's rule."""
    wanted = set(dsa.agenda_items)
    if wanted:
        active = {i.id for i in store.agenda_items(session, status="active", ids=wanted)}
        unknown = sorted(wanted - active)
        if unknown:
            raise InvalidInputError(
                f"agenda_items names {', '.join(map(str, unknown))}: not an active item of "
                "the research agenda (`GET /v1/agenda`)", code="unknown_agenda_item")
    rule = ctx.settings.requester_rule(dsa.requester_type)
    if rule.agency_member:
        user = identity_store.get_user(session, user_id=requester_id)
        institution = ((user.institution or "") if user else "").strip().casefold()
        names = set()
        for code in dsa.agencies:
            agency = agency_store.get_agency(session, code=code)
            names |= {code.casefold(), (agency.name if agency else code).casefold()}
        if not institution or institution not in names:
            raise InvalidInputError(
                f"requester_type {dsa.requester_type!r} is for staff of an agency the "
                f"request asks data of ({', '.join(dsa.agencies)}); your account's "
                f"institution is {institution or 'not set'!r}",
                code="requester_type_not_allowed")


def require_record_level(ctx: HubContext, request: Request) -> None:
    """Refuse a record-level extract of a project whose requester type may not have one."""
    # The agreement in force decides (an amendment under review changes nothing yet).
    requester_type = in_force_dsa(request).requester_type
    if not ctx.settings.requester_rule(requester_type).record_level_extract:
        raise PermissionDeniedError(
            f"this hub's policy gives {requester_type} projects no record-level extracts "
            "(requester_rules); submit aggregate outputs for review instead",
            code="record_level_not_allowed")
