"""Destruction: certified, at expiry, on revocation, withheld, superseded — key and file gone,
recorded, and a sweeper that can run any number of times."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from fedlink.cli import main
from hub.domain.roles import OPERATOR
from hub.errors import ExtractIntegrityError
from hub.extracts import crypto
from hub.extracts.crypto import KeyWrapper, decrypt_chunks
from hub.persistence import audit as audit_store
from hub.persistence import extracts as extract_store
from hub.services.extract_destruction import ExtractSweeper, sweep

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


def _path(fed: Federation, extract_id: str) -> Path:
    return fed.hub.ctx.settings.dir / "extracts" / f"{extract_id}.flx"


def _events(fed: Federation, action: str) -> list[Any]:
    with fed.hub.ctx.session_factory() as session:
        return audit_store.search_events(session, action=action, limit=1000)[0]


def _status(fed: Federation, project: str) -> str:
    return str(fed.hub.status(project, fed.researcher[1]))


@pytest.fixture
def insecure_delete(fed: Federation) -> Iterator[None]:
    """SQLite connections with ``secure_delete`` off (some builds' default), so the test
    shows that destroying a key does not rely on how SQLite was compiled."""
    engine = fed.hub.ctx.engine
    if engine.dialect.name != "sqlite":  # a SQLite pragma; PostgreSQL has no such switch
        yield
        return

    def off(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA secure_delete = OFF")

    event.listen(engine, "connect", off)
    engine.dispose()
    yield
    event.remove(engine, "connect", off)
    engine.dispose()


def test_certified_destruction_shreds_key_and_file_and_closes_the_project(
        fed: Federation, insecure_delete: None) -> None:
    extract = _build(fed)
    path = _path(fed, extract["id"])
    ciphertext = path.read_bytes()
    with fed.hub.ctx.session_factory() as session:
        key = extract_store.get_key(session, extract_id=extract["id"])
        assert key is not None
        wrapped, kid = bytes(key.wrapped_key), key.kwk_id
    data_key = KeyWrapper.from_directory(fed.hub.ctx.settings.dir).unwrap(
        wrapped, extract_id=extract["id"], kid=kid)
    response = fed.hub.client.post(
        f"/v1/extracts/{extract['id']}/certify-destruction",
        json={"statement": "Deleted from the encrypted workstation and its backups."},
        headers=fed.hub.auth(fed.researcher[1]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["destroyed_reason"]) == ("destroyed", "certified")
    assert body["destruction"]["key_destroyed"] is True
    assert body["destruction"]["certified_by"] == f"user:{fed.researcher[0]}"
    assert not path.exists()
    with fed.hub.ctx.session_factory() as session:
        assert extract_store.get_key(session, extract_id=extract["id"]) is None
    # The wrapped key is not left behind in the database file (overwritten, secure_delete).
    # (SQLite only: PostgreSQL keeps dead tuples until VACUUM, as docs/extracts.md says.)
    if fed.hub.ctx.settings.database_url.startswith("sqlite:///"):
        database = Path(fed.hub.ctx.settings.database_url.removeprefix("sqlite:///"))
        assert wrapped not in database.read_bytes()
    # Without its key the saved ciphertext opens under nothing the hub still holds.
    master = crypto.load_master_key(fed.hub.ctx.settings.dir)
    for guess in (master, bytes(32)):
        with pytest.raises(ExtractIntegrityError):
            b"".join(decrypt_chunks(_reader(ciphertext), guess, extract_id=extract["id"]))
    assert b"".join(decrypt_chunks(_reader(ciphertext), data_key,
                                   extract_id=extract["id"]))[:2] == b"PK"  # it was real
    assert _status(fed, extract["project_id"]) == "expired"
    download = fed.hub.client.get(f"/v1/extracts/{extract['id']}/download",
                                  headers=fed.hub.auth(fed.researcher[1]))
    assert download.status_code == 410
    again = fed.hub.client.post(f"/v1/extracts/{extract['id']}/certify-destruction",
                                json={"statement": "again"},
                                headers=fed.hub.auth(fed.researcher[1]))
    assert (again.status_code, again.json()["error"]) == (409, "already_certified")
    destroyed = [e for e in _events(fed, "extract.destroyed") if e.object_id == extract["id"]]
    assert destroyed[0].detail["reason"] == "certified"
    assert destroyed[0].detail["file_bytes"] == len(ciphertext)


def _reader(data: bytes) -> Any:
    import io

    return io.BytesIO(data)


def test_sweeper_destroys_at_the_end_of_the_term_and_is_idempotent(fed: Federation) -> None:
    extract = _build(fed, term_end=str(dt.date.today() + dt.timedelta(days=3)))
    fed.hub.clock.offset = dt.timedelta(days=5)
    first = sweep(fed.hub.ctx, OPERATOR)
    assert extract["project_id"] in first["projects_expired"]
    assert extract["id"] in first["extracts_destroyed"]
    assert not _path(fed, extract["id"]).exists()
    with fed.hub.ctx.session_factory() as session:
        head = audit_store.get_head(session)
        assert head is not None
        seq = head.seq
    assert sweep(fed.hub.ctx, OPERATOR) == {"projects_expired": [], "extracts_destroyed": [],
                                            "extracts_interrupted": [],
                                            "files_shredded": [], "runs_purged": [],
                                            "refreshes_started": []}
    with fed.hub.ctx.session_factory() as session:
        head = audit_store.get_head(session)
        assert head is not None and head.seq == seq  # nothing appended by the second run
    assert _status(fed, extract["project_id"]) == "expired"


def test_sweeper_finishes_a_destruction_interrupted_before_the_file(
        fed: Federation, monkeypatch: pytest.MonkeyPatch) -> None:
    extract = _build(fed)
    from hub.services import extract_destruction

    def crash(_path: Path) -> int:
        raise OSError("disk went away")

    monkeypatch.setattr(extract_destruction, "shred_file", crash)
    with pytest.raises(OSError):
        extract_destruction.destroy_extract(fed.hub.ctx, OPERATOR, extract_id=extract["id"],
                                            reason="revoked")
    monkeypatch.undo()
    assert _path(fed, extract["id"]).exists()  # unreadable bytes: the key is already gone
    with fed.hub.ctx.session_factory() as session:
        assert extract_store.get_key(session, extract_id=extract["id"]) is None
    assert extract["id"] in sweep(fed.hub.ctx, OPERATOR)["files_shredded"]
    assert not _path(fed, extract["id"]).exists()


def test_withheld_and_superseded_extracts_are_destroyed(fed: Federation) -> None:
    held = _build(fed, extract={"quasi_identifier_policy": "block"})
    refused = fed.hub.client.post(f"/v1/extracts/{held['id']}/decision",
                                  json={"decision": "withhold"},
                                  headers=fed.hub.auth(fed.stewards["COL"]))
    assert (refused.status_code, refused.json()["error"]) == (422, "invalid_request")
    withheld = fed.hub.client.post(f"/v1/extracts/{held['id']}/decision",
                                   json={"decision": "withhold", "reason": "too small"},
                                   headers=fed.hub.auth(fed.stewards["COL"]))
    assert (withheld.json()["status"], withheld.json()["destroyed_reason"]) == (
        "destroyed", "withheld")
    first = _build(fed)
    assert fed.api_extract(first["project_id"])["status"] == "available"
    old = fed.hub.client.get(f"/v1/extracts/{first['id']}",
                             headers=fed.hub.auth(fed.researcher[1])).json()
    assert (old["status"], old["destroyed_reason"]) == ("destroyed", "superseded")
    assert not _path(fed, first["id"]).exists()


def test_background_sweeper_thread_destroys_what_is_due(fed: Federation) -> None:
    extract = _build(fed, term_end=str(dt.date.today() + dt.timedelta(days=2)))
    fed.hub.clock.offset = dt.timedelta(days=4)
    sweeper = ExtractSweeper(fed.hub.ctx, interval=0.05)
    sweeper.start()
    try:
        deadline = time.monotonic() + 20
        while _path(fed, extract["id"]).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sweeper.stop()
    assert not _path(fed, extract["id"]).exists()


def test_hub_sweep_command_runs_once(fed: Federation, capsys: Any) -> None:
    settings = fed.hub.ctx.settings
    config = settings.dir / "hub.toml"
    if not config.exists():
        config.write_text(f'database_url = "{settings.database_url}"\n')
    outputs = []
    for _ in range(2):
        try:
            main(["hub", "sweep", "--dir", str(settings.dir)])
        except SystemExit as exit_:
            assert not exit_.code
        outputs.append(capsys.readouterr().out)
    assert outputs[1].startswith("0 project(s) expired, 0 extract(s) destroyed")
