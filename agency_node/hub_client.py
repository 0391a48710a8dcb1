"""The node's HTTP client for the hub's node-facing endpoints (docs/protocol.md).

``ca_file`` is the CA bundle that verifies the hub's certificate (``[hub] ca_file``); the
httpx transport is injected, so tests drive a fake hub through ``httpx.ASGITransport``
or a real one over loopback. Every failure becomes a one-sentence
:class:`~agency_node.errors.HubClientError` that carries the hub's own error code.
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from agency_node.errors import ConfigError, HubClientError

_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _verify(ca_file: str | None) -> ssl.SSLContext | bool:
    """Trust ``ca_file`` (the federation's CA) when given, else the system trust store."""
    if not ca_file:
        return True
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"CA file {ca_file} cannot be used: {exc}") from None


def check_hub_url(url: str, *, allow_insecure_http: bool) -> None:
    """Refuse to send tokens and signed decisions to a plain-http hub off loopback."""
    parsed = urlsplit(url)
    if parsed.scheme == "http" and parsed.hostname not in _LOOPBACK and not allow_insecure_http:
        raise ConfigError(
            f"the hub URL {url} is plain http: the node's API token would cross the network "
            "in clear; use https:// (set allow_insecure_http only for a demo)"
        )


class HubClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        ca_file: str | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise HubClientError(f"hub URL {base_url!r} must start with http:// or https://")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self._base_url, headers=headers, transport=transport, timeout=_TIMEOUT,
            verify=_verify(ca_file),
        )

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def enroll(self, request_json: str) -> dict[str, Any]:
        """``POST /v1/enrollment`` with an EnrollmentRequest (JSON text)."""
        return self._json("POST", "/v1/enrollment", content=request_json)

    def fetch_terms(self, project_id: str) -> dict[str, Any]:
        return self._json("GET", f"/v1/node/requests/{quote(project_id, safe='')}/terms")

    def send_decision(self, project_id: str, envelope_json: bytes | str) -> dict[str, Any]:
        path = f"/v1/node/requests/{quote(project_id, safe='')}/decision"
        return self._json("POST", path, content=envelope_json)

    def publish_dictionary(self, envelope_json: bytes | str) -> dict[str, Any]:
        """``POST /v1/node/dictionary`` with a node-signed DictionaryUpdate."""
        return self._json("POST", "/v1/node/dictionary", content=envelope_json)

    def fetch_governance(self) -> dict[str, Any]:
        """``GET /v1/node/governance``: signed roster versions and revocations to check."""
        return self._json("GET", "/v1/node/governance")

    def _json(
        self, method: str, path: str, *, content: bytes | str | None = None
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"} if content is not None else {}
        try:
            response = self._client.request(method, path, content=content, headers=headers)
        except httpx.TimeoutException:
            raise HubClientError(f"the hub at {self._base_url} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise HubClientError(
                f"the hub at {self._base_url} cannot be reached ({type(exc).__name__})"
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.is_error:
            code, detail = "hub_error", response.reason_phrase
            if isinstance(body, dict):
                code = str(body.get("error", code))
                detail = str(body.get("detail", detail))
            raise HubClientError(
                f"the hub refused {method} {path}: {code} ({response.status_code}): {detail}",
                code=code,
            )
        if not isinstance(body, dict):
            raise HubClientError(f"the hub answered {method} {path} with something not JSON")
        return body
