"""``fedlink audit verify`` over the witnessed transparency log: an intact federation
verifies and says which witness saw what; a truncated or rewritten hub log, and a
rewritten node log, are each reported (in process: hub and node apps over ASGI)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from agency_node.keys import load_signing_key
from agency_node.services.audit import event_hash as node_event_hash
from agency_node.store.models import AuditEvent as NodeEvent
from agency_node.store.models import LogCheckpoint
from fedlink import hub_options
from fedlink.cli import main
from hub.db.models import AuditCheckpoint, AuditEvent, AuditHead, TlogCheckpoint, TlogCosignature
from hub.domain.audit_chain import CONTENT_FIELDS, event_hash
from hub.node_client import make_node_http_client
from hub.services import witnessing
from protocol.keyfiles import public_key_to_pem
from tests.hub.runs.conftest import HUB_URL, NODES, Federation


def run(capsys: Any, *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def cli(federation: Federation, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The CLI talks to the in-process hub and nodes; returns an auditor token file."""
    federation.router.routes[HUB_URL.removeprefix("http://")] = federation.hub.client._transport
    monkeypatch.setattr(hub_options, "transport", federation.router)
    monkeypatch.delenv("FEDLINK_TOKEN", raising=False)
    token_file = tmp_path / "auditor.token"
    token_file.write_text(federation.hub.token("auditor"))
    token_file.chmod(0o600)
    return token_file


def _push(federation: Federation) -> dict[str, str]:
    client = make_node_http_client(federation.hub.ctx.settings, transport=federation.router)
    try:
        return witnessing.push(federation.hub.ctx, client=client)
    finally:
        client.close()


def _verify(capsys: Any, token: Path, *extra: str) -> tuple[int, str, str]:
    return run(capsys, "audit", "verify", "--hub", HUB_URL, "--token-file", str(token), *extra)


def test_intact_log_verifies_with_every_witness(federation: Federation, cli: Path,
                                                capsys: Any, tmp_path: Path) -> None:
    assert _push(federation) == {"K12": "cosigned", "HE": "cosigned"}
    keys = tmp_path / "witness-keys"
    keys.mkdir()
    for agency in NODES:  # each agency hands its witness key to the auditor
        code, out, err = run(capsys, "audit", "witness-key", "--node-dir",
                             str(federation.nodes[agency]), "--out",
                             str(keys / f"{agency}.pem"))
        assert code == 0 and f"pin it as {agency}.pem" in out, err
        assert (keys / f"{agency}.pem").read_bytes() == public_key_to_pem(
            load_signing_key(federation.nodes[agency]).public_key())
    code, out, err = _verify(capsys, cli, "--witness-keys", str(keys), "--ask-nodes")
    assert code == 0, err
    assert "transparency log consistent" in out and f"pinned files in {keys}" in out
    for agency in NODES:
        assert f"witness {agency} co-signed sizes" in out
        assert f"witness {agency} asked directly" in out
    code, out, err = _verify(capsys, cli)
    assert code == 0 and "agency directory served by the hub" in out, err


def test_truncated_hub_log_reported_by_witnesses(federation: Federation, cli: Path,
                                                 capsys: Any) -> None:
    federation.hub.token("auditor")  # a few more events
    assert _push(federation)["K12"] == "cosigned"
    with federation.hub.ctx.session_factory() as session:
        total = int(session.scalar(select(AuditHead.seq)) or 0)
        session.execute(delete(AuditEvent).where(AuditEvent.seq > total - 3))
        last = session.get(AuditEvent, total - 3)
        assert last is not None
        session.execute(update(AuditHead).values(seq=total - 3, hash=last.hash))
        for table in (TlogCosignature, TlogCheckpoint, AuditCheckpoint):
            session.execute(delete(table))
        session.commit()
    code, _, err = _verify(capsys, cli)
    assert code == 0, err  # the hub's own copy no longer shows anything wrong …
    code, _, err = _verify(capsys, cli, "--ask-nodes")
    assert code != 0 and "events were deleted (rollback)" in err  # … the witnesses do
    assert _push(federation) == {"K12": "rollback", "HE": "rollback"}


def test_rewritten_and_resigned_hub_log_reported(federation: Federation, cli: Path,
                                                 capsys: Any) -> None:
    assert _push(federation)["HE"] == "cosigned"
    with federation.hub.ctx.session_factory() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        contents = [{k: getattr(e, k) for k in CONTENT_FIELDS} for e in events if e.seq != 2]
        session.execute(delete(AuditEvent))
        prev = "0" * 64
        for seq, content in enumerate(contents, start=1):
            digest = event_hash(content, seq=seq, prev_hash=prev)
            session.add(AuditEvent(**content, seq=seq, prev_hash=prev, hash=digest))
            prev = digest
        session.execute(update(AuditHead).values(seq=len(contents), hash=prev))
        for table in (TlogCosignature, TlogCheckpoint, AuditCheckpoint):
            session.execute(delete(table))
        session.commit()
    federation.hub.token("auditor")  # the rewritten log grows past the co-signed size
    federation.hub.token("auditor")
    # The hub re-signs a checkpoint of the rewritten log; every witness refuses it.
    assert _push(federation) == {"K12": "inconsistent", "HE": "inconsistent"}
    code, _, err = _verify(capsys, cli, "--ask-nodes")
    assert code != 0 and "history was rewritten" in err


def test_rewritten_node_log_reported_against_the_hubs_copies(federation: Federation, cli: Path,
                                                             capsys: Any) -> None:
    assert _push(federation)["K12"] == "cosigned"
    node_dir = federation.nodes["K12"]
    code, out, err = run(capsys, "audit", "verify", "--node-dir", str(node_dir), "--hub",
                         HUB_URL, "--token-file", str(cli))
    assert code == 0 and "signed node checkpoints the hub holds" in out, err
    with federation.runtime("K12") as runtime, runtime.sessions() as session:
        events = list(session.scalars(select(NodeEvent).order_by(NodeEvent.seq)))
        session.execute(delete(NodeEvent))
        session.execute(delete(LogCheckpoint))  # the node's own copies go too
        prev = "0" * 64
        for seq, event in enumerate(events[1:], start=1):
            content = {"seq": seq, "at": event.at, "actor": event.actor, "typ": event.typ,
                       "project_id": event.project_id, "outcome": event.outcome,
                       "reason": event.reason, "details": event.details}
            digest = node_event_hash(content, prev)
            session.add(NodeEvent(**content, prev_hash=prev, hash=digest))
            prev = digest
        session.commit()
    code, out, err = run(capsys, "audit", "verify", "--node-dir", str(node_dir))
    assert code == 0, err  # the node's chain and its (emptied) own checkpoints still pass …
    code, _, err = run(capsys, "audit", "verify", "--node-dir", str(node_dir), "--hub",
                       HUB_URL, "--token-file", str(cli))
    # … the copies the hub holds do not (the log is one event short of them)
    assert code != 0 and "events were deleted" in err


def test_audit_checkpoint_command_pushes_to_every_witness(
        federation: Federation, cli: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(witnessing, "make_node_http_client",
                        lambda settings: make_node_http_client(settings,
                                                               transport=federation.router))
    code, out, err = run(capsys, "audit", "checkpoint", "--hub", HUB_URL, "--token-file",
                         str(cli))
    assert code == 0, err
    assert "signed; witnesses: HE cosigned, K12 cosigned" in out
    researcher = federation.hub.client.post("/v1/audit/tlog/checkpoints",
                                            headers=federation.hub.auth(federation.researcher))
    assert researcher.status_code == 403
