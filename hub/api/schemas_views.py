"""What the API answers: the response bodies of accounts, agencies and requests (runs,
extracts and outputs: :mod:`hub.api.schemas_runs`; the bodies it takes:
:mod:`hub.api.schemas`).

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


class ReviewCriterionView(View):
    """A reviewer's answer to one criterion of the review checklist."""

    id: str = Field(description="The criterion's id", examples=["minimum_necessary"])
    text: str = Field(description="The criterion as it read when answered")
    met: bool = Field(description="The reviewer found it met")
    note: str = Field(description="The reviewer's note (may be empty)")


class ReviewView(View):
    round: int = Field(description="The review round it belongs to", examples=[1])
    decision: str = Field(description="`approve`, `deny` or `request_changes`",
                          examples=["approve"])
    reason: str = Field(description="The governance member's reason, shown to the "
                        "researcher (may be empty)")
    created_at: Time | None = Field(description="When it was recorded (ISO 8601, UTC)")
    reviewer: str | None = Field(description="Shown to governance and auditors only")
    criteria: list[ReviewCriterionView] = Field(
        default_factory=list, description="The member's answers to the review checklist "
        "(docs/governance-policy.md), in the order given; empty for reviews before it")


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
    public_reason: str | None = Field(description="The denial's reason written for the "
                                      "public, as the public list shows it; null unless "
                                      "denied (or denied before public reasons were "
                                      "recorded)")
    denial_category: str | None = Field(description="Who denied it: `agency` or "
                                        "`governance`; null unless denied",
                                        examples=["governance"])
    approved_term: ApprovedTerm | None = Field(description="The approved term; null "
                                               "until approved")
    reviews: list[ReviewView] = Field(description="Governance reviews, oldest first")
    agency_decisions: list[AgencyDecisionView] = Field(
        description="The agencies' stewards' signed decisions, oldest first")
    waiting_for: list[str] = Field(description="What approval still waits for")
    next_refresh_due: Time | None = Field(description="When the hub starts the next refresh "
                                          "run the agreement's refresh_frequency schedules; "
                                          "null when none will (`GET /v1/requests/{id}/"
                                          "refresh` says why; docs/refresh.md)")


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
