"""What the API answers: the response bodies of accounts, agencies, requests, runs,
extracts and outputs (the bodies it takes are :mod:`hub.api.schemas`).

Each model is exactly what its service's view function returns (``hub.services.*.…_view``):
unknown fields are forbidden, so a view that grows a field the model does not declare fails
the tests loudly instead of the field silently disappearing, and routes answer with
``response_model_exclude_unset`` (:func:`returns`), so a field a view leaves out (a token
shown only once) stays out rather than coming back as ``null``. Times are ISO 8601 text
as the views write them (not re-formatted); nested documents whose shape belongs to
another module (quality reports, disclosure summaries, signed envelopes) are objects.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

#: ISO 8601 time with its UTC offset, as the hub stores it.
Time = Annotated[str, Field(description="ISO 8601 time, UTC",
                            examples=["2026-12-07T09:30:00.123456+00:00"])]
#: An ISO date (YYYY-MM-DD).
Date = Annotated[str, Field(description="ISO date (YYYY-MM-DD)", examples=["2027-12-31"])]
#: A document whose shape another part of the hub defines.
Document = dict[str, Any]


class View(BaseModel):
    """A response body: exactly the fields a view writes, nothing else."""

    model_config = ConfigDict(extra="forbid")


def returns(model: Any) -> dict[str, Any]:
    """The route keywords of an answer typed by ``model`` (``@router.get(…,
    **returns(UserView))``): fields the handler leaves out stay out."""
    return {"response_model": model, "response_model_exclude_unset": True}


# --- accounts ------------------------------------------------------------------------
class UserView(View):
    """A hub account (never a token)."""

    id: int = Field(examples=[7])
    name: str = Field(examples=["Ada Researcher"])
    email: str | None = Field(examples=["ada@uni.example"])
    role: Literal["admin", "researcher", "governance", "steward", "auditor"]
    agency: str | None = Field(description="The steward's agency; null for other roles")
    institution: str | None
    active: bool
    status: str = Field(description="`active`, `pending` (privileged account waiting for "
                        "the governance quorum) or `deactivated`", examples=["active"])
    created_at: Time


class RedeemedAccount(UserView):
    """The account an invitation code opened, with its first API token (shown once)."""

    token: str = Field(description="The API token: shown once, keep it secret")
    token_id: int
    token_expires_at: Time


class ApprovedAccount(UserView):
    approvals: list[int] = Field(description="Ids of the members who approved so far")
    quorum: int = Field(description="Approvals needed (the governance quorum)")


class PendingAccount(UserView):
    approvals: list[int] = Field(description="Ids of the members who approved so far")
    quorum: int


class InvitationView(View):
    id: int
    name: str
    email: str | None
    role: str
    agency: str | None
    institution: str | None
    created_by: str = Field(description="Who invited (audit actor)")
    created_at: Time
    expires_at: Time
    state: Literal["open", "redeemed", "expired"]
    user_id: int | None = Field(description="The account once redeemed")
    needs_governance_approval: bool = Field(
        description="Privileged roles wait for the governance quorum after redeeming")


class IssuedInvitation(InvitationView):
    code: str = Field(description="The one-time invitation code: shown once, give it to "
                      "the invitee (`POST /v1/invitations/redeem`)")


class IssuedToken(View):
    id: int
    token: str = Field(description="The API token: shown once (the hub keeps only a hash)")
    expires_at: Time


class TokenView(View):
    id: int
    label: str
    created_at: Time
    expires_at: Time
    revoked_at: Time | None


class RevokedToken(View):
    id: int
    revoked_at: Time | None


# --- agencies and catalog ------------------------------------------------------------
class AgencyView(View):
    code: str = Field(examples=["K12"])
    name: str = Field(examples=["Department of Education"])
    url: str = Field(description="The agency node's base URL", examples=["https://k12.example:8101"])
    enrolled: bool = Field(description="Its node has enrolled (registered its key)")
    enrolled_at: Time | None
    signing_kid: str | None = Field(description="Key id of the node's signing key")
    person_ids: str = Field(description="`unique` or `may_duplicate`: whether linkage runs "
                            "deduplicate this agency's person ids")
    signing_public_key: str | None = Field(
        description="The node's Ed25519 key (base64url), also its transparency-log witness "
                    "key; auditors should pin their own copy")
    enrollment_token: str | None = Field(
        default=None, description="One-time enrollment token for the node (`fedlink node "
        "enroll`): only in the answer that issued it")


class CatalogEntry(View):
    """One variable of an enrolled node's data dictionary (signed-in view)."""

    agency: str = Field(examples=["K12"])
    variable: str = Field(examples=["test_score"])
    description: str
    description_placeholder: bool = Field(
        description="The node published no real description for it yet")
    type: str = Field(examples=["number"])
    years: list[int] = Field(description="Years the agency holds it for",
                             examples=[[2018, 2019, 2020]])
    classification: str = Field(description="`public`, `internal`, `confidential` or "
                                "`restricted` (restricted needs a larger quorum)")
    quasi_identifier: bool
    completeness: list[Document] = Field(description="Share of records with a value, by "
                                         "year")
    codes: list[Document] = Field(description="Code list (`code`, `label`, `count`; counts "
                                  "below the hub's minimum cell are null)")


# --- requests -------------------------------------------------------------------------
class RequestSummary(View):
    id: str = Field(examples=["prj-0e14fc18607c"])
    title: str
    status: str = Field(description="draft, submitted, in_review, changes_requested, "
                        "approved, denied, withdrawn, linking, ready, revoked, expired",
                        examples=["submitted"])
    agencies: list[str]
    researcher_id: int
    round: int = Field(description="Review round (0 while a draft)")
    created_at: Time | None
    submitted_at: Time | None
    decided_at: Time | None


class Researcher(View):
    id: int
    name: str | None
    institution: str | None


class ApprovedTerm(View):
    start: Date | None
    end: Date | None


class ReviewView(View):
    round: int
    decision: str
    reason: str
    created_at: Time | None
    reviewer: str | None = Field(description="Shown to governance and auditors only")


class AgencyDecisionView(View):
    agency: str
    round: int
    decision: str
    reason: str
    terms_digest: str
    received_at: Time | None


class RequestDetail(RequestSummary):
    """One request with its agreement, reviews, agency decisions and what the approval
    rule still waits for."""

    researcher: Researcher
    # Documented as the agreement's schema but not validated again: an agreement stored
    # under older rules must stay readable.
    agreement: Annotated[Document, WithJsonSchema({
        "allOf": [{"$ref": "#/components/schemas/DataSharingAgreement"}],
        "description": "The data sharing agreement as stored"})]
    needs_edit: bool = Field(description="Governance asked for changes")
    decision_reason: str | None
    denial_category: str | None
    approved_term: ApprovedTerm | None
    reviews: list[ReviewView]
    agency_decisions: list[AgencyDecisionView]
    waiting_for: list[str] = Field(description="What approval still waits for")


class Declaration(View):
    user_id: int
    conflicted: bool
    reason: str
    personnel_listed: bool = Field(description="The personnel list names this member")
    declared_at: Time


class ListedMember(View):
    user_id: int
    name: str
    declared: bool | None = Field(description="Their declaration (null: none yet)")


class ConflictsView(View):
    request_id: str
    declarations: list[Declaration]
    personnel_names_members: list[ListedMember] = Field(
        description="Governance members the personnel list names")


# --- runs, extracts, outputs ------------------------------------------------------------
class Failure(View):
    code: str | None
    agency: str | None = Field(description="The node that caused it, if one did")
    reason: str | None


class RunView(View):
    """A linkage run (never a pid)."""

    id: str = Field(examples=["run-3f9a2c1d"])
    project_id: str
    status: str = Field(description="queued, running, succeeded or failed",
                        examples=["succeeded"])
    attempt: int
    agencies: list[str]
    deduplicated: list[str] = Field(description="Agencies whose person ids were deduplicated")
    requested_by: str
    requested_at: Time | None
    started_at: Time | None
    finished_at: Time | None
    seconds: float | None
    steps: list[Document] = Field(description="Progress steps with counts")
    counts: Document
    failure: Failure | None
    report: Document | None = Field(
        default=None, description="The quality report (not in lists)")


class ExtractFailure(View):
    code: str
    reason: str | None


class ExtractView(View):
    """An extract's metadata (never its data)."""

    id: str = Field(examples=["ext-128c4084b22a4025"])
    project_id: str
    run_id: str
    status: str = Field(description="building, available, held (disclosure control asks "
                        "the stewards), withheld, failed or destroyed", examples=["available"])
    created_at: Time | None
    finished_at: Time | None
    expires_at: Time | None
    formats: list[str]
    include_unmatched: bool
    variables: dict[str, list[str]] = Field(description="Variables per agency")
    tables: dict[str, int] = Field(description="Rows per table")
    persons: int
    sha256: str | None = Field(description="SHA-256 of the bundle (zip)")
    ciphertext_sha256: str | None = Field(
        description="SHA-256 of the download when sealed to the researcher's key")
    size_bytes: int | None
    encryption: Literal["hub", "researcher"]
    recipient_key: Document | None = Field(
        description="The extract key sealed to the researcher's X25519 key (HPKE: suite, kid, "
                    "info, ciphertext)")
    disclosure: Document | None = Field(description="What disclosure control did")
    failure: ExtractFailure | None
    destroyed_at: Time | None
    destroyed_reason: str | None
    destruction: Document | None


class OutputReview(View):
    agency: str
    decision: str = Field(description="`release` or `return`")
    comments: str
    at: Time


class OutputView(View):
    """An airlock output table (``content`` only when read one by one)."""

    id: str
    project_id: str
    name: str
    description: str
    kind: Literal["frequency", "means", "records"]
    sha256: str
    status: str = Field(examples=["pending"])
    checks: Document = Field(description="Automatic disclosure checks (findings name cells "
                             "by label, never by value)")
    created_at: Time | None
    decided_at: Time | None
    content: str | None = Field(default=None, description="The CSV text")
    reviews: list[OutputReview] | None = Field(
        default=None, description="Stewards' reviews (when read one by one)")
