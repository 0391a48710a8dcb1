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

    id: int = Field(description="The account's id (`/v1/users/{user_id}`)", examples=[7])
    name: str = Field(description="Display name, as invited", examples=["Ada Researcher"])
    email: str | None = Field(description="Contact email, as invited (null: none given); "
                              "personnel lists name researchers by it",
                              examples=["ada@uni.example"])
    role: Literal["admin", "researcher", "governance", "steward", "auditor"] = Field(
        description="What the account may do; fixed at invitation", examples=["researcher"])
    agency: str | None = Field(description="The steward's agency; null for other roles")
    institution: str | None = Field(description="The institution given at invitation "
                                    "(null: none)", examples=["State University"])
    active: bool = Field(description="false while pending approval or once deactivated: "
                         "its tokens are refused")
    status: str = Field(description="`active`, `pending` (privileged account waiting for "
                        "the governance quorum) or `deactivated`", examples=["active"])
    created_at: Time


class RedeemedAccount(UserView):
    """The account an invitation code opened, with its first API token (shown once)."""

    token: str = Field(description="The API token: shown once, keep it secret")
    token_id: int = Field(description="The token's id (to list or revoke it: "
                          "`/v1/me/tokens`)", examples=[12])
    token_expires_at: Time


class ApprovedAccount(UserView):
    approvals: list[int] = Field(description="Ids of the members who approved so far")
    quorum: int = Field(description="Approvals needed (the governance quorum)")


class PendingAccount(UserView):
    approvals: list[int] = Field(description="Ids of the members who approved so far")
    quorum: int = Field(description="Approvals needed (the governance quorum)")


class InvitationView(View):
    id: int = Field(description="The invitation's id", examples=[3])
    name: str = Field(description="The invitee's name, as the inviter wrote it",
                      examples=["Ada Researcher"])
    email: str | None = Field(description="The invitee's email (null: none given)",
                              examples=["ada@uni.example"])
    role: str = Field(description="The account's role once redeemed: admin, researcher, "
                      "governance, steward or auditor", examples=["researcher"])
    agency: str | None = Field(description="A steward's agency code; null for other roles",
                               examples=["K12"])
    institution: str | None = Field(description="The invitee's institution (null: none "
                                    "given)", examples=["State University"])
    created_by: str = Field(description="Who invited (audit actor)")
    created_at: Time
    expires_at: Time
    state: Literal["open", "redeemed", "expired"] = Field(
        description="`open` (the code still works), `redeemed` (an account was made) or "
                    "`expired` (unused past `expires_at`)", examples=["open"])
    user_id: int | None = Field(description="The account once redeemed")
    needs_governance_approval: bool = Field(
        description="Privileged roles wait for the governance quorum after redeeming")


class IssuedInvitation(InvitationView):
    code: str = Field(description="The one-time invitation code: shown once, give it to "
                      "the invitee (`POST /v1/invitations/redeem`)")


class IssuedToken(View):
    id: int = Field(description="The token's id (to revoke it: `DELETE "
                    "/v1/me/tokens/{token_id}`)", examples=[12])
    token: str = Field(description="The API token: shown once (the hub keeps only a hash)")
    expires_at: Time


class TokenView(View):
    id: int = Field(description="The token's id", examples=[12])
    label: str = Field(description="The owner's name for it (may be empty)",
                       examples=["laptop"])
    created_at: Time
    expires_at: Time
    revoked_at: Time | None = Field(description="When it was revoked (ISO 8601, UTC); null "
                                    "while usable", examples=[None])


class RevokedToken(View):
    id: int = Field(description="The revoked token's id", examples=[12])
    revoked_at: Time | None = Field(description="When it was revoked (ISO 8601, UTC)",
                                    examples=["2026-12-07T09:30:00.123456+00:00"])


# --- agencies and catalog ------------------------------------------------------------
class AgencyView(View):
    code: str = Field(description="The agency's short code, used in agreements and the "
                      "catalog", examples=["K12"])
    name: str = Field(description="The agency's full name",
                      examples=["Department of Education"])
    url: str = Field(description="The agency node's base URL", examples=["https://k12.example:8101"])
    enrolled: bool = Field(description="Its node has enrolled (registered its key)")
    enrolled_at: Time | None = Field(description="When its node enrolled (ISO 8601, UTC); "
                                     "null before it has")
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

    agency: str = Field(description="The agency's code", examples=["K12"])
    variable: str = Field(description="The variable's name, as an agreement names it",
                          examples=["test_score"])
    description: str = Field(description="What it holds, as the agency's steward wrote it",
                             examples=["Third-grade reading scale score"])
    description_placeholder: bool = Field(
        description="The node published no real description for it yet")
    type: str = Field(description="string, integer, number, boolean or date",
                      examples=["number"])
    years: list[int] = Field(description="Years the agency holds it for",
                             examples=[[2018, 2019, 2020]])
    classification: str = Field(description="`public`, `internal`, `confidential` or "
                                "`restricted` (restricted needs a larger quorum)")
    quasi_identifier: bool = Field(description="The steward declared it a quasi-identifier: "
                                   "extracts check k-anonymity on it")
    completeness: list[Document] = Field(description="Share of records with a value, by "
                                         "year (`year`, whole `percent`)",
                                         examples=[[{"year": 2018, "percent": 97}]])
    codes: list[Document] = Field(description="Code list (`code`, `label`, `count`; counts "
                                  "below the hub's minimum cell are null)")


# --- requests -------------------------------------------------------------------------
class RequestSummary(View):
    id: str = Field(description="The request (project) id", examples=["prj-0e14fc18607c"])
    title: str = Field(description="The agreement's title",
                       examples=["Early grades and college enrolment"])
    status: str = Field(description="draft, submitted, in_review, changes_requested, "
                        "approved, denied, withdrawn, linking, ready, revoked, expired",
                        examples=["submitted"])
    agencies: list[str] = Field(description="Codes of the agencies asked", examples=[["K12",
                                "HIGHERED"]])
    researcher_id: int = Field(description="The owner's account id", examples=[7])
    round: int = Field(description="Review round (0 while a draft)")
    created_at: Time | None = Field(description="When the draft was made (ISO 8601, UTC)")
    submitted_at: Time | None = Field(description="When it was (last) submitted (ISO 8601, "
                                      "UTC); null while a draft")
    decided_at: Time | None = Field(description="When it was approved or denied (ISO 8601, "
                                    "UTC); null while undecided")


class Researcher(View):
    id: int = Field(description="The owner's account id", examples=[7])
    name: str | None = Field(description="Their name (null: the account is gone)",
                             examples=["Ada Researcher"])
    institution: str | None = Field(description="Their institution (null: none given)",
                                    examples=["State University"])


class ApprovedTerm(View):
    start: Date | None = Field(description="First day of the approved term (YYYY-MM-DD)",
                               examples=["2026-01-01"])
    end: Date | None = Field(description="Last day of the approved term (YYYY-MM-DD); the "
                             "extract expires the day after", examples=["2027-12-31"])


class ReviewView(View):
    round: int = Field(description="The review round it belongs to", examples=[1])
    decision: str = Field(description="`approve`, `deny` or `request_changes`",
                          examples=["approve"])
    reason: str = Field(description="The governance member's reason, shown to the "
                        "researcher (may be empty)")
    created_at: Time | None = Field(description="When it was recorded (ISO 8601, UTC)")
    reviewer: str | None = Field(description="Shown to governance and auditors only")


class AgencyDecisionView(View):
    agency: str = Field(description="The deciding agency's code", examples=["K12"])
    round: int = Field(description="The review round it belongs to", examples=[1])
    decision: str = Field(description="The steward's signed decision: `approve` or `deny`",
                          examples=["approve"])
    reason: str = Field(description="The steward's reason (may be empty)")
    terms_digest: str = Field(description="SHA-256 (hex) of the agency's terms the steward "
                              "signed (`GET /v1/node/requests/{id}/terms`)", examples=[
                                  "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"])
    received_at: Time | None = Field(description="When the hub received it (ISO 8601, UTC)")


class RequestDetail(RequestSummary):
    """One request with its agreement, reviews, agency decisions and what the approval
    rule still waits for."""

    researcher: Researcher = Field(description="The request's owner")
    # Documented as the agreement's schema but not validated again: an agreement stored
    # under older rules must stay readable.
    agreement: Annotated[Document, WithJsonSchema({
        "allOf": [{"$ref": "#/components/schemas/DataSharingAgreement"}],
        "description": "The data sharing agreement as stored"})]
    needs_edit: bool = Field(description="Governance asked for changes")
    decision_reason: str | None = Field(description="Why it was denied or sent back "
                                        "(internal: may name agencies); null otherwise")
    denial_category: str | None = Field(description="Who denied it: `agency` or "
                                        "`governance`; null unless denied",
                                        examples=["governance"])
    approved_term: ApprovedTerm | None = Field(description="The approved term; null "
                                               "until approved")
    reviews: list[ReviewView] = Field(description="Governance reviews, oldest first")
    agency_decisions: list[AgencyDecisionView] = Field(
        description="The agencies' stewards' signed decisions, oldest first")
    waiting_for: list[str] = Field(description="What approval still waits for")


class Declaration(View):
    user_id: int = Field(description="The declaring governance member's account id",
                         examples=[4])
    conflicted: bool = Field(description="true: they have a conflict of interest and take no "
                             "part in the review")
    reason: str = Field(description="Their explanation (may be empty)")
    personnel_listed: bool = Field(description="The personnel list names this member")
    declared_at: Time


class ListedMember(View):
    user_id: int = Field(description="The governance member's account id", examples=[4])
    name: str = Field(description="Their name", examples=["Grace Governance"])
    declared: bool | None = Field(description="Their declaration (null: none yet)")


class ConflictsView(View):
    request_id: str = Field(description="The request (project) id",
                            examples=["prj-0e14fc18607c"])
    declarations: list[Declaration] = Field(description="Every member's declaration so far")
    personnel_names_members: list[ListedMember] = Field(
        description="Governance members the personnel list names")


# --- runs, extracts, outputs ------------------------------------------------------------
class Failure(View):
    code: str | None = Field(description="Machine-readable failure code",
                             examples=["project_not_linking"])
    agency: str | None = Field(description="The node that caused it, if one did")
    reason: str | None = Field(description="What went wrong, in words")


class RunView(View):
    """A linkage run (never a pid)."""

    id: str = Field(description="The run's id", examples=["run-3f9a2c1d"])
    project_id: str = Field(description="The request (project) it links for",
                            examples=["prj-0e14fc18607c"])
    status: str = Field(description="queued, running, succeeded or failed",
                        examples=["succeeded"])
    attempt: int = Field(description="Which attempt of this run (a worker retries after a "
                         "crash; 0 while queued)", examples=[1])
    agencies: list[str] = Field(description="Codes of the agencies linked",
                                examples=[["K12", "HIGHERED"]])
    deduplicated: list[str] = Field(description="Agencies whose person ids were deduplicated")
    requested_by: str = Field(description="Who asked for it (audit actor)",
                              examples=["user:7"])
    requested_at: Time | None = Field(description="When it was queued (ISO 8601, UTC)")
    started_at: Time | None = Field(description="When it started (ISO 8601, UTC); null "
                                    "while queued")
    finished_at: Time | None = Field(description="When it ended (ISO 8601, UTC); null "
                                     "while queued or running")
    seconds: float | None = Field(description="Run time in seconds; null until it ends",
                                  examples=[12.4])
    steps: list[Document] = Field(description="Progress steps with counts")
    counts: Document = Field(description="Record and match counts so far (per agency and "
                             "linked)")
    failure: Failure | None = Field(description="Why it failed; null unless failed")
    report: Document | None = Field(
        default=None, description="The quality report (not in lists)")


class ExtractFailure(View):
    code: str = Field(description="Machine-readable failure code")
    reason: str | None = Field(description="What went wrong, in words")


class ExtractView(View):
    """An extract's metadata (never its data)."""

    id: str = Field(description="The extract's id", examples=["ext-128c4084b22a4025"])
    project_id: str = Field(description="The request (project) it is for",
                            examples=["prj-0e14fc18607c"])
    run_id: str = Field(description="The linkage run it was built from",
                        examples=["run-3f9a2c1d"])
    status: str = Field(description="building, available, held (disclosure control asks "
                        "the stewards), withheld, failed or destroyed", examples=["available"])
    created_at: Time | None = Field(description="When it was asked for (ISO 8601, UTC)")
    finished_at: Time | None = Field(description="When building ended (ISO 8601, UTC); null "
                                     "while building")
    expires_at: Time | None = Field(description="When downloads stop: the day after the "
                                    "agreement's term_end (ISO 8601, UTC)")
    formats: list[str] = Field(description="Table formats in the bundle (parquet, csv)",
                               examples=[["parquet"]])
    include_unmatched: bool = Field(description="People found in one agency only are "
                                    "included too")
    variables: dict[str, list[str]] = Field(description="Variables per agency")
    tables: dict[str, int] = Field(description="Rows per table")
    persons: int = Field(description="People (linked persons) in the extract",
                         examples=[1840])
    sha256: str | None = Field(description="SHA-256 of the bundle (zip)")
    ciphertext_sha256: str | None = Field(
        description="SHA-256 of the download when sealed to the researcher's key")
    size_bytes: int | None = Field(description="Size of the download in bytes; null "
                                   "until built", examples=[482113])
    encryption: Literal["hub", "researcher"] = Field(
        description="`hub`: encrypted at rest with the hub's key; `researcher`: the download "
                    "is sealed to the researcher's X25519 key", examples=["researcher"])
    recipient_key: Document | None = Field(
        description="The extract key sealed to the researcher's X25519 key (HPKE: suite, kid, "
                    "info, ciphertext)")
    disclosure: Document | None = Field(description="What disclosure control did")
    failure: ExtractFailure | None = Field(description="Why it failed; null unless failed")
    destroyed_at: Time | None = Field(description="When the hub destroyed its copy (ISO "
                                      "8601, UTC); null while kept")
    destroyed_reason: str | None = Field(description="Why it was destroyed (expiry, "
                                         "revocation, …); null while kept",
                                         examples=["expired"])
    destruction: Document | None = Field(description="The destruction record, with the "
                                         "researcher's certification once given")


class OutputReview(View):
    agency: str = Field(description="The reviewing steward's agency", examples=["K12"])
    decision: str = Field(description="`release` or `return`")
    comments: str = Field(description="The steward's comments for the researcher (may be "
                          "empty)")
    at: Time


class OutputView(View):
    """An airlock output table (``content`` only when read one by one)."""

    id: str = Field(description="The output's id", examples=["out-5c2e9a0b1d7f"])
    project_id: str = Field(description="The request (project) it belongs to",
                            examples=["prj-0e14fc18607c"])
    name: str = Field(description="The researcher's name for the table",
                      examples=["Enrolment by third-grade score band"])
    description: str = Field(description="The researcher's description (may be empty)")
    kind: Literal["frequency", "means", "records"] = Field(
        description="counts, means, or record-level rows", examples=["frequency"])
    sha256: str = Field(description="SHA-256 (hex) of the CSV text, published once released")
    status: str = Field(description="`pending_review` (waiting for the stewards), "
                        "`released` or `returned`", examples=["pending_review"])
    checks: Document = Field(description="Automatic disclosure checks (findings name cells "
                             "by label, never by value)")
    created_at: Time | None = Field(description="When it was submitted (ISO 8601, UTC)")
    decided_at: Time | None = Field(description="When it was released or returned (ISO "
                                    "8601, UTC); null while pending")
    content: str | None = Field(default=None, description="The CSV text")
    reviews: list[OutputReview] | None = Field(
        default=None, description="Stewards' reviews (when read one by one)")
