"""The exception hierarchy of :mod:`agency_node`.

Every domain error derives from :class:`NodeError` and carries a stable ``code`` and an HTTP
``status`` that the app-level handler uses; domain code never raises ``HTTPException``.
Subclasses are added beside the services that raise them and listed here::

    NodeError
    ├── ConfigError              node.toml / settings / key files missing or unsafe (CLI only)
    ├── SourceError              the source file or table cannot be read (empty, no header…)
    ├── IngestError              ``--strict`` ingest found bad rows; nothing was loaded
    ├── NotEnrolledError         the node has no hub keys / token yet
    ├── HubClientError           the hub refused or could not be reached (CLI only)
    ├── ApprovalError            terms cannot be approved (digest mismatch, unknown variable…)
    ├── AuditChainError          the node's audit chain does not verify
    ├── PayloadTooLargeError     413 payload_too_large — body over the configured limit
    ├── MalformedRequestError    422 malformed_message — body is not the expected shape
    └── RefusedError             403/409 — a verified request outside what the steward approved;
                                 ``code`` is one of not_approved, wrong_agency, term_expired,
                                 term_not_started, matching_not_authorised, out_of_scope,
                                 unknown_pid, unknown_recipient, linkage_key_recipient,
                                 no_assembly_key (403) or salt_mismatch (409)

Protocol refusals (:class:`protocol.errors.ProtocolError`) map by reason in
:mod:`agency_node.api.errors`; ``wrong_signer`` (403) is an authentic request signed by a
trusted key that may not sign it (the hub key on an extract request, the assembly key on a
match request).
"""

from __future__ import annotations


class NodeError(Exception):
    """Base of every node domain error."""

    code: str = "node_error"
    status: int = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code


class ConfigError(NodeError):
    code = "config_error"


class SourceError(NodeError):
    code = "source_error"


class IngestError(NodeError):
    code = "ingest_failed"


class NotEnrolledError(NodeError):
    code = "not_enrolled"
    status = 409


class HubClientError(NodeError):
    code = "hub_error"
    status = 502


class ApprovalError(NodeError):
    code = "approval_error"


class AuditChainError(NodeError):
    code = "audit_chain_broken"


class PayloadTooLargeError(NodeError):
    code = "payload_too_large"
    status = 413


class MetricsUnauthorisedError(NodeError):
    """``/metrics`` without the metrics token (or from off loopback when none is set)."""

    code = "metrics_unauthorised"
    status = 401


class MalformedRequestError(NodeError):
    code = "malformed_message"
    status = 422


class RefusedError(NodeError):
    """A signed, fresh request that this node's steward did not approve as asked."""

    status = 403

    def __init__(self, code: str, message: str, *, status: int = 403) -> None:
        super().__init__(message, code=code)
        self.status = status
