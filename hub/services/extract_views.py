"""JSON views of extracts and airlock outputs for the API (metadata only, never data)."""

from __future__ import annotations

from typing import Any

from hub.db.models import Extract, OutputSubmission


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def extract_view(extract: Extract) -> dict[str, Any]:
    return {
        "id": extract.id, "project_id": extract.project_id, "run_id": extract.run_id,
        "status": extract.status, "created_at": _iso(extract.created_at),
        "finished_at": _iso(extract.finished_at), "expires_at": _iso(extract.expires_at),
        "formats": list(extract.formats), "include_unmatched": extract.include_unmatched,
        "variables": extract.variables, "tables": extract.tables,
        "persons": extract.persons, "sha256": extract.sha256,
        "ciphertext_sha256": extract.ciphertext_sha256, "size_bytes": extract.size_bytes,
        "encryption": extract.encryption, "recipient_key": extract.recipient_key,
        "disclosure": extract.disclosure,
        "failure": ({"code": extract.failure_code, "reason": extract.failure_reason}
                    if extract.failure_code else None),
        "destroyed_at": _iso(extract.destroyed_at),
        "destroyed_reason": extract.destroyed_reason, "destruction": extract.destruction,
    }


def output_view(output: OutputSubmission, *, with_content: bool = False) -> dict[str, Any]:
    view = {
        "id": output.id, "project_id": output.project_id, "name": output.name,
        "description": output.description, "kind": output.kind, "sha256": output.sha256,
        "status": output.status, "checks": output.checks,
        "created_at": _iso(output.created_at), "decided_at": _iso(output.decided_at),
    }
    if with_content:
        view["content"] = output.content
    return view
