"""The sign-in form, login CSRF, CSRF refusal of other forms, redirects to sign in, and
the pages' security headers (sessions themselves: test_web_sessions.py)."""

from __future__ import annotations

import re


def test_signin_form_is_labelled_and_sets_a_strict_nonce_cookie(web_hub, browser) -> None:
    page = browser().get("/signin")
    assert page.status_code == 200
    assert '<label for="token">API token</label>' in page.text
    assert 'aria-describedby="token-hint"' in page.text
    cookie = page.headers["set-cookie"]
    assert "fedlink_signin=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie and "Path=/signin" in cookie


def test_default_settings_give_a_host_prefixed_secure_cookie(make_hub) -> None:
    secure_hub = make_hub()  # web_cookie_secure defaults to true
    client = secure_hub.client
    page = client.get("/signin")
    assert "__Secure-fedlink_signin=" in page.headers["set-cookie"]
    nonce = re.search(r'name="signin_nonce" value="([^"]+)"', page.text).group(1)
    client.cookies.set("__Secure-fedlink_signin", nonce)  # httpx keeps Secure cookies off http
    response = client.post("/signin", data={"token": secure_hub.token("auditor"),
                                             "signin_nonce": nonce}, follow_redirects=False)
    assert response.status_code == 303, response.text
    cookie = next(c for c in response.headers.get_list("set-cookie") if "session" in c)
    assert cookie.startswith("__Host-fedlink_session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/" in cookie and "Domain" not in cookie


def test_bad_token_shows_the_error_next_to_the_field_and_is_audited(web_hub, browser,
                                                                    audit_events) -> None:
    response = browser().sign_in("flu_not-a-real-token")
    assert response.status_code == 401
    assert 'id="token-error"' in response.text
    assert 'aria-describedby="token-hint token-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert "<title>Error: Sign in" in response.text
    assert "set-cookie" not in response.headers or "fedlink_session" not in \
        response.headers["set-cookie"]
    assert [e["outcome"] for e in audit_events(action="auth.failed")] == \
        ["refused:invalid_token"]


def test_empty_token_is_a_validation_error(web_hub, browser) -> None:
    response = browser().sign_in("   ")
    assert response.status_code == 422
    assert "Enter your API token." in response.text and 'id="token-error"' in response.text


def test_signin_without_the_form_nonce_is_refused(web_hub, browser) -> None:
    token = web_hub.token("auditor")
    b = browser()
    b.get("/signin")
    response = b.client.post("/signin", data={"token": token, "signin_nonce": "forged"})
    assert response.status_code == 403
    assert "This form was not accepted" in response.text
    assert "fedlink_session" not in response.headers.get("set-cookie", "")


def test_node_token_cannot_sign_in(web_hub, browser, audit_events) -> None:
    response = browser().sign_in(web_hub.agencies["K12"].token)
    assert response.status_code == 403
    assert "node tokens cannot sign in" in response.text
    assert audit_events(action="auth.forbidden")[-1]["outcome"] == \
        "refused:node_token_not_admitted"


def test_next_pointing_off_site_goes_home(web_hub, browser) -> None:
    token = web_hub.token("auditor")
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = browser().sign_in(token, next_path=target)
        assert response.headers["location"] == "/", target


def test_pages_redirect_to_signin_with_the_page_to_return_to(web_hub, browser) -> None:
    response = browser().get("/review?show=all")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=/review%3Fshow%3Dall"


def test_signout_without_csrf_token_is_refused_and_audited(web_hub, browser,
                                                           audit_events) -> None:
    b = browser(web_hub.token("auditor"))
    response = b.post("/signout", {"csrf_token": "0" * 64})
    assert response.status_code == 403
    assert "This form was not accepted" in response.text
    assert b.get("/audit").status_code == 200  # still signed in
    assert [e["outcome"] for e in audit_events(action="auth.csrf_refused")] == \
        ["refused:csrf_failed"]


def test_pages_carry_security_headers(web_hub, browser) -> None:
    for url in ("/", "/public", "/signin", "/review"):
        headers = browser().get(url).headers
        assert "script-src 'self'" in headers["content-security-policy"], url
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"
