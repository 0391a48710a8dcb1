"""The exception hierarchy of :mod:`hub`.

Every domain error derives from :class:`HubError` and carries a stable ``code`` and an HTTP
``status`` that the app-level handler uses; domain code never raises ``HTTPException``.
Subclasses are added beside the services that raise them and listed here::

    HubError
    ├── ConfigError                 hub.toml / settings / key files missing or unsafe
    ├── AuthenticationError   401   no, unknown, expired or revoked API token
    ├── PermissionDeniedError 403   a valid token of a role this endpoint does not admit
    │   └── TrainingRequiredError   a person without current required training
    │                               (``missing`` names it; hub.services.training)
    ├── NotFoundError         404   no such object, or one this caller may not see
    ├── ConflictError         409   the object's state does not allow the change
    │   ├── IllegalTransitionError  a lifecycle transition not in the table (names from/to)
    │   └── LeaseLostError          a worker's job was reclaimed (hub.persistence.jobs)
    ├── InvalidInputError     422   well-formed input the hub refuses (unknown variable,
    │                               term ending before it starts, …)
    ├── EnrollmentError       401/409  bad, expired (401) or already used (409) enrollment token
    ├── DecisionRefusedError  403/409  a node-signed steward decision the hub will not count
    │                               (wrong agency 403, stale terms digest 409)
    ├── AuditChainError             the audit chain does not verify; ``seq`` names the first
    │                               broken event
    ├── HubClientError        502   the hub API refused a client call or could not be reached
    │                               (``exit_code`` for the CLI by the hub's status: docs/client.md)
    ├── NodeRequestError      502   an agency node refused a linkage run's match request, could
    │                               not be reached, or sent a stream that is not token batches
    │                               (``agency`` names the node; hub.services.node_fetch)
    ├── RunRefusedError       409   a queued linkage run that cannot go ahead (project no
    │                               longer linking, no enrolled node, unsafe node URL);
    │                               the run ends failed (hub.services.run_state)
    ├── ExtractError                a linked extract cannot be built, read or released
    │   ├── ExtractBuildError     502  a node's extract payload refused (ids, pids or
    │   │                               variables it was not asked about, undecryptable, …)
    │   │                               or a run that cannot be assembled; ``agency`` names
    │   │                               the node when one is at fault (docs/extracts.md)
    │   ├── ExtractGoneError      410  the extract expired, was destroyed, or its project was
    │   │                               revoked or closed
    │   └── ExtractIntegrityError 409  the stored ciphertext or its wrapped key does not verify
    └── LinkageError                token tables the linkage engine cannot link
                                    (defined in :mod:`hub.linkage.config`)
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every hub domain error."""

    code: str = "hub_error"
    status: int = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ConfigError(HubError):
    code = "config_error"
    status = 500


class AuthenticationError(HubError):
    code = "unauthenticated"
    status = 401


class PermissionDeniedError(HubError):
    code = "forbidden"
    status = 403


class TrainingRequiredError(PermissionDeniedError):
    """The caller lacks a current completion of a required training (safe people);
    ``missing`` lists each training with its lapsed expiry, or ``None`` if never recorded."""

    code = "training_required"

    def __init__(self, message: str, *, missing: list[dict[str, str | None]]) -> None:
        super().__init__(message)
        self.missing = missing


class NotFoundError(HubError):
    code = "not_found"
    status = 404


class ConflictError(HubError):
    code = "conflict"
    status = 409


class IllegalTransitionError(ConflictError):
    """A request lifecycle transition that the table does not allow."""

    code = "illegal_transition"

    def __init__(self, from_state: str, to_state: str) -> None:
        super().__init__(f"a request cannot go from {from_state!r} to {to_state!r}")
        self.from_state = from_state
        self.to_state = to_state


class InvalidInputError(HubError):
    code = "invalid_request"
    status = 422


class EnrollmentError(HubError):
    code = "invalid_enrollment_token"
    status = 401

    def __init__(self, message: str, *, code: str | None = None, status: int = 401) -> None:
        super().__init__(message, code=code)
        self.status = status


class DecisionRefusedError(HubError):
    code = "decision_refused"
    status = 409

    def __init__(self, message: str, *, code: str, status: int = 409) -> None:
        super().__init__(message, code=code)
        self.status = status


class AuditChainError(HubError):
    """The hash chain or a checkpoint does not verify; ``seq`` is the first bad event."""

    code = "audit_chain_broken"

    def __init__(self, message: str, *, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


#: The CLI exit code of a hub refusal by HTTP status (docs/client.md, "Exit codes").
_EXIT_BY_STATUS = {400: 2, 422: 2, 401: 3, 403: 3, 404: 4, 409: 5}


class HubClientError(HubError):
    """A hub API call refused (``status``, the hub's ``code``) or failed; ``exit_code`` is
    what the CLI exits with: 2 invalid, 3 auth, 4 not found, 5 conflict, 6 unreachable,
    1 otherwise (by ``status`` unless given)."""

    code = "hub_error"
    status = 502

    def __init__(self, message: str, *, code: str | None = None, status: int = 502,
                 exit_code: int | None = None) -> None:
        super().__init__(message, code=code)
        self.status = status
        self.exit_code = exit_code if exit_code is not None else _EXIT_BY_STATUS.get(status, 1)


class NodeRequestError(HubError):
    """An agency node failed a linkage run: refused (its 4xx code), unreachable, erred or
    answered with something that is not a token-batch stream. ``agency`` names the node."""

    code = "node_failed"
    status = 502

    def __init__(self, message: str, *, agency: str, code: str,
                 node_status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message, code=code)
        self.agency = agency
        self.node_status = node_status
        self.retryable = retryable


class ExtractError(HubError):
    code = "extract_error"
    status = 409


class ExtractBuildError(ExtractError):
    """An extract could not be assembled; the extract fails with this reason."""

    code = "extract_failed"
    status = 502

    def __init__(self, message: str, *, code: str, agency: str | None = None) -> None:
        super().__init__(message, code=code)
        self.agency = agency


class ExtractGoneError(ExtractError):
    code = "extract_gone"
    status = 410


class ExtractIntegrityError(ExtractError):
    """The stored bundle or its key failed authentication (tampered, truncated, mixed up)."""

    code = "extract_corrupted"
    status = 409
