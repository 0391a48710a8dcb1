"""fedlink_client._http and the clients' send loop: retries with backoff for idempotent
requests only (connect failures, 429 with Retry-After, 502/503/504), never a POST."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest
from fedlink_client import Client, RetryPolicy
from fedlink_client._http import retry_after_seconds, transient
from fedlink_client.errors import HubFailed, HubUnreachable, RateLimited


class Script:
    """Answers a request with the next scripted status (or raises a connect error)."""

    def __init__(self, *answers: int | str, retry_after: str | None = None) -> None:
        self.answers = list(answers)
        self.seen: list[str] = []
        self.retry_after = retry_after

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.method)
        answer = self.answers.pop(0)
        if answer == "refused":
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        headers = {"Retry-After": self.retry_after} if self.retry_after else {}
        if answer == 200:
            return httpx.Response(200, json={"id": 1, "name": "Ada", "role": "researcher"})
        return httpx.Response(int(answer), headers=headers,
                              json={"error": "busy", "detail": "try later"})


def _client(script: Script, sleeps: list[float], retries: int = 3) -> Client:
    return Client("http://hub.test", token="t", transport=httpx.MockTransport(script),
                  retry=RetryPolicy(retries=retries, backoff=0.5, max_delay=8),
                  sleep=sleeps.append, from_env=False)


@pytest.mark.parametrize("status", [502, 503, 504])
def test_get_retried_on_gateway_errors_then_succeeds(status: int) -> None:
    script, sleeps = Script(status, status, 200), []
    with _client(script, sleeps) as client:
        assert client.me().name == "Ada"
    assert script.seen == ["GET", "GET", "GET"]
    # Full jitter: each delay lies within the doubling ceiling.
    assert len(sleeps) == 2 and 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0


def test_get_gives_up_after_the_retries_with_the_last_error() -> None:
    script, sleeps = Script(503, 503, 503), []
    with _client(script, sleeps, retries=2) as client, pytest.raises(HubFailed) as raised:
        client.me()
    assert raised.value.status == 503 and len(script.seen) == 3 and len(sleeps) == 2


def test_429_waits_as_long_as_retry_after_says() -> None:
    script, sleeps = Script(429, 200, retry_after="7"), []
    with _client(script, sleeps) as client:
        client.me()
    assert sleeps == [7.0]


def test_429_retry_after_capped_and_reported_when_retries_run_out() -> None:
    script, sleeps = Script(429, 429, retry_after="120"), []
    with _client(script, sleeps, retries=1) as client, pytest.raises(RateLimited) as raised:
        client.me()
    assert sleeps == [8.0]  # never longer than max_delay
    assert raised.value.retry_after == 120.0 and raised.value.exit_code == 1


def test_retry_after_as_an_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    seconds = retry_after_seconds(httpx.Response(429, headers={"Retry-After": when}))
    assert seconds is not None and 25 <= seconds <= 31
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "soon"})) is None


def test_connect_error_retried_for_get() -> None:
    script, sleeps = Script("refused", "refused", 200), []
    with _client(script, sleeps) as client:
        assert client.me().id == 1
    assert len(sleeps) == 2


@pytest.mark.parametrize("first", [503, 429, "refused"])
def test_post_is_never_retried(first: int | str) -> None:
    script, sleeps = Script(first, 200, retry_after="1"), []
    with _client(script, sleeps) as client, pytest.raises((HubFailed, RateLimited,
                                                           HubUnreachable)):
        client.submit_request("P-1")
    assert script.seen == ["POST"] and sleeps == []


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(retries=10, backoff=1.0, max_delay=4.0)
    for attempt, ceiling in enumerate([1, 2, 4, 4, 4]):
        assert all(0 <= policy.delay(attempt) <= ceiling for _ in range(50))


def test_tls_failures_are_not_transient() -> None:
    request = httpx.Request("GET", "https://hub.test/")
    tls = httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed",
                             request=request)
    assert not transient(tls)
    assert transient(httpx.ConnectError("Connection refused", request=request))
    assert transient(httpx.ReadTimeout("slow", request=request))
