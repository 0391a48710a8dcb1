"""Request bodies of the API (unknown fields refused everywhere)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, create_model

from hub.domain.approval import PUBLIC_REASON_MAX
from hub.domain.dsa import DataSharingAgreement, Email
from hub.domain.roles import Role
from protocol.governance import CriterionAnswer

#: The largest value of a database INTEGER column (PostgreSQL's is 32-bit). Ids, sequence
#: numbers and sizes in paths and queries stay within it, so an absurd number is a 422,
#: not an overflow inside the database driver (a 500).
DB_INT_MAX = 2**31 - 1
#: A row id in a path (``/v1/users/{user_id}``, ``/v1/tokens/{token_id}``).
RowId = Annotated[int, Path(ge=1, le=DB_INT_MAX)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UserCreate(_Body):
    """An invitation: who, in which role (a steward's agency is required)."""

    name: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="The invitee's name, as the account will show it",
        examples=["Ada Researcher"])
    role: Role = Field(description="Privileged roles (governance, steward, auditor, admin) "
                       "wait for the governance quorum after redeeming")
    email: Email | None = Field(default=None, description="Researchers: the email their "
                                "agreements' personnel lists name", examples=["ada@uni.example"])
    agency: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")] | None = Field(
        default=None, description="The steward's agency code", examples=["K12"])
    institution: Annotated[str, Field(max_length=200)] | None = Field(
        default=None, description="The invitee's institution (researchers: as their "
        "agreements name it)", examples=["State University"])


class TokenCreate(_Body):
    label: Annotated[str, Field(max_length=200)] = Field(
        default="", description="Your name for the token", examples=["laptop"])
    ttl_days: Annotated[int, Field(ge=1, le=3650)] | None = Field(
        default=None, description="Lifetime in days (null: the hub's default)", examples=[90])


class InvitationRedeem(_Body):
    code: Annotated[str, Field(min_length=8, max_length=200)] = Field(
        description="The one-time invitation code you were given")
    label: Annotated[str, Field(max_length=200)] = Field(
        default="", description="A name for your first token", examples=["laptop"])


class ConflictDeclare(_Body):
    conflicted: bool = Field(description="true: you have a conflict of interest (you take "
                             "no part in the review); false: you declare none")
    reason: Annotated[str, Field(max_length=2000)] = Field(
        default="", description="Your explanation, kept with the declaration (optional)",
        examples=["I co-authored with the principal investigator in 2025."])


class AgencyCreate(_Body):
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")] = Field(
        description="Short code, used everywhere (agreements, catalog)", examples=["K12"])
    name: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="The agency's full name", examples=["Department of Education"])
    url: Annotated[str, Field(min_length=8, max_length=500)] = Field(
        description="The agency node's base URL (https://)",
        examples=["https://k12.example:8101"])


class AgencyUpdate(_Body):
    """``PATCH /v1/agencies/{code}``: any of a new name, node URL, or re-enrolment token."""

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="The agency's new full name (null: unchanged)")
    url: Annotated[str, Field(min_length=8, max_length=500)] | None = Field(
        default=None, description="The node's new base URL")
    reenrol: bool = Field(default=False, description="Issue a fresh one-time enrollment "
                          "token (a node with a new key)")


class ReviewCreate(_Body):
    decision: Literal["approve", "deny", "request_changes"] = Field(
        description="Your governance vote; `request_changes` sends the agreement back to "
                    "the researcher", examples=["approve"])
    reason: Annotated[str, Field(max_length=5000)] = Field(
        default="", description="Shown to the researcher",
        examples=["Narrow the years to those the questions need."])
    public_reason: Annotated[str, Field(max_length=PUBLIC_REASON_MAX)] = Field(
        default="", description="Required with `deny` (422 `public_reason_required` "
        "without it): the denial's reason written for the public, shown on the public "
        "list; `reason` stays internal. Ignored with other decisions.",
        examples=["The request asks for more years of data than its questions need."])
    criteria: list[CriterionAnswer] = Field(
        default_factory=list, max_length=50, description="Your answers to the hub's review "
        "checklist (`GET /v1/review-policy`): an `approve` answers every criterion as met "
        "(422 `criteria_incomplete`); a criterion not met needs a `note`; `deny` and "
        "`request_changes` record whichever were assessed",
        examples=[[{"id": "minimum_necessary", "met": True, "note": ""}]])


class Reason(_Body):
    reason: Annotated[str, Field(max_length=5000)] = Field(
        default="", description="Why (recorded in the audit log; optional)",
        examples=["The IRB approval was withdrawn."])


def _patch_model() -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (field.annotation | None, Field(default=None, description=field.description))
        for name, field in DataSharingAgreement.model_fields.items()
    }
    return create_model(  # type: ignore[call-overload,no-any-return]
        "DataSharingAgreementPatch", __config__=ConfigDict(extra="forbid"),
        __doc__="Any of the agreement's fields (`DataSharingAgreement`); the merged "
                "agreement is validated in full, with all its rules.", **fields
    )


#: Any subset of the agreement's fields; the merged result is validated in full.
DataSharingAgreementPatch = _patch_model()


class ExtractCreate(_Body):
    """Build the project's extract from its newest succeeded run (or ``run_id``); optionally
    only some of the approved variables (``{agency: [variable, …]}``, never more)."""

    project_id: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        description="The request (project) id", examples=["prj-0e14fc18607c"])
    run_id: Annotated[str, Field(min_length=1, max_length=40)] | None = Field(
        default=None, description="A succeeded run (null: the newest)")
    variables: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")],
                    list[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]]] \
        | None = Field(default=None, description="Only these approved variables, per agency "
                       "(null: all approved)", examples=[{"K12": ["test_score"]}])


class DestructionCertification(_Body):
    statement: Annotated[str, Field(min_length=1, max_length=2000)] = Field(
        description="Your statement that every copy was destroyed",
        examples=["All copies on the project workstation were securely erased on 2027-12-20."])


class ExtractDecisionBody(_Body):
    decision: Literal["release", "withhold"] = Field(
        description="A steward's decision on a held extract: `release` it to the researcher "
                    "or `withhold` it", examples=["withhold"])
    reason: Annotated[str, Field(max_length=5000)] = Field(default="", description="Why "
                                                           "(recorded with it)", examples=[
        "Small classes remain on school; withheld."])


class OutputCreate(_Body):
    """A researcher's output table for the airlock (CSV text, at most 2 MB), kept byte for
    byte (no whitespace stripping: its SHA-256 is published)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
    project_id: Annotated[str, Field(min_length=1, max_length=32)] = Field(
        description="The ready project the table comes from", examples=["prj-0e14fc18607c"])
    name: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="A name for the table (published once released)",
        examples=["Enrolment by third-grade score band"])
    description: Annotated[str, Field(max_length=5000)] = Field(
        default="", description="What the table shows, for the stewards and the public")
    kind: Literal["frequency", "means", "records"] = Field(
        description="What the table is: counts, means, or record-level rows",
        examples=["frequency"])
    csv: Annotated[str, Field(min_length=1, max_length=2_000_000)] = Field(
        description="The table as CSV text, header first",
        examples=["score_band,enrolled,n\nlow,yes,40\nhigh,yes,85\n"])
    count_column: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        default="n", description="The column holding cell counts (frequency tables)")


class OutputReviewBody(_Body):
    decision: Literal["release", "return"] = Field(
        description="`release` (publish it) or `return` it to the researcher",
        examples=["release"])
    comments: Annotated[str, Field(max_length=5000)] = Field(
        default="", description="For the researcher (with `return`)")
