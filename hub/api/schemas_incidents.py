"""Bodies and answers of the incident routes (hub.services.incidents,
hub.services.incident_containment; docs/incident-response.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hub.api.schemas_views import View

Severity = Literal["low", "medium", "high", "critical"]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=100)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class DataInvolved(_Body):
    """Which of an agency's variables an incident involves (names, never values)."""

    agency: Code = Field(description="The agency's code", examples=["K12"])
    variables: Annotated[list[Name], Field(max_length=500)] = Field(
        default_factory=list, description="Variable names involved (empty: not yet known)",
        examples=[["sped_flag", "gpa"]])


class IncidentCreate(_Body):
    """An incident as governance records it when it is found."""

    title: Annotated[str, Field(min_length=1, max_length=300)] = Field(
        description="A short name for the incident", examples=["Extract copied to a USB key"])
    description: Annotated[str, Field(min_length=1, max_length=20_000)] = Field(
        description="What happened, as far as known", examples=["A research assistant ..."])
    found_at: AwareDatetime = Field(description="When it was found (with a time zone)",
                                    examples=["2026-12-07T09:30:00Z"])
    severity: Severity = Field(description="`low`, `medium`, `high` or `critical`",
                               examples=["high"])
    project_id: Annotated[str, Field(min_length=1, max_length=32)] | None = Field(
        default=None, description="The project involved (null: none); containment acts on it",
        examples=["prj-0e14fc18607c"])
    data_involved: Annotated[list[DataInvolved], Field(max_length=50)] = Field(
        default_factory=list, description="The agencies and variables involved")
    notifiable: bool = Field(default=False, description="Whether policy makes it notifiable "
                             "(then the public page states it once contained)")
    public_summary: Annotated[str, Field(max_length=2000)] = Field(
        default="", description="What the public page says (no names, no records)")


class ContainBody(_Body):
    """One-step containment of the incident's project."""

    revocation: dict[str, Any] | None = Field(
        default=None, description="A revocation of the project signed by a roster member "
        "(a signed envelope, as `POST /v1/requests/{id}/revocations` takes); required once a "
        "governance roster exists, since nodes accept only signed revocations")
    suspend_users: bool = Field(default=True, description="Also suspend the personnel's "
                                "accounts (tokens are revoked and sessions ended either way)")


class CloseBody(_Body):
    """Closing an incident."""

    resolution: Annotated[str, Field(min_length=1, max_length=20_000)] = Field(
        description="How it ended: findings, remedies, lessons")


class NodeEvent(_Body):
    """One event of a node's audit log (as `fedlink incident node-log` reads it)."""

    seq: int = Field(ge=1, le=2**62, description="Its sequence number in the node's chain")
    at: Annotated[str, Field(max_length=40)] = Field(description="When the node recorded it")
    actor: Annotated[str, Field(max_length=256)] = Field(
        description="Who asked (a key id, `operator`, ...)")
    typ: Annotated[str, Field(max_length=64)] = Field(
        description="What was asked (`match_request`, `extract_request`, ...)")
    project_id: Annotated[str, Field(max_length=128)] = Field(description="The project")
    outcome: Annotated[str, Field(max_length=32)] = Field(description="Answered or refused")
    reason: Annotated[str, Field(max_length=64)] = Field(default="",
                                                         description="Why refused, if so")
    hash: Annotated[str, Field(max_length=64)] = Field(description="The event's chain hash")


class NodeLogBody(_Body):
    """A node's audit events about the incident's project, handed in by its agency."""

    agency: Code = Field(description="The agency whose node logged them", examples=["K12"])
    events: Annotated[list[NodeEvent], Field(max_length=100_000)] = Field(
        description="The events (those already held are skipped)")


class NodeLogAdded(View):
    """What was kept of a node log."""

    added: int = Field(description="Events not held before")


class Containment(View):
    """What containment did."""

    revocation: str = Field(description="`signed` (pushed to the nodes), `hub_only` (no "
                            "roster: the hub alone revoked it) or `not_revocable`")
    project_status: str = Field(description="The project's status afterwards")
    nodes_told: list[str] = Field(description="Agencies whose node took the signed revocation")
    nodes_not_told: list[str] = Field(description="Agencies whose node has not (yet): it "
                                      "pulls the revocation from the hub")
    personnel: list[int] = Field(description="The personnel accounts' ids")
    tokens_revoked: list[int] = Field(description="API tokens revoked")
    sessions_ended: list[int] = Field(description="Web sessions ended")
    users_suspended: list[int] = Field(description="Accounts suspended")
    extracts_destroyed: list[str] = Field(description="Extracts destroyed (key and file)")
    extracts_live: list[str] = Field(description="Extracts still live (should be none)")


class IncidentView(View):
    """An incident record."""

    id: str = Field(description="The incident's id", examples=["inc-3f2a9c01b7de"])
    title: str = Field(description="Its short name")
    description: str = Field(description="What happened")
    found_at: str = Field(description="When it was found (ISO 8601)")
    severity: Severity = Field(description="How severe")
    status: Literal["open", "contained", "closed"] = Field(description="How far the response "
                                                           "has come")
    project_id: str | None = Field(description="The project involved (null: none)")
    data_involved: list[DataInvolved] = Field(description="Agencies and variables involved")
    notifiable: bool = Field(description="Whether policy makes it notifiable")
    public_summary: str = Field(description="What the public page says")
    created_at: str = Field(description="When it was recorded")
    contained_at: str | None = Field(description="When it was contained (null: not yet)")
    containment: Containment | None = Field(description="What containment did")
    closed_at: str | None = Field(description="When it was closed (null: not yet)")
    resolution: str = Field(description="How it ended (empty until closed)")


class TimelineEvent(View):
    """One `incident.*` event of the hub's audit log."""

    seq: int = Field(description="Sequence number in the hub's audit chain")
    ts: str = Field(description="When")
    actor: str = Field(description="Who (`user:N`)")
    actor_name: str | None = Field(description="The account's current name")
    actor_role: str | None = Field(description="The account's current role")
    action: str = Field(description="What (`incident.opened`, `incident.contained`, ...)")
    outcome: str = Field(description="`ok` or a refusal")
    detail: dict[str, Any] = Field(description="The event's details")


class NotificationView(View):
    """One notification attempt."""

    channel: Literal["email", "webhook"] = Field(description="E-mail or webhook")
    target: str = Field(description="The address or URL")
    outcome: Literal["sent", "failed"] = Field(description="Whether it went out")
    error: str = Field(description="Why it failed (empty when sent)")
    sent_at: str | None = Field(default=None, description="When it was tried")


class IncidentDetail(IncidentView):
    """An incident with its timeline and its notifications."""

    timeline: list[TimelineEvent] = Field(description="Its audit events, in order")
    notifications: list[NotificationView] = Field(description="Every notification attempt")


class HubAccess(View):
    """One event of the hub's audit log about the project."""

    seq: int = Field(description="Sequence number in the hub's audit chain")
    ts: str = Field(description="When")
    actor: str = Field(description="Who (`user:N`, `node:CODE`, `assembler`, ...)")
    actor_name: str | None = Field(description="The account's current name (null: not a user)")
    actor_role: str | None = Field(description="The account's current role")
    action: str = Field(description="What was done (`extract.downloaded`, ...)")
    kind: Literal["download", "view", "change"] = Field(description="A copy, a look, or "
                                                        "anything else")
    object_type: str = Field(description="What it was done to")
    object_id: str = Field(description="Which one")
    agency: str = Field(description="The agency concerned, if any")
    outcome: str = Field(description="`ok` or a refusal")


class NodeAccess(View):
    """One node audit event handed in for the report."""

    agency: str = Field(description="The node's agency")
    seq: int = Field(description="Sequence number in the node's chain")
    at: str = Field(description="When")
    actor: str = Field(description="Who asked")
    typ: str = Field(description="What was asked")
    outcome: str = Field(description="Answered or refused")
    reason: str = Field(description="Why refused, if so")


class ActorCount(View):
    """How often one actor touched the project."""

    actor: str = Field(description="Who")
    download: int = Field(description="Downloads")
    view: int = Field(description="Looks")
    change: int = Field(description="Other events")


class AccessReport(View):
    """Who saw or downloaded what, from the hub's log and the node logs handed in."""

    incident_id: str = Field(description="The incident")
    project_id: str = Field(description="Its project")
    hub_events: list[HubAccess] = Field(description="Every hub event about the project")
    node_events: list[NodeAccess] = Field(description="Every node event handed in")
    agencies_reported: list[str] = Field(description="Agencies whose node log is in")
    by_actor: list[ActorCount] = Field(description="Counts per hub actor")


class NotifyResult(View):
    """The notifications just sent."""

    attempts: list[NotificationView] = Field(description="Each e-mail and webhook call")


class PublicIncident(View):
    """A notifiable incident, as policy has the public page state it."""

    id: str = Field(description="The incident's id")
    found_at: str = Field(description="The day it was found")
    severity: Severity = Field(description="How severe")
    status: Literal["contained", "closed"] = Field(description="Contained or closed")
    summary: str = Field(description="The public summary")
    contained_at: str | None = Field(description="The day it was contained")
