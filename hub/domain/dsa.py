"""The data sharing agreement (DSA) a research request carries.

The fields are the ones agencies ask for (the Data Quality Campaign checklist): purpose, public
summary, scope and deliverables, allowable uses, variables per agency with years, cohort,
personnel with access, agency points of contact, security plan, term and renewal, refresh
frequency, matching authorisation, disposition at the end, interim findings plan, IRB.
Unknown fields are refused. Checks that need the catalog (agencies and variables exist)
live in :mod:`hub.services.requests`.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from protocol.wire import Cohort
from protocol.wire_types import (
    AgencyCode,
    VariableName,
    WireDate,
    X25519Key,
    Year,
    check_years,
)

Short = Annotated[str, Field(min_length=1, max_length=300)]
Long = Annotated[str, Field(min_length=1, max_length=10_000)]
#: Deliberately simple: one @, no spaces; deliverability is not the hub's business.
Email = Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AgencyVariables(_Model):
    """The variables and inclusive range of years asked of one agency, and its cohort."""

    agency: AgencyCode
    variables: list[VariableName] = Field(min_length=1, max_length=500)
    first_year: Year
    last_year: Year
    cohort: Cohort = Field(default_factory=Cohort)

    @model_validator(mode="after")
    def _checks(self) -> AgencyVariables:
        check_years(self.first_year, self.last_year)
        if len(set(self.variables)) != len(self.variables):
            raise ValueError(f"variables of agency {self.agency} repeat a name")
        return self

    @property
    def years(self) -> list[int]:
        return list(range(self.first_year, self.last_year + 1))


class Person(_Model):
    """Someone on the project team who will have access to the extract."""

    name: Short
    role: Short
    institution: Short
    email: Email | None = None


class AgencyContact(_Model):
    agency: AgencyCode
    name: Short
    email: Email


class Renewal(_Model):
    renewable: StrictBool = False
    conditions: Annotated[str, Field(max_length=2000)] = ""


class Irb(_Model):
    status: Literal["approved", "exempt", "pending", "not_required"]
    board: Annotated[str, Field(max_length=300)] = ""
    protocol_number: Annotated[str, Field(max_length=100)] = ""
    approval_date: WireDate | None = None

    @model_validator(mode="after")
    def _approved_is_complete(self) -> Irb:
        if self.status in ("approved", "exempt"):
            missing = [
                name
                for name in ("board", "protocol_number", "approval_date")
                if not getattr(self, name)
            ]
            if missing:
                raise ValueError(f"an IRB status of {self.status!r} needs {', '.join(missing)}")
        return self


ExtractFormat = Literal["parquet", "csv"]


class ExtractOptions(_Model):
    """How the linked extract is prepared and protected (docs/extracts.md).

    ``include_unmatched``: also release people found in one agency only (default: only
    people linked across at least two agencies). ``k_anonymity``: the k checked on declared
    quasi-identifiers (``None``: the hub's ``disclosure_k``, default 5).
    ``quasi_identifier_policy``: what happens to classes smaller than k — ``generalise``
    (then suppress what is left), ``suppress``, or ``block`` the release for the stewards.
    ``recipient_public_key``: the researcher's X25519 public key (raw, base64url); when
    given, the extract key is also sealed to it (HPKE) and downloads are the ciphertext.
    """

    include_unmatched: StrictBool = False
    formats: list[ExtractFormat] = Field(default_factory=lambda: list[ExtractFormat](
        ["parquet"]), min_length=1, max_length=2)
    k_anonymity: Annotated[int, Field(ge=2, le=100)] | None = None
    quasi_identifier_policy: Literal["generalise", "suppress", "block"] = "generalise"
    recipient_public_key: X25519Key | None = None

    @model_validator(mode="after")
    def _distinct_formats(self) -> ExtractOptions:
        if len(set(self.formats)) != len(self.formats):
            raise ValueError("extract.formats repeats a format")
        return self


class DataSharingAgreement(_Model):
    title: Short
    institution: Short
    research_questions: list[Long] = Field(min_length=1, max_length=50)
    public_summary: Annotated[str, Field(min_length=1, max_length=2000)]
    scope_and_deliverables: Long
    allowable_uses: list[Short] = Field(min_length=1, max_length=50)
    variables: list[AgencyVariables] = Field(min_length=1, max_length=50)
    cohort_description: Long
    personnel: list[Person] = Field(min_length=1, max_length=100)
    agency_contacts: list[AgencyContact] = Field(min_length=1, max_length=50)
    security_plan: Long
    term_start: WireDate
    term_end: WireDate
    renewal: Renewal = Field(default_factory=Renewal)
    refresh_frequency: Literal["once", "annual", "semiannual", "quarterly", "monthly"]
    matching_authorised: StrictBool
    disposition: Literal["destroy", "return"]
    interim_findings_plan: Long
    irb: Irb
    extract: ExtractOptions = Field(default_factory=ExtractOptions)

    @model_validator(mode="after")
    def _consistent(self) -> DataSharingAgreement:
        if self.term_end <= self.term_start:
            raise ValueError(
                f"term_end ({self.term_end}) must be after term_start ({self.term_start})"
            )
        agencies = [entry.agency for entry in self.variables]
        if len(set(agencies)) != len(agencies):
            raise ValueError("variables lists an agency more than once")
        return self

    @property
    def agencies(self) -> list[str]:
        return sorted(entry.agency for entry in self.variables)

    def for_agency(self, agency: str) -> AgencyVariables | None:
        return next((entry for entry in self.variables if entry.agency == agency), None)

