"""Client errors of :mod:`fedlink_client` as the server CLI's :class:`HubClientError`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fedlink_client import FedlinkClientError, HubRefused

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
