"""The findings calls of :class:`~fedlink_client.Client` and
:class:`~fedlink_client.AsyncClient` (docs/findings.md): reports back to the agencies, their
review, deliverables and the publications register.

Each endpoint is defined once in :mod:`fedlink_client._api`; these mix-ins only send the
calls, the sync one directly and the async one awaited. They live apart from the clients to
keep each module small; the methods are the clients' own (``Client().upload_report(…)``).
"""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from fedlink_client import _api as api
from fedlink_client import findings
from fedlink_client.findings import ReportFile, SavedReport
from fedlink_client.models import Deliverable, Publication, Report, ReportComment

T = TypeVar("T")


class FindingsMethods:
    """Reports, comments, release, deliverables and publications, for :class:`Client`."""

    if TYPE_CHECKING:  # the client's own methods, declared for the type checker only
        def call(self, call: api.Call[T]) -> T: ...

        def send(self, method: str, path: str, *, stream: bool = False,
                 **kwargs: Any) -> httpx.Response: ...

    def upload_report(self, project_id: str, report: str | Path | bytes | ReportFile, *,
                      title: str, kind: str = "interim", deliverable: str | None = None,
                      filename: str | None = None) -> Report:
        """Upload a report (a .pdf, .docx, .txt or .md file's path, or bytes named
        ``filename``) to your approved project, answering the agreement's ``deliverable``
        (its title) if given. It is shared at once with the stewards of the project's
        agencies and governance; public only once released after the review window."""
        return self.call(api.upload_report(project_id, report, title=title, kind=kind,
                                           deliverable=deliverable, filename=filename))

    def list_reports(self, project_id: str | None = None) -> list[Report]:
        """The reports you may see (your projects', or your agency's), oldest first."""
        return self.call(api.list_reports(project_id))

    def get_report(self, report_id: str) -> Report:
        """One report with its review window, comments and objections."""
        return self.call(api.get_report(report_id))

    def download_report(self, report_id: str, out: str | Path, *,
                        overwrite: bool = False) -> SavedReport:
        """Download the report's file into the folder ``out`` under its own name, after
        checking its SHA-256 against the ``X-Fedlink-SHA256`` header and the metadata
        (:class:`~fedlink_client.errors.IntegrityError` and nothing written otherwise).
        An existing file is kept unless ``overwrite``."""
        report = self.get_report(report_id)
        findings.target_path(report, out, overwrite=overwrite)  # refuse before downloading
        response = self.send("GET", api.report_file_path(report.id))
        return findings.save_report(report, response.content,
                                    response.headers.get("X-Fedlink-SHA256", ""), out,
                                    overwrite=overwrite)

    def comment_report(self, report_id: str, text: str, *,
                       kind: str = "comment") -> ReportComment:
        """Comment on a report (``kind="objection"``: a steward's objection)."""
        return self.call(api.comment_report(report_id, text, kind))

    def withdraw_objection(self, report_id: str, comment_id: int) -> ReportComment:
        """Withdraw your agency's objection (stewards)."""
        return self.call(api.withdraw_objection(report_id, comment_id))

    def override_objection(self, report_id: str, comment_id: int,
                           reason: str) -> ReportComment:
        """Override a standing objection, with a reason (governance)."""
        return self.call(api.override_objection(report_id, comment_id, reason))

    def release_report(self, report_id: str) -> Report:
        """Release the report to the public: after the review window, with no standing
        objection (:class:`~fedlink_client.errors.Conflict` otherwise)."""
        return self.call(api.release_report(report_id))

    def deliverables(self, project_id: str) -> list[Deliverable]:
        """The agreement's deliverables with their due dates and status."""
        return self.call(api.deliverables(project_id))

    def add_publication(self, project_id: str, citation: str, published_on: date | str, *,
                        url: str | None = None, doi: str | None = None,
                        report_id: str | None = None) -> Publication:
        """Register a publication of your project in the public register, optionally of
        one of its released reports."""
        return self.call(api.add_publication(project_id, citation, published_on, url=url,
                                             doi=doi, report_id=report_id))

    def publications(self) -> list[Publication]:
        """The public publications register (no token needed)."""
        return self.call(api.publications())


class AsyncFindingsMethods:
    """The same calls awaited, for :class:`AsyncClient`."""

    if TYPE_CHECKING:  # the client's own methods, declared for the type checker only
        async def call(self, call: api.Call[T]) -> T: ...

        async def send(self, method: str, path: str, *, stream: bool = False,
                       **kwargs: Any) -> httpx.Response: ...

    async def upload_report(self, project_id: str, report: str | Path | bytes | ReportFile,
                            *, title: str, kind: str = "interim",
                            deliverable: str | None = None,
                            filename: str | None = None) -> Report:
        """As :meth:`FindingsMethods.upload_report`, awaited."""
        return await self.call(api.upload_report(project_id, report, title=title, kind=kind,
                                                 deliverable=deliverable, filename=filename))

    async def list_reports(self, project_id: str | None = None) -> list[Report]:
        """The reports you may see (your projects', or your agency's), oldest first."""
        return await self.call(api.list_reports(project_id))

    async def get_report(self, report_id: str) -> Report:
        """One report with its review window, comments and objections."""
        return await self.call(api.get_report(report_id))

    async def download_report(self, report_id: str, out: str | Path, *,
                              overwrite: bool = False) -> SavedReport:
        """As :meth:`FindingsMethods.download_report` (SHA-256 checked), awaited."""
        report = await self.get_report(report_id)
        findings.target_path(report, out, overwrite=overwrite)  # refuse before downloading
        response = await self.send("GET", api.report_file_path(report.id))
        # Hashing and writing up to 10 MiB: off the event loop.
        return await asyncio.to_thread(
            findings.save_report, report, response.content,
            response.headers.get("X-Fedlink-SHA256", ""), out, overwrite=overwrite)

    async def comment_report(self, report_id: str, text: str, *,
                             kind: str = "comment") -> ReportComment:
        """Comment on a report (``kind="objection"``: a steward's objection)."""
        return await self.call(api.comment_report(report_id, text, kind))

    async def withdraw_objection(self, report_id: str, comment_id: int) -> ReportComment:
        """Withdraw your agency's objection (stewards)."""
        return await self.call(api.withdraw_objection(report_id, comment_id))

    async def override_objection(self, report_id: str, comment_id: int,
                                 reason: str) -> ReportComment:
        """Override a standing objection, with a reason (governance)."""
        return await self.call(api.override_objection(report_id, comment_id, reason))

    async def release_report(self, report_id: str) -> Report:
        """Release the report to the public (after the window, no standing objection)."""
        return await self.call(api.release_report(report_id))

    async def deliverables(self, project_id: str) -> list[Deliverable]:
        """The agreement's deliverables with their due dates and status."""
        return await self.call(api.deliverables(project_id))

    async def add_publication(self, project_id: str, citation: str,
                              published_on: date | str, *, url: str | None = None,
                              doi: str | None = None,
                              report_id: str | None = None) -> Publication:
        """As :meth:`FindingsMethods.add_publication`, awaited."""
        return await self.call(api.add_publication(project_id, citation, published_on,
                                                   url=url, doi=doi, report_id=report_id))

    async def publications(self) -> list[Publication]:
        """The public publications register (no token needed)."""
        return await self.call(api.publications())
