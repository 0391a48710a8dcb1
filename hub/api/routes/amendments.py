"""Amendments, extensions and renewals of approved agreements, and their versions
(hub.services.amendments, docs/amendments.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hub.api.deps import ContextDep, RequestReaderCaller, ResearcherCaller, SessionDep
from hub.api.responses import TOKEN, USER_OBJECT, errors
from hub.api.schemas_views import Document, Time, View, returns
from hub.db.models import AgreementVersion
from hub.domain.amendments import Change
from hub.domain.dsa import DataSharingAgreement
from hub.services import amendments

router = APIRouter(prefix="/v1/requests", tags=["requests"])
PROPOSE = errors(*TOKEN, 404, 409, 422)


class AmendmentCreate(BaseModel):
    """A new version of an approved agreement: the complete agreement, what kind of change
    it is and why."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: Literal["amendment", "extension", "renewal"] = Field(
        description="`amendment` (the term stays), `extension` (term_end only, later) or "
        "`renewal` (renewable agreements: a later term_end, other changes allowed)",
        examples=["amendment"])
    reason: Annotated[str, Field(min_length=1, max_length=5000)] = Field(
        description="Why the agreement changes (shown to the reviewers, audited)",
        examples=["Add the disability flag to study accommodations."])
    agreement: DataSharingAgreement = Field(
        description="The complete proposed agreement (start from the version in force, "
        "`GET /v1/requests/{request_id}/versions/{version}`)")


class AmendmentWithdraw(BaseModel):
    """Withdrawing the proposal under review."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[str, Field(max_length=5000)] = Field(
        default="", description="Why (audited; optional)", examples=["Not needed any more."])


class VersionView(View):
    """One version of a project's agreement (no agreement text: see the version itself)."""

    project_id: str = Field(description="The project (request) id; the same for every "
                            "version", examples=["prj-0a1b2c3d4e5f"])
    version: int = Field(description="1 is the agreement first approved; each proposal "
                         "takes the next number", examples=[2])
    kind: Literal["original", "amendment", "extension", "renewal"] = Field(
        description="What kind of version it is", examples=["amendment"])
    status: Literal["proposed", "in_force", "superseded", "denied", "returned",
                    "withdrawn"] = Field(
        description="`proposed` (under review), `in_force`, `superseded` (by a later "
        "version), `denied`, `returned` (governance asked for changes: propose again) or "
        "`withdrawn`", examples=["in_force"])
    reason: str = Field(description="Why the researcher proposed it ('' for the original)")
    round: int = Field(description="The review round that decides (decided) it",
                       examples=[2])
    created_by: str = Field(description="Audit actor who proposed it", examples=["user:3"])
    created_at: Time
    decided_at: Time | None = Field(description="When it was decided; null while proposed")
    decision_reason: str | None = Field(description="The decision's reason (internal, as "
                                        "the request's); null while proposed")
    term_start: str = Field(description="Its term's first day (YYYY-MM-DD)",
                            examples=["2026-01-01"])
    term_end: str = Field(description="Its term's last day (YYYY-MM-DD)",
                          examples=["2027-12-31"])


class VersionDetail(VersionView):
    """One version with its complete agreement."""

    agreement: Document = Field(description="The agreement of this version "
                                "(`DataSharingAgreement`)")


class VersionList(View):
    """A project's versions and which one is in force."""

    project_id: str = Field(description="The project (request) id", examples=["prj-0a1b2c3d4e5f"])
    status: str = Field(description="The project's status (`amending` while a proposal is "
                        "under review)", examples=["amending"])
    in_force: int = Field(description="The version in force (0: never approved)",
                          examples=[1])
    agencies_asked: list[str] = Field(
        description="While amending: the agencies whose stewards must approve the proposal "
        "(their terms changed); the others' approvals carry over. Empty otherwise",
        examples=[["K12"]])
    versions: list[VersionView] = Field(description="Every version, oldest first")


class ChangeView(View):
    """One changed field of the agreement."""

    path: str = Field(description="JSON path of the field in the agreement",
                      examples=["variables[0].variables[2]"])
    before: Any = Field(description="Its value in the version compared against (null: "
                        "absent)", examples=[None])
    after: Any = Field(description="Its value in this version (null: removed)",
                       examples=["disability"])


class VersionDiff(View):
    """What a version changed, field by field."""

    project_id: str = Field(description="The project (request) id", examples=["prj-0a1b2c3d4e5f"])
    version: int = Field(description="The version shown", examples=[2])
    against: int | None = Field(description="The version in force it was proposed against "
                                "(null for version 1: every field is new)", examples=[1])
    changes: list[ChangeView] = Field(description="Every changed field, in document order")


def version_view(row: AgreementVersion) -> dict[str, Any]:
    return {
        "project_id": row.request_id, "version": row.version, "kind": row.kind,
        "status": row.status, "reason": row.reason, "round": row.round,
        "created_by": row.created_by, "created_at": row.created_at.isoformat(),
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "decision_reason": row.decision_reason,
        "term_start": str(row.dsa.get("term_start")), "term_end": str(row.dsa.get("term_end")),
    }


def _change(change: Change) -> dict[str, Any]:
    return {"path": change.path, "before": change.before, "after": change.after}


@router.post("/{request_id}/amendments", responses=PROPOSE, status_code=201,
             **returns(VersionView),
             summary="Propose an amendment, extension or renewal of an approved agreement "
             "[researcher (own)]")
def propose(request_id: str, body: AmendmentCreate, caller: ResearcherCaller,
            session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """Propose the next version of your approved (or ready) project's agreement; the project
    moves to `amending` and the proposal straight to review, under the same id. Only the
    agencies whose terms change are asked again; the governance quorum always is. While
    amending no linkage run starts and the version in force governs access. 409
    `not_amendable` (not approved/ready), `term_ended`, `not_renewable`; 422 `term_changed`
    (an amendment keeps the term), `term_not_later`, `extension_changes_more`,
    `nothing_changed`, or an invalid agreement."""
    row = amendments.propose(session, ctx, caller, request_id=request_id, kind=body.kind,
                             dsa=body.agreement.model_dump(mode="json"), reason=body.reason)
    return version_view(row)


@router.post("/{request_id}/amendments/withdraw", responses=PROPOSE,
             **returns(VersionView),
             summary="Withdraw the proposal under review [researcher (own)]")
def withdraw(request_id: str, caller: ResearcherCaller, session: SessionDep,
             ctx: ContextDep, body: AmendmentWithdraw | None = None) -> dict[str, Any]:
    """Withdraw the amendment, extension or renewal under review: the version in force
    stays, the project returns to where it was. 409 `not_amending`."""
    row = amendments.withdraw(session, ctx, caller, request_id=request_id,
                              reason=body.reason if body else "")
    return version_view(row)


@router.get("/{request_id}/versions", responses=USER_OBJECT, **returns(VersionList),
            summary="A project's agreement versions [researcher (own), governance, steward "
            "(own agency), auditor]")
def list_versions(request_id: str, caller: RequestReaderCaller, session: SessionDep,
                  ctx: ContextDep) -> dict[str, Any]:
    """Every version of the project's agreement (the original, then each amendment,
    extension or renewal proposed), which one is in force, and while amending which
    agencies must approve the proposal."""
    request, rows = amendments.versions(session, ctx, caller, request_id=request_id)
    asked = (amendments.asked_agencies(session, request)
             if request.status == "amending" else [])
    return {"project_id": request.id, "status": request.status, "in_force": request.version,
            "agencies_asked": asked, "versions": [version_view(r) for r in rows]}


@router.get("/{request_id}/versions/{number}", responses=USER_OBJECT,
            **returns(VersionDetail),
            summary="One version with its agreement [researcher (own), governance, steward "
            "(own agency), auditor]")
def get_version(request_id: str, number: int, caller: RequestReaderCaller,
                session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """One version of the project's agreement, in full. Audited (a data access)."""
    _, row = amendments.version(session, ctx, caller, request_id=request_id, number=number)
    return {**version_view(row), "agreement": row.dsa}


@router.get("/{request_id}/versions/{number}/diff", responses=USER_OBJECT,
            **returns(VersionDiff),
            summary="What a version changed, field by field [researcher (own), governance, "
            "steward (own agency), auditor]")
def version_diff(request_id: str, number: int, caller: RequestReaderCaller,
                 session: SessionDep, ctx: ContextDep) -> dict[str, Any]:
    """The fields version `number` changed against the version in force it was proposed
    against (JSON paths, before and after). Audited."""
    row, base, changes = amendments.version_diff(session, ctx, caller, request_id=request_id,
                                                 number=number)
    return {"project_id": row.request_id, "version": row.version,
            "against": base.version if base is not None else None,
            "changes": [_change(c) for c in changes]}
