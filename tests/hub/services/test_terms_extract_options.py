"""The extract options (k, unmatched handling, small-class policy) are inside the terms each
steward signs: the hub's k is pinned at submission, and changing any option changes the
terms digest, so an approval given for other options no longer counts."""

from __future__ import annotations

from typing import Any

from hub.persistence import requests as request_store
from hub.services.terms import agency_terms, current_digests


def _request(hub: Any, request_id: str) -> Any:
    with hub.ctx.session_factory() as session:
        request = request_store.get_request(session, request_id=request_id)
        assert request is not None
        session.expunge(request)
        return request


def test_terms_carry_the_extract_options_with_the_hub_k_pinned_at_submission(hub: Any) -> None:
    researcher = hub.token("researcher")
    draft = hub.create_request(researcher, extract={"include_unmatched": True})
    assert _request(hub, draft).dsa["extract"].get("k_anonymity") is None
    submitted = hub.client.post(f"/v1/requests/{draft}/submit", headers=hub.auth(researcher))
    assert submitted.status_code == 200, submitted.text
    request = _request(hub, draft)
    assert agency_terms(request, "K12")["extract"] == {
        "include_unmatched": True, "k_anonymity": hub.ctx.settings.disclosure_k,
        "quasi_identifier_policy": "generalise"}


def test_terms_digest_changes_with_each_extract_option(hub: Any) -> None:
    request = _request(hub, hub.submitted_request(hub.token("researcher")))
    before = current_digests(request)
    for change in ({"k_anonymity": 2}, {"include_unmatched": True},
                   {"quasi_identifier_policy": "block"}):
        edited = dict(request.dsa)
        edited["extract"] = {**request.dsa.get("extract", {}), **change}
        request.dsa = edited
        after = current_digests(request)
        assert all(after[a] != before[a] for a in before), change
        before = after
