"""The training page: governance records completions and sees everyone's standing; a
researcher sees their own only; the rule and audit are the training service's."""

from __future__ import annotations

import datetime as dt
from typing import Any


def _form(user_id: int, today: dt.date, **overrides: str) -> dict[str, str]:
    return {"user_id": str(user_id), "training": "data-privacy",
            "completed_on": (today - dt.timedelta(days=3)).isoformat(),
            "expires_on": (today + dt.timedelta(days=362)).isoformat(), **overrides}


def test_governance_records_training_and_the_researcher_sees_it(web_hub: Any, browser: Any,
                                                                 audit_events: Any) -> None:
    hub = web_hub
    # A researcher without training (the factory trains every researcher it makes).
    invited = hub.client.post("/v1/invitations", headers=hub.auth(hub.admin_token),
                              json={"name": "Rita Untrained", "role": "researcher"})
    redeemed = hub.client.post("/v1/invitations/redeem",
                               json={"code": invited.json()["code"]}).json()
    rita_id, rita = redeemed["id"], redeemed["token"]
    researcher = browser(rita)
    before = researcher.get("/training").text
    assert "data-privacy: <span class=\"refused\">Not recorded</span>" in before
    assert "Everyone's training" not in before and "Record a completion" not in before

    governance = browser(hub.token("governance"))
    today = hub.clock().date()
    done = governance.post("/training", _form(rita_id, today), csrf_from="/training")
    assert done.status_code == 303, done.text
    page = governance.get(done.headers["location"]).text
    assert "The completion of data-privacy was recorded." in page
    row = page[page.index(f"user:{rita_id}</span>") - 200:][:900]
    assert "Rita Untrained" in row
    expiry = (today + dt.timedelta(days=362)).isoformat()
    assert f"Current</span> until {expiry}" in row
    assert [e["object_id"] for e in audit_events(action="training.recorded")] == [str(rita_id)]

    after = researcher.get("/training").text
    assert f"data-privacy: <span class=\"training-current\">Current</span> until {expiry}" in after


def test_record_form_errors_and_own_training_refusal(web_hub: Any, browser: Any,
                                                     audit_events: Any) -> None:
    hub = web_hub
    member_id, member = hub.user("governance")
    governance = browser(member)
    today = hub.clock().date()
    bad = governance.post("/training", _form(hub.user("researcher")[0], today,
                                             completed_on="yesterday"), csrf_from="/training")
    assert bad.status_code == 422 and "Enter the completion date as YYYY-MM-DD." in bad.text
    future = governance.post("/training", _form(hub.user("researcher")[0], today,
                                                completed_on="2999-01-01",
                                                expires_on="2999-12-31"),
                             csrf_from="/training")
    assert future.status_code == 422
    assert "A training cannot be completed in the future." in future.text
    own = governance.post("/training", _form(member_id, today), csrf_from="/training")
    assert own.status_code == 403 and "Nobody records their own training." in own.text
    assert [e["outcome"] for e in audit_events(action="training.record_refused")] == [
        "refused:invalid_request", "refused:own_training"]


def test_only_governance_records_and_csrf_is_checked(web_hub: Any, browser: Any) -> None:
    hub = web_hub
    target, _ = hub.user("researcher")
    today = hub.clock().date()
    auditor = browser(hub.token("auditor"))
    page = auditor.get("/training").text
    assert "Everyone's training" in page and "Record a completion" not in page
    assert auditor.post("/training", _form(target, today),
                        csrf_from="/training").status_code == 403
    governance = browser(hub.token("governance"))
    forged = governance.post("/training", {**_form(target, today), "csrf_token": "0" * 64})
    assert forged.status_code == 403
