"""The extract options a request declares must be the ones the steward signed.

The terms a steward approves carry an ``extract`` entry — k for disclosure control, whether
people found in one agency only are released, and the policy for small classes
(:class:`protocol.wire.ExtractTermsOptions`) — inside the signed terms digest. An extract
request declares the options it is built with; the node refuses (``out_of_scope``) one
whose declaration differs, or is missing while the approved terms state options. Terms
approved before options were part of them have no ``extract`` entry: they admit requests
with or without a declaration (there is nothing signed to compare with).
"""

from __future__ import annotations

from typing import Any

from agency_node.errors import RefusedError
from agency_node.store.models import Approval
from protocol.wire import ExtractRequest


def approved_options(approval: Approval) -> dict[str, Any] | None:
    terms = approval.terms if isinstance(approval.terms, dict) else {}
    options = terms.get("extract")
    return dict(options) if isinstance(options, dict) else None


def require_signed_options(approval: Approval, request: ExtractRequest) -> None:
    """:class:`RefusedError` ``out_of_scope`` unless the declared options are the signed."""
    approved = approved_options(approval)
    if approved is None:
        return
    declared = request.extract.model_dump(mode="json") if request.extract else None
    if declared != approved:
        differing = sorted(k for k in approved if (declared or {}).get(k) != approved[k])
        raise RefusedError(
            "out_of_scope",
            "the extract options differ from the terms the steward approved "
            f"({', '.join(differing) or 'not declared'})",
        )
