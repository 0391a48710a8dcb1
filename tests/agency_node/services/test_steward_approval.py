"""Steward decisions against a fake hub: terms checked, recorded here, signed to the hub."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from agency_node.errors import ApprovalError, HubClientError
from agency_node.hub_client import HubClient
from agency_node.runtime import NodeRuntime
from agency_node.services.approvals import steward_decide
from agency_node.services.enrollment import enroll
from agency_node.store.approvals import get_approval
from tests.agency_node.conftest import register_steward


@pytest.fixture
def enrolled(node_dir: Path, fake_hub: object) -> Path:
    with NodeRuntime.open(node_dir) as runtime, HubClient(
        "http://hub.test", transport=fake_hub.transport()
    ) as client:
        enroll(runtime, client, hub_url="http://hub.test", token=fake_hub.enrollment_token)
    return node_dir


def _decide(node_dir: Path, fake_hub: object, decision: str = "approve", *, reason: str = "",
            confirm: bool = True, project_id: str = "P-2026-001"):
    shown = []

    def confirmer(terms: object) -> bool:
        shown.append(terms)
        return confirm

    with NodeRuntime.open(node_dir) as runtime, HubClient(
        "http://hub.test", token=fake_hub.node_token, transport=fake_hub.transport()
    ) as client:
        answer = steward_decide(runtime, client, project_id=project_id, decision=decision,
                                reason=reason, confirm=confirmer,
                                steward_key=register_steward(runtime))
    return answer, shown


def _approval(node_dir: Path, project_id: str = "P-2026-001"):
    with NodeRuntime.open(node_dir) as runtime, runtime.sessions() as session:
        return get_approval(session, project_id=project_id)


def test_approve_records_scope_and_sends_signed_decision(
    enrolled: Path, fake_hub: object, wire: SimpleNamespace
) -> None:
    terms = wire.make_terms(cohort={"conditions": [
        {"kind": "range", "variable": "grade_level", "minimum": 9, "maximum": 12}]})
    fake_hub.terms[wire.PROJECT] = terms
    answer, shown = _decide(enrolled, fake_hub)
    assert answer["status"] == "in_review"
    assert len(shown) == 1
    approval = _approval(enrolled)
    assert approval.decision == "approved"
    assert (approval.variables, approval.years) == (["grade_level", "gpa"], [2019, 2020, 2021])
    assert approval.cohort["conditions"][0]["minimum"] == 9
    assert approval.terms_digest == terms["terms_digest"]
    (decision,) = fake_hub.decisions
    assert (decision.decision, decision.agency, decision.terms_digest) == (
        "approve", "K12", terms["terms_digest"])


def test_approve_refuses_terms_whose_digest_does_not_match(
    enrolled: Path, fake_hub: object, wire: SimpleNamespace
) -> None:
    terms = wire.make_terms()
    terms["variables"] = ["grade_level", "gpa", "ell"]  # changed after the digest
    fake_hub.terms[wire.PROJECT] = terms
    with pytest.raises(ApprovalError, match="digest"):
        _decide(enrolled, fake_hub)
    assert _approval(enrolled) is None
    assert fake_hub.decisions == []


def test_approve_refuses_terms_for_another_agency(
    enrolled: Path, fake_hub: object, wire: SimpleNamespace
) -> None:
    fake_hub.terms[wire.PROJECT] = wire.make_terms(agency="WORKFORCE")
    with pytest.raises(ApprovalError, match="WORKFORCE"):
        _decide(enrolled, fake_hub)


def test_approve_refuses_unknown_variable(
    enrolled: Path, fake_hub: object, wire: SimpleNamespace
) -> None:
    fake_hub.terms[wire.PROJECT] = wire.make_terms(variables=["gpa", "wages"])
    with pytest.raises(ApprovalError, match="wages"):
        _decide(enrolled, fake_hub)


def test_approve_not_confirmed_records_and_sends_nothing(
    enrolled: Path, fake_hub: object, wire: SimpleNamespace
) -> None:
    fake_hub.terms[wire.PROJECT] = wire.make_terms()
    with pytest.raises(ApprovalError, match="not confirmed"):
        _decide(enrolled, fake_hub, confirm=False)
    assert _approval(enrolled) is None
    assert fake_hub.decisions == []


def test_deny_records_denial_and_sends_reason(
    enrolled: Path, fake_hub: object, wire: SimpleNamespace
) -> None:
    fake_hub.terms[wire.PROJECT] = wire.make_terms()
    _decide(enrolled, fake_hub)
    _decide(enrolled, fake_hub, "deny", reason="FERPA exception does not apply")
    assert _approval(enrolled).decision == "denied"
    assert [d.decision for d in fake_hub.decisions] == ["approve", "deny"]
    assert fake_hub.decisions[-1].reason == "FERPA exception does not apply"


def test_deny_without_reason_refused(enrolled: Path, fake_hub: object) -> None:
    with pytest.raises(ApprovalError, match="reason"):
        _decide(enrolled, fake_hub, "deny")


def test_deny_when_hub_unreachable_still_revokes_locally(
    enrolled: Path, fake_hub: object, wire: SimpleNamespace
) -> None:
    fake_hub.terms[wire.PROJECT] = wire.make_terms()
    _decide(enrolled, fake_hub)
    with (
        NodeRuntime.open(enrolled) as runtime,
        HubClient("http://127.0.0.1:9", token="x") as client,
        pytest.raises(HubClientError, match="denied on this node"),
    ):
        steward_decide(runtime, client, project_id=wire.PROJECT, decision="deny",
                       reason="consent withdrawn", confirm=lambda _t: True,
                       steward_key=register_steward(runtime))
    assert _approval(enrolled).decision == "denied"


def test_approve_unknown_project_names_the_hub_error(enrolled: Path, fake_hub: object) -> None:
    with pytest.raises(HubClientError, match="not_found"):
        _decide(enrolled, fake_hub, project_id="P-404")


def test_terms_years_as_first_and_last_year(
    enrolled: Path, fake_hub: object, wire: SimpleNamespace
) -> None:
    terms = wire.make_terms(years={"first_year": 2018, "last_year": 2020})
    fake_hub.terms[wire.PROJECT] = terms
    _decide(enrolled, fake_hub)
    assert _approval(enrolled).years == [2018, 2019, 2020]
