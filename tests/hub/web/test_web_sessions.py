"""Server-side web sessions: created at sign-in and stored hashed, ended by sign-out, by
revoking the token that opened them and by idleness (run on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select

from hub.db.models import WebSession
from hub.domain.tokens import hash_token


def _session_cookie(response: Any) -> str:
    match = re.search(r"fedlink_session=([^;]+)", response.headers.get("set-cookie", ""))
    assert match, response.headers
    return match.group(1)


def test_signin_exchanges_token_for_session_and_goes_to_next(web_hub, browser,
                                                             audit_events) -> None:
    user_id, token = web_hub.user("governance", name="Gail")
    b = browser()
    response = b.sign_in(token, next_path="/review")
    assert response.status_code == 303
    assert response.headers["location"] == "/review"
    cookie = response.headers["set-cookie"]
    assert "fedlink_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Path=/" in cookie
    assert token not in cookie
    page = b.get("/review")
    assert page.status_code == 200 and "Signed in as <strong>Gail</strong>" in page.text
    started = audit_events(action="session.started")
    assert [e["actor"] for e in started] == [f"user:{user_id}"]


def test_session_is_stored_only_as_a_hash(web_hub, browser) -> None:
    raw = _session_cookie(browser().sign_in(web_hub.token("auditor")))
    with web_hub.ctx.session_factory() as session:
        hashes = [r.session_hash for r in session.scalars(select(WebSession))]
    assert hashes == [hash_token(raw)]


def test_signout_ends_the_session_on_the_server(web_hub, browser, audit_events) -> None:
    b = browser()
    raw = _session_cookie(b.sign_in(web_hub.token("auditor")))
    response = b.post("/signout", {}, csrf_from="/")
    assert response.status_code == 303 and response.headers["location"] == "/?signed_out=true"
    assert "fedlink_session=" in response.headers["set-cookie"]  # cleared
    replay = browser()
    replay.client.cookies.set("fedlink_session", raw)
    assert replay.get("/audit").status_code == 303  # the old cookie opens nothing
    assert len(audit_events(action="session.ended")) == 1


def test_revoking_the_token_ends_its_web_session(web_hub, browser) -> None:
    b = browser(web_hub.token("auditor"))
    assert b.get("/audit").status_code == 200
    with web_hub.ctx.session_factory() as session:
        token_id = session.scalars(select(WebSession.token_id)).one()
    revoked = web_hub.client.delete(f"/v1/tokens/{token_id}",
                                    headers=web_hub.auth(web_hub.admin_token))
    assert revoked.status_code == 200, revoked.text
    assert b.get("/audit").status_code == 303


def test_idle_session_expires(web_hub, browser) -> None:
    b = browser(web_hub.token("auditor"))
    web_hub.clock.offset = dt.timedelta(minutes=web_hub.ctx.settings.web_session_idle_minutes,
                                        seconds=1)
    assert b.get("/audit").status_code == 303
