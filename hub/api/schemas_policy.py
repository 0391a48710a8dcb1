"""Bodies and answers of the governance policy routes: the research agenda
(hub.services.agenda) and the review checklist (hub.services.policy)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas_views import Time, View
from hub.services.agenda import DESCRIPTION_MAX, QUESTION_MAX


class AgendaItemCreate(BaseModel):
    """A priority question for the research agenda."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    question: Annotated[str, Field(min_length=1, max_length=QUESTION_MAX)] = Field(
        description="The priority question, as the public will read it",
        examples=["Which early-grade supports raise college enrolment?"])
    description: Annotated[str, Field(max_length=DESCRIPTION_MAX)] = Field(
        default="", description="Why it matters and what answers would help (optional)",
        examples=["The agencies want evidence for the 2028 budget."])


class AgendaItemRetire(BaseModel):
    """Why an agenda item is retired (kept in the audit log)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: Annotated[str, Field(max_length=2000)] = Field(
        default="", description="Why it is retired (optional)",
        examples=["Answered by project prj-0e14fc18607c."])


class AgendaItemView(View):
    """One priority question of the research agenda."""

    id: int = Field(description="The item's id, named in an agreement's `agenda_items`",
                    examples=[1])
    question: str = Field(description="The priority question")
    description: str = Field(description="Why it matters (may be empty)")
    status: str = Field(description="`active` (requests may link to it) or `retired`",
                        examples=["active"])
    created_at: Time = Field(description="When it was added (ISO 8601, UTC)")
    retired_at: Time | None = Field(description="When it was retired; null while active")


class LinkedProject(View):
    """An approved project that answers an agenda item."""

    id: str = Field(description="The project id", examples=["prj-0e14fc18607c"])
    title: str = Field(description="The project's title")


class PublicAgendaItem(AgendaItemView):
    """An agenda item with the approved projects linked to it."""

    projects: list[LinkedProject] = Field(
        description="Approved (once) projects whose agreement names this item, oldest first")


class PublicAgenda(View):
    """The published research agenda."""

    hub: str = Field(description="The hub's name", examples=["Fedlink hub"])
    items: list[PublicAgendaItem] = Field(description="Every agenda item, oldest first, "
                                          "active and retired")


class CriterionView(View):
    """One criterion of the hub's review checklist."""

    id: str = Field(description="The criterion's id (answer it by this id)",
                    examples=["minimum_necessary"])
    text: str = Field(description="What the reviewer assesses")


class ReviewPolicy(View):
    """What the hub's governance policy asks of reviews and requests."""

    review_criteria: list[CriterionView] = Field(
        description="The checklist: an approval answers every criterion as met")
    governance_quorum: int = Field(description="Governance approvals a request needs at "
                                   "least (never below 2)", examples=[2])
    quorum_by_classification: dict[str, int] = Field(
        description="Stricter quorums when a request asks a variable of that classification",
        examples=[{"restricted": 3}])
    classification_rules: dict[str, dict[str, int | float | bool]] = Field(
        description="Protection per classification level (docs/classification.md): "
        "`min_k` (extract k floor, 0 = the agreement's), `l_diversity` and `t_closeness` of "
        "sensitive variables (0 = off), `record_level_download` (false = outputs only) and "
        "`quorum` (0 = governance_quorum)",
        examples=[{"restricted": {"min_k": 0, "l_diversity": 0, "t_closeness": 0.0,
                                  "record_level_download": False, "quorum": 3}}])
    require_irb_approval: bool = Field(description="Approval waits for the IRB's")
    requester_rules: dict[str, dict[str, int | bool]] = Field(
        description="Per requester type: `extra_quorum`, `record_level_extract`, "
        "`agency_member`", examples=[{"vendor": {"extra_quorum": 1,
                                                 "record_level_extract": False,
                                                 "agency_member": False}}])
