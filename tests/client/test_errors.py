"""fedlink_client.errors: each hub status becomes its own class with the contract's exit
code, and the hub's error code and detail travel with it."""

from __future__ import annotations

import httpx
import pytest
from fedlink_client import Client
from fedlink_client.errors import (
    AuthenticationFailed,
    Conflict,
    FedlinkClientError,
    HubFailed,
    HubRefused,
    HubUnreachable,
    InvalidInput,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    exit_code_for_status,
)

CASES = [
    (400, InvalidRequest, 2), (422, InvalidRequest, 2), (401, AuthenticationFailed, 3),
    (403, PermissionDenied, 3), (404, NotFound, 4), (409, Conflict, 5), (429, RateLimited, 1),
    (500, HubFailed, 1), (502, HubFailed, 1), (410, HubFailed, 1),
]


def _answering(status: int) -> Client:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, json={"error": f"code_{status}", "detail": "why not"})

    return Client("http://hub.test", token="t", transport=httpx.MockTransport(handle),
                  sleep=lambda _s: None, from_env=False)


@pytest.mark.parametrize(("status", "cls", "exit_code"), CASES)
def test_each_status_is_its_class_with_its_exit_code(status: int, cls: type[HubRefused],
                                                     exit_code: int) -> None:
    with _answering(status) as client, pytest.raises(cls) as raised:
        client.submit_request("P-1")  # a POST: answered once, whatever the status
    error = raised.value
    assert type(error) is cls and isinstance(error, HubRefused)
    assert (error.status, error.code, error.detail) == (status, f"code_{status}", "why not")
    assert error.exit_code == exit_code == exit_code_for_status(status)
    assert str(error) == (f"the hub refused POST /v1/requests/P-1/submit: code_{status} "
                          f"({status}): why not")


def test_local_and_network_classes_exit_codes() -> None:
    assert issubclass(HubUnreachable, FedlinkClientError) and HubUnreachable.exit_code == 6
    assert InvalidInput.exit_code == 2 and FedlinkClientError.exit_code == 1


def test_a_body_that_is_not_the_hub_shape_keeps_the_reason_phrase() -> None:
    transport = httpx.MockTransport(lambda _r: httpx.Response(404, text="<html>gone</html>"))
    with Client("http://hub.test", transport=transport, from_env=False) as client, \
            pytest.raises(NotFound, match=r"hub_error \(404\): Not Found"):
        client.me()


def test_a_success_that_is_not_json_is_a_hub_failure() -> None:
    transport = httpx.MockTransport(lambda _r: httpx.Response(200, text="hello"))
    with Client("http://hub.test", transport=transport, from_env=False) as client, \
            pytest.raises(HubFailed, match="not JSON"):
        client.me()


def test_a_hub_url_without_a_scheme_is_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="must start with http:// or https://"):
        Client("hub.example.org", from_env=False)
    with pytest.raises(InvalidInput, match="give the hub's URL"):
        Client(from_env=False)
