"""What the sync and async clients share: connection settings, the retry policy, turning
an error response into a :class:`~fedlink_client.errors.HubRefused`, and turning a network
failure into a :class:`~fedlink_client.errors.HubUnreachable` sentence a user can act on.

Retries: only idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE) are retried, on a failed
connection or timeout and on 429 (honouring ``Retry-After``), 502, 503 and 504, with
exponential backoff and full jitter. The hub has no idempotency keys, so a POST or PATCH is
sent once: a retried POST could draft a request or start a run twice.
"""

from __future__ import annotations

import email.utils
import os
import random
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from fedlink_client.errors import (
    HubRefused,
    HubUnreachable,
    InvalidInput,
    RateLimited,
    refused_class,
)

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """``retries`` further attempts after the first; delays ``backoff * 2**n`` seconds with
    full jitter, never more than ``max_delay`` (nor a ``Retry-After`` beyond it)."""

    retries: int = 3
    backoff: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay)
        ceiling = min(self.backoff * (2 ** attempt), self.max_delay)
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not a secret


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (either form RFC 9110 allows), or None."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def should_retry(method: str, status: int) -> bool:
    return method.upper() in IDEMPOTENT and status in RETRY_STATUSES


def transient(exc: httpx.TransportError) -> bool:
    """A network failure worth another try: a refused or timed-out connection, a read that
    timed out. Never a TLS failure or a protocol error (another try fails the same way)."""
    if isinstance(exc, httpx.TimeoutException):
        return True
    if isinstance(exc, httpx.ConnectError):
        text = _chain(exc).lower()
        return not any(mark in text for mark in ("ssl", "tls", "certificate"))
    return False


def check_base_url(base_url: str | None) -> str:
    """The hub URL without a trailing slash; :class:`InvalidInput` when it is not http(s)."""
    if not base_url:
        raise InvalidInput("give the hub's URL (base_url=, --hub or FEDLINK_HUB_URL)")
    if not base_url.startswith(("http://", "https://")):
        raise InvalidInput(f"hub URL {base_url!r} must start with http:// or https://")
    return base_url.rstrip("/")


def resolve_token(token: str | None, token_file: str | Path | None, *,
                  env: Mapping[str, str] = os.environ) -> str | None:
    """``token``, else the first line of ``token_file``, else ``FEDLINK_TOKEN``, else the
    file named by ``FEDLINK_TOKEN_FILE``."""
    if token:
        return token.strip()
    path = token_file or env.get("FEDLINK_TOKEN_FILE")
    if not token_file and env.get("FEDLINK_TOKEN"):
        return env["FEDLINK_TOKEN"].strip()
    if not path:
        return None
    file = Path(path).expanduser()
    try:
        mode = file.stat().st_mode
        text = file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"the token file {path} cannot be read: {exc}") from None
    if mode & 0o077:
        # A token others can read is a token others can use.
        raise InvalidInput(f"the token file {path} is readable by others; run chmod 600 {path}")
    if not text:
        raise InvalidInput(f"the token file {path} is empty")
    return text.splitlines()[0].strip()


def resolve_verify(ca_file: str | Path | None, verify: bool | ssl.SSLContext | None, *,
                   env: Mapping[str, str] = os.environ) -> bool | ssl.SSLContext:
    """What httpx verifies the hub's certificate with: ``verify`` when given, else a context
    trusting ``ca_file`` (or ``FEDLINK_CA_FILE``), else the system trust store."""
    if verify is not None:
        return verify
    ca = ca_file or env.get("FEDLINK_CA_FILE")
    if not ca:
        return True
    try:
        return ssl.create_default_context(cafile=str(ca))
    except (OSError, ssl.SSLError) as exc:
        raise InvalidInput(f"CA file {ca} cannot be used: {exc}") from None


def _swap_scheme(base_url: str, scheme: str) -> str:
    parts = urlsplit(base_url)
    return parts._replace(scheme=scheme).geturl()


def _chain(exc: BaseException) -> str:
    """The text of ``exc`` and everything it was raised from (TLS reasons sit deep)."""
    texts, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        texts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    return " | ".join(texts)


def unreachable(exc: httpx.TransportError, base_url: str) -> HubUnreachable:
    """One actionable sentence for a network failure talking to ``base_url``."""
    text = _chain(exc)
    lowered = text.lower()
    https = base_url.startswith("https://")
    if https and any(mark in lowered for mark in (
            "wrong_version_number", "wrong version number", "packet_length_too_long",
            "record_layer_failure", "http_request", "unknown protocol")):
        return HubUnreachable(
            f"the hub at {base_url} does not speak TLS on this port; did you mean "
            f"{_swap_scheme(base_url, 'http')}?")
    if "certificate_verify_failed" in lowered or "certificate verify failed" in lowered:
        reason = text.split("certificate verify failed", 1)[-1].strip(" :|)(")[:120]
        return HubUnreachable(
            f"the hub's certificate at {base_url} cannot be verified ({reason or 'untrusted'})"
            "; give the hub's CA with --ca-file / ca_file= (or FEDLINK_CA_FILE)")
    if https and ("ssl" in lowered or "tls" in lowered):
        return HubUnreachable(f"the TLS handshake with the hub at {base_url} failed "
                              f"({type(exc).__name__})")
    if not https and isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError)):
        return HubUnreachable(
            f"the hub at {base_url} closed the connection without answering; if it serves "
            f"TLS on this port, use {_swap_scheme(base_url, 'https')}")
    if isinstance(exc, httpx.TimeoutException):
        return HubUnreachable(f"the hub at {base_url} did not answer in time")
    return HubUnreachable(f"the hub at {base_url} cannot be reached ({type(exc).__name__})")


_PLAIN_TO_TLS = ("http request was sent to https port", "plain http request")


def refusal(method: str, path: str, response: httpx.Response, base_url: str) -> HubRefused:
    """The :class:`HubRefused` subclass for an error ``response`` (its body read)."""
    code, detail = "hub_error", response.reason_phrase
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        code = str(body.get("error", code))
        detail = str(body.get("detail", detail))
    elif response.status_code == 400 and any(m in response.text.lower() for m in _PLAIN_TO_TLS):
        # A TLS front end (nginx, a load balancer) answering plain HTTP on its TLS port.
        detail = (f"the hub at {base_url} expects TLS on this port; use "
                  f"{_swap_scheme(base_url, 'https')}")
    message = f"the hub refused {method} {path}: {code} ({response.status_code}): {detail}"
    cls = refused_class(response.status_code)
    if cls is RateLimited:
        return RateLimited(message, status=response.status_code, code=code, detail=detail,
                           retry_after=retry_after_seconds(response))
    return cls(message, status=response.status_code, code=code, detail=detail)


def user_agent() -> str:
    from fedlink_client import __version__

    return f"fedlink-client/{__version__}"
