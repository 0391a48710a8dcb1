"""The exceptions of :mod:`fedlink_client`, one class per kind of failure.

Every error the client raises derives from :class:`FedlinkClientError` and carries
``exit_code``, the exit status the command-line tools use for it (the Fedlink CLI
convention: 0 ok, 1 anything else, 2 usage or invalid input, 3 authentication or
permission, 4 not found, 5 conflict, 6 hub unreachable)::

    FedlinkClientError                 exit 1  base; also local failures (bad key file, …)
    ├── InvalidInput                   exit 2  local input refused before anything is sent
    ├── IntegrityError                 exit 1  a download whose SHA-256 does not match, or a
    │                                          sealed extract that does not decrypt
    ├── HubUnreachable                 exit 6  connection refused, DNS, timeout, TLS failure,
    │                                          http:// vs https:// mismatch
    └── HubRefused(status, code, detail)       the hub answered with an error status
        ├── InvalidRequest       400/422 exit 2
        ├── AuthenticationFailed     401 exit 3
        ├── PermissionDenied         403 exit 3
        ├── NotFound                 404 exit 4
        ├── Conflict                 409 exit 5
        ├── RateLimited              429 exit 1  (``retry_after`` seconds, when the hub said)
        └── HubFailed                5xx exit 1  (and any other status)

``HubRefused.code`` is the hub's stable ``error`` code (e.g. ``"not_found"``), ``detail``
its sentence. The message is one line, fit to show a user as it is.
"""

from __future__ import annotations


class FedlinkClientError(Exception):
    """Base of every error of the client."""

    exit_code: int = 1


class InvalidInput(FedlinkClientError):
    """Local input (an agreement file, a key file, an argument) refused before sending."""

    exit_code = 2


class IntegrityError(FedlinkClientError):
    """A download that does not match its SHA-256, or an extract that does not decrypt."""

    exit_code = 1


class HubUnreachable(FedlinkClientError):
    """No answer from the hub: refused, DNS, timeout, TLS failure or scheme mismatch."""

    exit_code = 6


class HubRefused(FedlinkClientError):
    """The hub answered with an error status; ``status``, ``code`` and ``detail`` say what."""

    exit_code = 1

    def __init__(self, message: str, *, status: int, code: str, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail


class InvalidRequest(HubRefused):
    exit_code = 2


class AuthenticationFailed(HubRefused):
    exit_code = 3


class PermissionDenied(HubRefused):
    exit_code = 3


class NotFound(HubRefused):
    exit_code = 4


class Conflict(HubRefused):
    exit_code = 5


class RateLimited(HubRefused):
    exit_code = 1

    def __init__(self, message: str, *, status: int, code: str, detail: str,
                 retry_after: float | None = None) -> None:
        super().__init__(message, status=status, code=code, detail=detail)
        self.retry_after = retry_after


class HubFailed(HubRefused):
    exit_code = 1


_BY_STATUS: dict[int, type[HubRefused]] = {
    400: InvalidRequest, 422: InvalidRequest, 401: AuthenticationFailed,
    403: PermissionDenied, 404: NotFound, 409: Conflict, 429: RateLimited,
}


def refused_class(status: int) -> type[HubRefused]:
    """The :class:`HubRefused` subclass for an HTTP error ``status``."""
    return _BY_STATUS.get(status, HubFailed)


def exit_code_for_status(status: int) -> int:
    """The CLI exit code of a hub refusal with ``status``."""
    return refused_class(status).exit_code
