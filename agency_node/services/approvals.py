"""The agency veto, signed at the node: a steward approves or denies a project's terms.

The terms come from the hub (``GET /v1/node/requests/{id}/terms``); the node recomputes
their digest (``protocol.wire.terms_digest`` of the terms without ``status`` and
``terms_digest``) and refuses terms whose digest does not match, that are for another
agency, or that name variables this node does not offer. The decision and the approved
scope are recorded in the node store first — they are what the node enforces — then sent to
the hub as a ``steward_decision`` envelope signed by the node key. The steward's own key,
registered on the node (:mod:`agency_node.services.stewards`), must also sign it, and the
decision records that key's id.

Terms ``years`` may be a list of years, or ``first_year``/``last_year`` (top level or inside
``years``), an inclusive range. ``variables`` items are names or objects with a ``name``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from agency_node import keys
from agency_node.errors import ApprovalError, HubClientError
from agency_node.hub_client import HubClient
from agency_node.runtime import NodeRuntime
from agency_node.services import stewards
from agency_node.store.approvals import get_approval, save_decision
from protocol.signing import sign
from protocol.wire import Cohort, StewardDecision, terms_digest

Decision = Literal["approve", "deny"]
_NOT_APPROVABLE = {"draft", "withdrawn", "denied", "revoked", "expired", "destroyed"}


@dataclass(frozen=True)
class Terms:
    raw: dict[str, Any]
    project_id: str
    digest: str
    variables: list[str]
    years: list[int]
    cohort: Cohort
    term_start: dt.date
    term_end: dt.date
    matching_authorised: bool
    status: str


def _years(data: dict[str, Any]) -> list[int]:
    years = data.get("years")
    bounds = years if isinstance(years, dict) else data
    if "first_year" in bounds and "last_year" in bounds:
        first, last = int(bounds["first_year"]), int(bounds["last_year"])
        if first > last or last - first > 200:
            raise ValueError("first_year/last_year is not a range")
        return list(range(first, last + 1))
    if isinstance(years, list) and all(isinstance(y, int) for y in years):
        return sorted(set(years))
    raise ValueError("years is neither a list of years nor first_year/last_year")


def read_terms(data: dict[str, Any], *, project_id: str, runtime: NodeRuntime) -> Terms:
    """Validate the hub's terms for this node; ApprovalError says what is wrong."""
    config = runtime.settings.node
    content = {k: v for k, v in data.items() if k not in ("status", "terms_digest")}
    digest = terms_digest(content)
    if data.get("terms_digest") != digest:
        raise ApprovalError("the terms' digest does not match their content; nothing recorded")
    if data.get("project_id") != project_id:
        raise ApprovalError(f"the hub sent terms for {data.get('project_id')!r}, not {project_id}")
    if data.get("agency") != config.node.agency:
        raise ApprovalError(f"the terms are for agency {data.get('agency')!r}, not this node's")
    try:
        variables = [v if isinstance(v, str) else str(v["name"]) for v in data["variables"]]
        cohort = Cohort.model_validate(data.get("cohort") or {})
        terms = Terms(
            raw=data, project_id=project_id, digest=digest, variables=variables,
            years=_years(data), cohort=cohort,
            term_start=dt.date.fromisoformat(data["term_start"]),
            term_end=dt.date.fromisoformat(data["term_end"]),
            matching_authorised=bool(data["matching_authorised"]),
            status=str(data.get("status", "")),
        )
    except (KeyError, TypeError, ValueError, ValidationError) as exc:
        raise ApprovalError(f"the hub's terms are not usable: {type(exc).__name__}: "
                            f"{str(exc).splitlines()[0]}") from None
    offered = set(config.variables)
    named = [*variables, *(c.variable for c in cohort.conditions)]
    unknown = sorted({v for v in named if v not in offered})
    if unknown:
        raise ApprovalError(f"the terms name variables this node does not offer: {unknown}")
    return terms


def record_decision(runtime: NodeRuntime, terms: Terms, *, decision: Decision, reason: str,
                    now: dt.datetime, steward_kid: str) -> None:
    """Record the decision; ``decided_by`` is the key id of the registered steward who
    signed it (services/stewards.py)."""
    outcome = "approved" if decision == "approve" else "denied"
    steward = steward_kid
    values: dict[str, Any] = {
        "decision": outcome,
        "reason": reason, "terms": terms.raw, "terms_digest": terms.digest,
        "variables": terms.variables, "years": terms.years,
        "cohort": terms.cohort.model_dump(mode="json"),
        "term_start": terms.term_start.isoformat(), "term_end": terms.term_end.isoformat(),
        "matching_authorised": terms.matching_authorised,
        "decided_at": now.isoformat(), "decided_by": steward,
    }
    with runtime.sessions() as session:
        save_decision(session, project_id=terms.project_id, values=values)
        session.commit()
    runtime.audit.append(
        actor=f"steward:{steward}", typ="steward_decision",
        project_id=terms.project_id, outcome=outcome, reason=reason[:200], now=now,
        details={"terms_digest": terms.digest, "variables": terms.variables,
                 "years": terms.years, "term_end": terms.term_end.isoformat(),
                 "matching_authorised": terms.matching_authorised},
    )


def steward_decide(
    runtime: NodeRuntime,
    client: HubClient,
    *,
    project_id: str,
    decision: Decision,
    reason: str = "",
    confirm: Callable[[Terms], bool],
    now: dt.datetime | None = None,
    steward_key: Ed25519PrivateKey | None = None,
) -> dict[str, Any]:
    """Fetch, check, confirm, record and send one decision; the hub's answer.
    ``steward_key`` must be a steward key registered on this node."""
    when = now or dt.datetime.now(dt.UTC)
    if decision == "deny" and not reason.strip():
        raise ApprovalError("a denial needs a --reason")
    steward_kid = stewards.require_steward(runtime, steward_key)
    try:
        terms = read_terms(client.fetch_terms(project_id), project_id=project_id, runtime=runtime)
    except HubClientError as exc:
        if decision == "deny" and _revoke_locally(runtime, project_id, reason, when,
                                                  steward_kid):
            raise HubClientError(f"denied on this node, but the hub was not told: {exc}") from None
        raise
    if decision == "approve" and terms.status in _NOT_APPROVABLE:
        raise ApprovalError(f"the request is {terms.status} at the hub; it cannot be approved")
    if not confirm(terms):
        raise ApprovalError("not confirmed; nothing was recorded or sent")
    record_decision(runtime, terms, decision=decision, reason=reason, now=when,
                    steward_kid=steward_kid)
    body = StewardDecision(project_id=project_id, agency=runtime.settings.agency,
                           decision=decision, reason=reason, terms_digest=terms.digest,
                           decided_at=when)
    assert steward_key is not None  # require_steward refused a decision without one
    stewards.sign_decision(runtime, steward_key, body, now=when)
    envelope = sign(body, typ=StewardDecision.TYP,
                    private_key=keys.load_signing_key(runtime.settings.dir))
    return client.send_decision(project_id, envelope.to_json())


def _revoke_locally(runtime: NodeRuntime, project_id: str, reason: str, now: dt.datetime,
                    steward_kid: str) -> bool:
    """Deny a previously approved project on this node even when the hub is unreachable."""
    with runtime.sessions() as session:
        approval = get_approval(session, project_id=project_id)
    if approval is None:
        return False
    terms = Terms(raw=approval.terms, project_id=project_id, digest=approval.terms_digest,
                  variables=approval.variables, years=approval.years,
                  cohort=Cohort.model_validate(approval.cohort or {}),
                  term_start=dt.date.fromisoformat(approval.term_start),
                  term_end=dt.date.fromisoformat(approval.term_end),
                  matching_authorised=approval.matching_authorised, status="")
    record_decision(runtime, terms, decision="deny", reason=reason, now=now,
                    steward_kid=steward_kid)
    return True
