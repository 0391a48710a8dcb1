"""What :class:`hub.client.HubClient` and its mixed-in call groups share: the typed client
underneath (``api``), its errors as the server CLI's :class:`HubClientError`, the JSON call
every dict-returning method makes, and path-segment quoting."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from fedlink_client import Client, FedlinkClientError, HubRefused

from hub.errors import HubClientError


def as_hub_error(exc: FedlinkClientError) -> HubClientError:
    """The :class:`HubClientError` for a client error: same message, code, status and
    exit code."""
    if isinstance(exc, HubRefused):
        return HubClientError(str(exc), code=exc.code, status=exc.status,
                              exit_code=exc.exit_code)
    return HubClientError(str(exc), exit_code=exc.exit_code)


@contextmanager
def converted() -> Iterator[None]:
    """Re-raise any :class:`FedlinkClientError` inside the block as :func:`as_hub_error`."""
    try:
        yield
    except FedlinkClientError as exc:
        raise as_hub_error(exc) from None


def quote_segment(value: str) -> str:
    """``value`` as one URL path segment (a ``/`` in an id cannot reach another route)."""
    return quote(value, safe="")


class HubCalls:
    """The base of :class:`hub.client.HubClient` and its call groups (amendments,
    findings, incidents): ``api`` is set by ``HubClient.__init__``."""

    #: The typed client underneath (``fedlink_client.Client``).
    api: Client

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        """The hub's JSON answer, as sent; client errors become :class:`HubClientError`."""
        with converted():
            return self.api.request_json(method, path, **kwargs)
