"""The server CLI's calls for findings back to agencies (docs/findings.md), mixed into
:class:`hub.client.HubClient` (``fedlink findings …``, ``fedlink publication …``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fedlink_client import _api as calls
from fedlink_client.findings import SavedReport

from hub.client_base import HubCalls, converted


class FindingsCalls(HubCalls):
    """Reports back to the agencies, their review, deliverables, publications."""

    # Each endpoint is defined once, in fedlink_client._api; the download and its SHA-256
    # check are fedlink_client.Client.download_report's.

    def _call(self, build: Callable[..., calls.Call[Any]], *args: Any, **kwargs: Any) -> Any:
        """The hub's JSON answer, as sent, to the endpoint ``build`` defines (a local
        refusal, e.g. a report file of the wrong type, is a HubClientError too)."""
        with converted():
            call = build(*args, **kwargs)
            return self.api.request_json(call.method, call.path, params=call.params,
                                         json=call.json, **call.extra)

    def upload_report(self, project_id: str, file: str | Path, *, title: str,
                      kind: str = "interim", deliverable: str | None = None) -> dict[str, Any]:
        """Upload the report ``file`` (.pdf, .docx, .txt or .md) to the project."""
        return dict(self._call(calls.upload_report, project_id, file, title=title, kind=kind,
                               deliverable=deliverable))

    def list_reports(self, project_id: str | None = None) -> list[dict[str, Any]]:
        return list(self._call(calls.list_reports, project_id))

    def get_report(self, report_id: str) -> dict[str, Any]:
        return dict(self._call(calls.get_report, report_id))

    def download_report(self, report_id: str, out: Path) -> SavedReport:
        """Download the report's file into ``out``, its SHA-256 checked against the header
        and the metadata (:meth:`fedlink_client.Client.download_report`)."""
        with converted():
            return self.api.download_report(report_id, out)

    def comment_report(self, report_id: str, text: str, *,
                       kind: str = "comment") -> dict[str, Any]:
        return dict(self._call(calls.comment_report, report_id, text, kind))

    def withdraw_objection(self, report_id: str, comment_id: int) -> dict[str, Any]:
        return dict(self._call(calls.withdraw_objection, report_id, comment_id))

    def override_objection(self, report_id: str, comment_id: int,
                           reason: str) -> dict[str, Any]:
        return dict(self._call(calls.override_objection, report_id, comment_id, reason))

    def release_report(self, report_id: str) -> dict[str, Any]:
        return dict(self._call(calls.release_report, report_id))

    def deliverables(self, project_id: str) -> list[dict[str, Any]]:
        return list(self._call(calls.deliverables, project_id))

    def add_publication(self, **fields: Any) -> dict[str, Any]:
        """``project_id``, ``citation``, ``published_on`` and optionally ``url``, ``doi``,
        ``report_id``."""
        return dict(self._call(calls.add_publication, **fields))

    def publications(self) -> list[dict[str, Any]]:
        return list(self._call(calls.publications))
