"""The audit page and its exports name each user actor (name and role) for auditors."""

from __future__ import annotations

import csv
import io
from typing import Any


def test_audit_page_and_export_name_the_actors(web_hub: Any, browser: Any) -> None:
    gail_id, gail = web_hub.user("governance", name="Gail <b>Governance</b>")
    request_id = web_hub.submitted_request(web_hub.token("researcher"))
    assert web_hub.review(request_id, gail).status_code == 201
    auditor = browser(web_hub.token("auditor"))
    query = f"project={request_id}&action=request.reviewed"
    page = auditor.get(f"/audit?{query}")
    assert page.status_code == 200
    row = page.text[page.text.index("<tbody>"):page.text.index("</tbody>")]
    assert ('<span class="actor-name">Gail &lt;b&gt;Governance&lt;/b&gt;</span> (governance)'
            in row)
    assert f"user:{gail_id}" in row
    exported = auditor.get(f"/audit/export.csv?{query}")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(r["actor"], r["actor_name"], r["actor_role"]) for r in rows] == [
        (f"user:{gail_id}", "Gail <b>Governance</b>", "governance")]
