"""Who may read and download an extract, when, and what a refusal looks like (4xx, audited)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from fedlink import hub_options
from fedlink.cli import main
from hub.persistence import audit as audit_store
from hub.persistence import extracts as extract_store
from protocol.keyfiles import private_key_to_pem, public_key_to_b64

Federation = Any  # tests/hub/extracts/conftest.py


@pytest.fixture
def fed(federation: Federation) -> Iterator[Federation]:
    federation.hub.app.state.node_transport = federation.transport()
    federation.hub.clock.offset = dt.timedelta()
    yield federation
    federation.hub.clock.offset = dt.timedelta()


def _build(fed: Federation, **agreement: Any) -> dict[str, Any]:
    project, _, _ = fed.ready_project(**agreement)
    return fed.api_extract(project)


def _download(fed: Federation, extract_id: str, token: str) -> Any:
    return fed.hub.client.get(f"/v1/extracts/{extract_id}/download",
                              headers=fed.hub.auth(token))


def _refusals(fed: Federation, extract_id: str) -> list[str]:
    with fed.hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, action="extract.download_refused",
                                              limit=1000)
    return [e.outcome for e in events if e.object_id == extract_id]


def test_personnel_download_the_bundle_with_its_sha256(fed: Federation) -> None:
    extract = _build(fed)
    metadata = fed.hub.client.get(f"/v1/extracts/{extract['id']}",
                                  headers=fed.hub.auth(fed.researcher[1])).json()
    assert metadata["sha256"] == extract["sha256"] and metadata["status"] == "available"
    team_member = fed.hub.token("researcher", email="BO@uni.example")
    for token in (fed.researcher[1], team_member):
        response = _download(fed, extract["id"], token)
        assert response.status_code == 200, response.text
        assert hashlib.sha256(response.content).hexdigest() == extract["sha256"]
        assert response.headers["X-Fedlink-SHA256"] == extract["sha256"]
        assert "manifest.json" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    with fed.hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, action="extract.downloaded",
                                              limit=1000)
    assert len([e for e in events if e.object_id == extract["id"]]) == 2


def test_download_by_someone_not_on_the_personnel_list_refused_and_audited(
        fed: Federation) -> None:
    extract = _build(fed)
    outsider = fed.hub.token("researcher", email="eve@elsewhere.example")
    assert _download(fed, extract["id"], outsider).status_code == 404
    governance = _download(fed, extract["id"], fed.governance[0])
    assert (governance.status_code, governance.json()["error"]) == (403, "not_personnel")
    steward = fed.hub.client.get(f"/v1/extracts/{extract['id']}",
                                 headers=fed.hub.auth(fed.stewards["SCH"]))
    assert steward.status_code == 200  # metadata, not data
    assert _refusals(fed, extract["id"]) == ["refused:not_found", "refused:not_personnel"]


def test_download_after_expiry_refused(fed: Federation) -> None:
    extract = _build(fed, term_end=str(dt.date.today() + dt.timedelta(days=5)))
    assert _download(fed, extract["id"], fed.researcher[1]).status_code == 200
    fed.hub.clock.offset = dt.timedelta(days=7)
    response = _download(fed, extract["id"], fed.researcher[1])
    assert (response.status_code, response.json()["error"]) == (410, "extract_expired")
    assert _refusals(fed, extract["id"]) == ["refused:extract_expired"]


def test_download_after_revocation_refused_and_extract_destroyed(fed: Federation) -> None:
    extract = _build(fed)
    revoked = fed.hub.client.post(f"/v1/requests/{extract['project_id']}/revoke",
                                  json={"reason": "breach of the security plan"},
                                  headers=fed.hub.auth(fed.governance[0]))
    assert revoked.status_code == 200, revoked.text
    response = _download(fed, extract["id"], fed.researcher[1])
    assert (response.status_code, response.json()["error"]) == (410, "project_revoked")
    metadata = fed.hub.client.get(f"/v1/extracts/{extract['id']}",
                                  headers=fed.hub.auth(fed.researcher[1])).json()
    assert (metadata["status"], metadata["destroyed_reason"]) == ("destroyed", "revoked")
    assert _refusals(fed, extract["id"]) == ["refused:project_revoked"]


def test_tampered_ciphertext_refused(fed: Federation) -> None:
    extract = _build(fed)
    path = fed.hub.ctx.settings.dir / "extracts" / f"{extract['id']}.flx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    response = _download(fed, extract["id"], fed.researcher[1])
    assert (response.status_code, response.json()["error"]) == (409, "extract_corrupted")
    assert _refusals(fed, extract["id"]) == ["refused:extract_corrupted"]


def test_wrapped_key_of_another_extract_does_not_open(fed: Federation) -> None:
    first, second = _build(fed), _build(fed)
    with fed.hub.ctx.session_factory() as session:
        a = extract_store.get_key(session, extract_id=first["id"])
        b = extract_store.get_key(session, extract_id=second["id"])
        assert a is not None and b is not None
        a.wrapped_key = b.wrapped_key
        session.commit()
    response = _download(fed, first["id"], fed.researcher[1])
    assert (response.status_code, response.json()["error"]) == (409, "extract_corrupted")


def test_variable_outside_the_approval_refused_and_audited(fed: Federation) -> None:
    project, _, _ = fed.ready_project()
    response = fed.hub.client.post(
        "/v1/extracts", headers=fed.hub.auth(fed.researcher[1]),
        json={"project_id": project, "variables": {"SCH": ["grade_level", "credits"]}})
    assert (response.status_code, response.json()["error"]) == (422, "variable_not_approved")
    with fed.hub.ctx.session_factory() as session:
        events, _ = audit_store.search_events(session, project=project,
                                              action="extract.refused")
    assert [e.outcome for e in events] == ["refused:variable_not_approved"]
    narrowed = fed.api_extract(project, variables={"SCH": ["grade_level"]})
    assert narrowed["status"] == "available"
    assert narrowed["variables"] == {"SCH": ["grade_level"]}


def test_held_extract_waits_for_every_steward(fed: Federation) -> None:
    extract = _build(fed, extract={"quasi_identifier_policy": "block"})
    assert extract["status"] == "held" and extract["disclosure"]["held_for_stewards"]
    response = _download(fed, extract["id"], fed.researcher[1])
    assert (response.status_code, response.json()["error"]) == (409, "extract_held")
    path = f"/v1/extracts/{extract['id']}/decision"
    first = fed.hub.client.post(path, json={"decision": "release"},
                                headers=fed.hub.auth(fed.stewards["SCH"]))
    assert first.json()["status"] == "held"
    again = fed.hub.client.post(path, json={"decision": "release"},
                                headers=fed.hub.auth(fed.stewards["SCH"]))
    assert (again.status_code, again.json()["error"]) == (409, "already_decided")
    second = fed.hub.client.post(path, json={"decision": "release"},
                                 headers=fed.hub.auth(fed.stewards["COL"]))
    assert second.json()["status"] == "available"
    assert _download(fed, extract["id"], fed.researcher[1]).status_code == 200


def _cli(capsys: Any, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_lists_downloads_verifies_and_unpacks(fed: Federation, tmp_path: Path,
                                                  capsys: Any,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  token_file: Any) -> None:
    extract = _build(fed)
    monkeypatch.setattr(hub_options, "transport", fed.hub.client._transport)
    common = ("--hub", "http://hub.test", "--token-file", token_file(fed.researcher[1]))
    code, out, err = _cli(capsys, "extract", "list", *common)
    assert code == 0, err
    assert extract["id"] in out
    code, out, err = _cli(capsys, "extract", "download", extract["id"], "--out",
                          str(tmp_path), *common)
    assert code == 0, err
    assert f"sha256 {extract['sha256']} verified" in out
    assert (tmp_path / extract["id"] / "tables" / "agency_SCH.parquet").is_file()
    assert (tmp_path / extract["id"] / "data_dictionary.csv").is_file()
    outsider = fed.hub.token("researcher", email="mallory@elsewhere.example")
    code, _, err = _cli(capsys, "extract", "download", extract["id"], "--out",
                        str(tmp_path / "x"), "--hub", "http://hub.test", "--token-file",
                        token_file(outsider))
    assert code != 0 and "not_found" in err


def test_extract_sealed_to_the_researcher_key_is_decrypted_only_by_the_cli(
        fed: Federation, tmp_path: Path, capsys: Any,
        monkeypatch: pytest.MonkeyPatch, token_file: Any) -> None:
    private = X25519PrivateKey.generate()
    extract = _build(fed, extract={
        "recipient_public_key": public_key_to_b64(private.public_key())})
    assert extract["encryption"] == "researcher"
    raw = _download(fed, extract["id"], fed.researcher[1])
    assert raw.headers["X-Fedlink-Encryption"] == "researcher"
    assert hashlib.sha256(raw.content).hexdigest() == extract["ciphertext_sha256"]
    assert not raw.content.startswith(b"PK")  # not the zip: the ciphertext
    key_file = tmp_path / "me.key"
    key_file.write_bytes(private_key_to_pem(private))
    monkeypatch.setattr(hub_options, "transport", fed.hub.client._transport)
    code, out, err = _cli(capsys, "extract", "download", extract["id"], "--out",
                          str(tmp_path / "out"), "--key", str(key_file), "--hub",
                          "http://hub.test", "--token-file", token_file(fed.researcher[1]))
    assert code == 0, err
    assert "verified" in out
    bundle = tmp_path / "out" / f"{extract['id']}.zip"
    assert hashlib.sha256(bundle.read_bytes()).hexdigest() == extract["sha256"]
    wrong = tmp_path / "wrong.key"
    wrong.write_bytes(private_key_to_pem(X25519PrivateKey.generate()))
    code, _, err = _cli(capsys, "extract", "download", extract["id"], "--out",
                        str(tmp_path / "w"), "--key", str(wrong), "--hub", "http://hub.test",
                        "--token-file", token_file(fed.researcher[1]))
    assert code != 0 and "cannot be decrypted" in err
    assert not (tmp_path / "w" / f"{extract['id']}.zip").exists()
