"""hub.client.HubClient on the client's transport: the server CLI keeps its dict methods
and HubClientError, now with the client's exit codes, retries and TLS messages."""

from __future__ import annotations

import httpx
import pytest
from fedlink_client import RetryPolicy

from hub.client import HubClient
from hub.errors import HubClientError


def _answering(status: int) -> HubClient:
    transport = httpx.MockTransport(lambda _r: httpx.Response(
        status, json={"error": f"code_{status}", "detail": "no"}))
    return HubClient("http://hub.test", token="t", transport=transport)


@pytest.mark.parametrize(("status", "exit_code"), [
    (400, 2), (422, 2), (401, 3), (403, 3), (404, 4), (409, 5), (500, 1), (410, 1)])
def test_refusals_become_hub_client_errors_with_the_exit_code(status: int,
                                                              exit_code: int) -> None:
    with _answering(status) as client, pytest.raises(HubClientError) as raised:
        client.submit_request("P-1")
    error = raised.value
    assert (error.status, error.code, error.exit_code) == (status, f"code_{status}", exit_code)
    assert str(error) == f"the hub refused POST /v1/requests/P-1/submit: code_{status} " \
                         f"({status}): no"


def test_unreachable_exits_6_and_a_bad_url_2() -> None:
    with HubClient("http://127.0.0.1:9") as client:
        client.api.retry = RetryPolicy(retries=0)
        with pytest.raises(HubClientError, match="cannot be reached") as raised:
            client.me()
    assert raised.value.exit_code == 6
    with pytest.raises(HubClientError) as bad:
        HubClient("hub.example.org")
    assert bad.value.exit_code == 2


def test_dicts_as_before_and_gets_retried() -> None:
    calls: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        if len(calls) == 1:
            return httpx.Response(503)
        return httpx.Response(200, json=[{"agency": "K12", "variable": "grade"}])

    with HubClient("http://hub.test", transport=httpx.MockTransport(handle)) as client:
        client.api.retry = RetryPolicy(retries=1, backoff=0.01)
        assert client.catalog() == [{"agency": "K12", "variable": "grade"}]
    assert calls == ["GET", "GET"]


def test_the_environment_never_leaks_into_the_server_client(
        monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str | None] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("Authorization"))
        return httpx.Response(201, json={"id": 1})

    monkeypatch.setenv("FEDLINK_TOKEN", "someone-elses")
    with HubClient("http://hub.test", transport=httpx.MockTransport(handle)) as client:
        client.redeem_invitation("code-12345")
    assert seen == [None]
