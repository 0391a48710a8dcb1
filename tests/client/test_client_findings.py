"""The typed clients' findings calls (docs/findings.md): a report uploaded, objected to,
released and published against the real hub app; downloads that check the SHA-256 and
keep the file inside the chosen folder; files refused before anything is sent."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import httpx
import pytest
from fedlink_client import AsyncClient, Client, Conflict, IntegrityError, InvalidInput
from fedlink_client.models import Deliverable, Publication, Report, ReportComment

from hub.client import HubClient
from hub.errors import HubClientError
from tests.hub.api.test_hub_findings import PDF, approved_project, days_later

Hub = Any  # tests/hub/conftest.py
SHA = hashlib.sha256(PDF).hexdigest()


def _client(hub: Hub, token: str | None) -> Client:
    return Client("http://hub.test", token=token, transport=hub.client._transport,
                  from_env=False)


def test_report_uploaded_objected_released_and_published_typed(hub: Hub,
                                                               tmp_path: Path) -> None:
    researcher, project = approved_project(hub)
    steward = hub.token("steward", agency="K12")
    paper = tmp_path / "interim.pdf"
    paper.write_bytes(PDF)
    with _client(hub, researcher) as mine, _client(hub, steward) as agency, \
            _client(hub, None) as public:
        report = mine.upload_report(project, paper, title="Interim findings",
                                    deliverable="Interim report")
        assert isinstance(report, Report)
        assert (report.status, report.filename, report.content_type, report.sha256,
                report.size_bytes) == ("in_review", "interim.pdf", "application/pdf", SHA,
                                       len(PDF))
        assert report.window_open and not report.releasable and report.review_days == 30
        assert [r.id for r in agency.list_reports()] == [report.id]
        assert [r.id for r in agency.list_reports(project)] == [report.id]

        objection = agency.comment_report(report.id, "Suppress the cell of 3.",
                                          kind="objection")
        assert isinstance(objection, ReportComment) and objection.standing
        assert (objection.author_role, objection.agency) == ("steward", "K12")
        answer = mine.comment_report(report.id, "Suppressed in version 2.")
        assert answer.kind == "comment" and not answer.standing
        read = mine.get_report(report.id)
        assert read.standing_objections == 1
        assert [(c.kind, c.status) for c in read.comments or []] == [
            ("objection", "standing"), ("comment", None)]

        with pytest.raises(Conflict) as early:
            mine.release_report(report.id)
        assert early.value.code == "review_window_open"
        days_later(hub, 31)
        with pytest.raises(Conflict) as blocked:
            mine.release_report(report.id)
        assert blocked.value.code == "objection_standing" and blocked.value.exit_code == 5
        assert agency.withdraw_objection(report.id, objection.id).status == "withdrawn"
        released = mine.release_report(report.id)
        assert released.status == "released" and released.released_at is not None

        due = mine.deliverables(project)
        assert all(isinstance(d, Deliverable) for d in due)
        assert [(d.title, d.status, d.reports) for d in due] == [
            ("Interim report", "released", [report.id]), ("Final paper", "due", [])]

        added = mine.add_publication(project, "Researcher, A. (2027). Early grades.",
                                     "2027-06-01", doi="10.1234/jed.2027.42",
                                     report_id=report.id)
        assert isinstance(added, Publication) and added.report_id == report.id
        register = public.publications()  # no token: the register is public
        assert [(p.id, p.project_title, p.published_on, p.doi) for p in register] == [
            (added.id, hub.agreement()["title"], "2027-06-01", "10.1234/jed.2027.42")]
        entry = next(p for p in public.public_projects() if p.id == project)
        assert [(f.id, f.sha256) for f in entry.released_findings] == [(report.id, SHA)]
        assert [p.id for p in entry.publications] == [added.id]

        saved = agency.download_report(report.id, tmp_path / "got")
        assert saved.path == tmp_path / "got" / "interim.pdf" and saved.sha256 == SHA
        assert saved.path.read_bytes() == PDF
        with pytest.raises(InvalidInput, match="already exists"):
            agency.download_report(report.id, tmp_path / "got")
        assert agency.download_report(report.id, tmp_path / "got", overwrite=True).path \
            == saved.path


def test_governance_overrides_an_objection(hub: Hub) -> None:
    researcher, project = approved_project(hub)
    with _client(hub, researcher) as mine, \
            _client(hub, hub.token("steward", agency="HE")) as agency, \
            _client(hub, hub.token("governance")) as board:
        report = mine.upload_report(project, b"# Brief\n\nEnrolment rose.\n",
                                    filename="brief.md", title="Brief", kind="brief")
        assert (report.content_type, report.kind) == ("text/markdown", "brief")
        objection = agency.comment_report(report.id, "Not yet.", kind="objection")
        overridden = board.override_objection(report.id, objection.id, "Answered in v2.")
        assert (overridden.status, overridden.override_reason) == ("overridden",
                                                                   "Answered in v2.")
        assert mine.get_report(report.id).standing_objections == 0


def test_no_objection_once_the_window_closed(hub: Hub) -> None:
    researcher, project = approved_project(hub, findings_review_days=0)
    with _client(hub, researcher) as mine, \
            _client(hub, hub.token("steward", agency="HE")) as agency:
        report = mine.upload_report(project, PDF, filename="p.pdf", title="Paper")
        assert report.releasable and not report.window_open
        with pytest.raises(Conflict) as late:
            agency.comment_report(report.id, "No.", kind="objection")
        assert late.value.code == "review_window_closed"
        assert mine.release_report(report.id).status == "released"


def test_async_client_uploads_lists_and_downloads(hub: Hub, tmp_path: Path) -> None:
    researcher, project = approved_project(hub)
    transport = httpx.ASGITransport(app=hub.app)

    async def flow() -> tuple[Report, list[Report], list[Deliverable], Path]:
        async with AsyncClient("http://hub.test", token=researcher, transport=transport,
                               from_env=False) as client:
            report = await client.upload_report(project, PDF, filename="a.pdf",
                                                title="Interim", deliverable="Interim report")
            listed = await client.list_reports(project)
            due = await client.deliverables(project)
            saved = await client.download_report(report.id, tmp_path)
            assert saved.sha256 == SHA
            return report, listed, due, saved.path

    report, listed, due, path = asyncio.run(flow())
    assert [r.id for r in listed] == [report.id]
    assert [(d.title, d.status) for d in due] == [("Interim report", "in_review"),
                                                  ("Final paper", "due")]
    assert path.read_bytes() == PDF


def _refusing() -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"nothing may be sent: {request.method} {request.url}")
    return httpx.MockTransport(handle)


def test_upload_refuses_what_the_hub_would_before_sending(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    page = tmp_path / "report.html"
    page.write_text("<html></html>")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    big = tmp_path / "big.pdf"
    big.write_bytes(b"%PDF-" + b"0" * (10 << 20))
    with Client("http://hub.test", transport=_refusing(), from_env=False) as client:
        with pytest.raises(InvalidInput) as wrong:
            client.upload_report("P-1", page, title="T")
        assert str(wrong.value) == f"{page}: give a .pdf, .docx, .txt or .md file"
        assert wrong.value.exit_code == 2
        with pytest.raises(InvalidInput, match="is empty"):
            client.upload_report("P-1", empty, title="T")
        with pytest.raises(InvalidInput, match="10 MiB limit"):
            client.upload_report("P-1", big, title="T")
        with pytest.raises(InvalidInput, match="needs its filename"):
            client.upload_report("P-1", PDF, title="T")
        with pytest.raises(InvalidInput, match="No such file"):
            client.upload_report("P-1", tmp_path / "missing.pdf", title="T")


def _serving(*, filename: str = "r.pdf", header: str = SHA, meta: str = SHA
             ) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/file"):
            return httpx.Response(200, content=PDF, headers={"X-Fedlink-SHA256": header})
        return httpx.Response(200, json={"id": "rpt-1", "project_id": "P-1",
                                         "filename": filename, "sha256": meta,
                                         "status": "released"})
    return httpx.MockTransport(handle)


@pytest.mark.parametrize("where", ["header", "metadata"])
def test_download_with_a_wrong_sha256_writes_nothing(tmp_path: Path, where: str) -> None:
    wrong = "0" * 64
    transport = _serving(header=wrong if where == "header" else SHA,
                         meta=wrong if where == "metadata" else SHA)
    with Client("http://hub.test", transport=transport, from_env=False) as client, \
            pytest.raises(IntegrityError, match="SHA-256 mismatch") as raised:
        client.download_report("rpt-1", tmp_path)
    assert raised.value.exit_code == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "saved"), [("../../escape.pdf", "escape.pdf"),
                                             ("/etc/cron.d/x.pdf", "x.pdf"),
                                             ("..\\..\\win.pdf", "win.pdf")])
def test_download_keeps_the_file_inside_the_folder(tmp_path: Path, name: str,
                                                   saved: str) -> None:
    out = tmp_path / "out"
    with Client("http://hub.test", transport=_serving(filename=name),
                from_env=False) as client:
        got = client.download_report("rpt-1", out)
    assert got.path == out / saved and got.path.read_bytes() == PDF
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [saved]


def test_download_of_a_nameless_report_is_refused(tmp_path: Path) -> None:
    with Client("http://hub.test", transport=_serving(filename=".."),
                from_env=False) as client, pytest.raises(IntegrityError, match="file name"):
        client.download_report("rpt-1", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_server_client_keeps_the_hubs_json_and_shares_the_checks(tmp_path: Path) -> None:
    """hub.client.HubClient sends the endpoints fedlink_client defines: the hub's JSON as
    sent (no field dropped), the client's file checks and SHA-256 verification."""
    sent: list[tuple[str, str]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append((request.method, request.url.raw_path.decode()))
        if request.url.path.endswith("/file"):
            return httpx.Response(200, content=PDF, headers={"X-Fedlink-SHA256": "0" * 64})
        return httpx.Response(200, json={"id": "rpt-1", "project_id": "P-1",
                                         "filename": "r.pdf", "sha256": SHA,
                                         "status": "in_review", "added_by_newer_hub": 1})

    with HubClient("http://hub.test", transport=httpx.MockTransport(handle)) as client:
        assert client.get_report("rpt 1")["added_by_newer_hub"] == 1
        with pytest.raises(HubClientError, match="SHA-256 mismatch"):
            client.download_report("rpt-1", tmp_path)
        page = tmp_path / "r.html"
        page.write_text("<p>")
        with pytest.raises(HubClientError) as wrong:
            client.upload_report("P-1", page, title="T")
        assert wrong.value.exit_code == 2
    assert sent == [("GET", "/v1/findings/rpt%201"), ("GET", "/v1/findings/rpt-1"),
                    ("GET", "/v1/findings/rpt-1/file")]
    assert list(tmp_path.iterdir()) == [page]
