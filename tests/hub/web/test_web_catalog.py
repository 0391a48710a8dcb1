"""The data dictionary pages: /catalog for every signed-in role, /public/catalog for anyone
(no counts), both showing only what their JSON twins answer."""

from __future__ import annotations

from protocol.signing import sign
from protocol.wire import DictionaryUpdate

XSS = "<script>alert(1)</script>"
GRADE = {"name": "grade", "type": "integer", "years": [2019, 2020],
         "classification": "internal", "description": f"Grade level {XSS}",
         "completeness": [{"year": 2019, "percent": 100}, {"year": 2020, "percent": 97}],
         "codes": [{"code": "03", "label": "Grade 3", "count": 412},
                   {"code": "13", "label": "Ungraded", "count": 3}]}
NOTE = {"name": "note", "description": "note (from the agency source; describe it for "
        "researchers)", "description_placeholder": True, "years": []}


def _publish(hub) -> None:
    body = DictionaryUpdate(agency="K12", published_at=hub.clock(), dictionary=(GRADE, NOTE))
    envelope = sign(body, typ=DictionaryUpdate.TYP, private_key=hub.agencies["K12"].key,
                    now=int(hub.clock().timestamp())).to_json()
    response = hub.client.post("/v1/node/dictionary", content=envelope, headers={
        **hub.auth(hub.agencies["K12"].token), "Content-Type": "application/json"})
    assert response.status_code == 200, response.text


def test_catalog_page_shows_years_completeness_and_codes(web_hub, browser) -> None:
    _publish(web_hub)
    for role in ("researcher", "auditor"):
        page = browser(web_hub.token(role)).get("/catalog?agency=K12")
        assert page.status_code == 200
        text = page.text
        assert "<span class=\"mono\">grade</span>" in text
        assert "2019, 2020" in text and "97 %" in text
        assert "<td>412</td>" in text and "<td>few</td>" in text and "<td>3</td>" not in text
        assert XSS not in text and "&lt;script&gt;" in text
        assert "Not yet described by the agency" in text
        assert "none — no request can ask for this variable" in text


def test_catalog_page_needs_sign_in(web_hub, browser) -> None:
    response = browser().get("/catalog")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin")


def test_public_catalog_page_has_no_counts(web_hub, browser) -> None:
    _publish(web_hub)
    text = browser().get("/public/catalog").text
    assert "<td class=\"mono\">grade</td>" in text and "2019–2020" in text
    assert "412" not in text and "97 %" not in text and "Ungraded" not in text
    # A placeholder is not shown to the public as if it were a description.
    assert "describe it for researchers" not in text and "Not yet described" in text
    assert XSS not in text
