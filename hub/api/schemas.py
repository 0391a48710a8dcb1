"""Request bodies of the API (unknown fields refused everywhere)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, create_model

from hub.domain.dsa import DataSharingAgreement, Email
from hub.domain.roles import Role

#: The largest value of a database INTEGER column (PostgreSQL's is 32-bit). Ids, sequence
#: numbers and sizes in paths and queries stay within it, so an absurd number is a 422,
#: not an overflow inside the database driver (a 500).
DB_INT_MAX = 2**31 - 1
#: A row id in a path (``/v1/users/{user_id}``, ``/v1/tokens/{token_id}``).
RowId = Annotated[int, Path(ge=1, le=DB_INT_MAX)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UserCreate(_Body):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Role
    email: Email | None = None
    agency: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")] | None = None
    institution: Annotated[str, Field(max_length=200)] | None = None


class TokenCreate(_Body):
    label: Annotated[str, Field(max_length=200)] = ""
    ttl_days: Annotated[int, Field(ge=1, le=3650)] | None = None


class InvitationRedeem(_Body):
    code: Annotated[str, Field(min_length=8, max_length=200)]
    label: Annotated[str, Field(max_length=200)] = ""


class ConflictDeclare(_Body):
    conflicted: bool
    reason: Annotated[str, Field(max_length=2000)] = ""


class AgencyCreate(_Body):
    code: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    url: Annotated[str, Field(min_length=8, max_length=500)]


class AgencyUpdate(_Body):
    """``PATCH /v1/agencies/{code}``: any of a new name, node URL, or re-enrolment token."""

    name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    url: Annotated[str, Field(min_length=8, max_length=500)] | None = None
    reenrol: bool = False


class ReviewCreate(_Body):
    decision: Literal["approve", "deny", "request_changes"]
    reason: Annotated[str, Field(max_length=5000)] = ""


class Reason(_Body):
    reason: Annotated[str, Field(max_length=5000)] = ""


def _patch_model() -> type[BaseModel]:
    fields: dict[str, Any] = {
        name: (field.annotation | None, None)
        for name, field in DataSharingAgreement.model_fields.items()
    }
    return create_model(  # type: ignore[call-overload,no-any-return]
        "DataSharingAgreementPatch", __config__=ConfigDict(extra="forbid"), **fields
    )


#: Any subset of the agreement's fields; the merged result is validated in full.
DataSharingAgreementPatch = _patch_model()


class ExtractCreate(_Body):
    """Build the project's extract from its newest succeeded run (or ``run_id``); optionally
    only some of the approved variables (``{agency: [variable, …]}``, never more)."""

    project_id: Annotated[str, Field(min_length=1, max_length=32)]
    run_id: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    variables: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")],
                    list[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,63}$")]]] \
        | None = None


class DestructionCertification(_Body):
    statement: Annotated[str, Field(min_length=1, max_length=2000)]


class ExtractDecisionBody(_Body):
    decision: Literal["release", "withhold"]
    reason: Annotated[str, Field(max_length=5000)] = ""


class OutputCreate(_Body):
    """A researcher's output table for the airlock (CSV text, at most 2 MB), kept byte for
    byte (no whitespace stripping: its SHA-256 is published)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)
    project_id: Annotated[str, Field(min_length=1, max_length=32)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=5000)] = ""
    kind: Literal["frequency", "means", "records"]
    csv: Annotated[str, Field(min_length=1, max_length=2_000_000)]
    count_column: Annotated[str, Field(min_length=1, max_length=100)] = "n"


class OutputReviewBody(_Body):
    decision: Literal["release", "return"]
    comments: Annotated[str, Field(max_length=5000)] = ""
