"""The governance policy's settings types (docs/governance-policy.md): the review checklist
and the rules of each requester type, as ``hub.toml`` gives them (hub.settings)."""

from __future__ import annotations

from typing import Final

from pydantic import BaseModel, ConfigDict, Field

#: The review checklist a hub starts with; the governance body replaces it in hub.toml.
DEFAULT_CRITERIA: Final = (
    ("public_benefit", "The research serves a public benefit the agencies recognise"),
    ("minimum_necessary", "Only the data the research questions need is asked"),
    ("irb", "The IRB's approval (or exemption) covers this use"),
    ("security_plan", "The security plan protects the data for the whole term"),
    ("disclosure_risk", "Published results will not disclose anyone's records"),
)


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReviewCriterion(_Policy):
    """One criterion of the review checklist: a stable id and the question asked."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    text: str = Field(min_length=1, max_length=500)


class RequesterRule(_Policy):
    """What one requester type must meet (every field given: a partial rule is refused)."""

    #: Governance approvals needed beyond the request's quorum.
    extra_quorum: int = Field(ge=0, le=10)
    #: May the project's people download record-level linked extracts?
    record_level_extract: bool
    #: The requester's account institution must be an agency the request asks data of.
    agency_member: bool


class RequesterRules(_Policy):
    """The rule of each requester type (``requester_type`` of the agreement)."""

    researcher: RequesterRule = RequesterRule(
        extra_quorum=0, record_level_extract=True, agency_member=False)
    agency_staff: RequesterRule = RequesterRule(
        extra_quorum=0, record_level_extract=True, agency_member=True)
    vendor: RequesterRule = RequesterRule(
        extra_quorum=1, record_level_extract=False, agency_member=False)
