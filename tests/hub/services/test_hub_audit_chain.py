"""The audit chain detects an edited, a deleted (middle or newest) and a reordered event,
tampered directly in the database, and names the first broken event."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update

from hub.db.models import AuditCheckpoint, AuditEvent, AuditHead
from hub.domain.audit_chain import GENESIS_HASH, event_hash
from hub.errors import AuditChainError
from hub.services.audit_log import verify_database


@pytest.fixture
def chained(make_hub):
    hub = make_hub(audit_checkpoint_every=4)
    hub.enroll("K12")
    hub.enroll("HE")
    researcher = hub.token("researcher")
    request_id = hub.submitted_request(researcher)
    # (the researcher's invitation, redemption and activation are 3 events of the 12)
    for _ in range(2):
        hub.client.get(f"/v1/requests/{request_id}", headers=hub.auth(researcher))
    with hub.ctx.session_factory() as session:
        # 12 events: checkpoints after events 4, 8 and 12.
        assert verify_database(session, hub.ctx).events == 12
    return hub


def _verify(hub):
    with hub.ctx.session_factory() as session:
        return verify_database(session, hub.ctx)


def test_intact_chain_verifies_with_checkpoints(chained) -> None:
    report = _verify(chained)
    assert report.checkpoints == report.events // 4
    with chained.ctx.session_factory() as session:
        first = session.get(AuditEvent, 1)
        assert first.prev_hash == GENESIS_HASH
        content = {k: getattr(first, k) for k in ("ts", "actor", "role", "action", "object_type",
                                                  "object_id", "project", "agency", "outcome",
                                                  "source", "detail")}
        assert event_hash(content, seq=1, prev_hash=GENESIS_HASH) == first.hash


def test_edited_event_detected(chained) -> None:
    with chained.ctx.session_factory() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 5).values(actor="user:999"))
        session.commit()
    with pytest.raises(AuditChainError, match="audit event 5 was altered") as caught:
        _verify(chained)
    assert caught.value.seq == 5


def test_edited_detail_detected(chained) -> None:
    with chained.ctx.session_factory() as session:
        session.execute(update(AuditEvent).where(AuditEvent.seq == 3).values(
            detail={"forged": True}))
        session.commit()
    with pytest.raises(AuditChainError) as caught:
        _verify(chained)
    assert caught.value.seq == 3


def test_deleted_event_detected(chained) -> None:
    with chained.ctx.session_factory() as session:
        session.execute(delete(AuditEvent).where(AuditEvent.seq == 6))
        session.commit()
    with pytest.raises(AuditChainError, match="audit event 6 is missing") as caught:
        _verify(chained)
    assert caught.value.seq == 6


def test_deleted_newest_events_detected_by_head_and_checkpoint(chained) -> None:
    with chained.ctx.session_factory() as session:
        last = session.scalar(select(AuditHead.seq))
        session.execute(delete(AuditEvent).where(AuditEvent.seq >= last - 1))
        # A careful attacker also rewinds the head row; the signed checkpoint still knows.
        previous = session.get(AuditEvent, last - 2)
        session.execute(update(AuditHead).values(seq=last - 2, hash=previous.hash))
        session.commit()
        checkpoint_seq = session.scalar(select(AuditCheckpoint.seq).order_by(
            AuditCheckpoint.seq.desc()))
    if checkpoint_seq > last - 2:
        with pytest.raises(AuditChainError, match="missing") as caught:
            _verify(chained)
        assert caught.value.seq == last - 1
    else:
        pytest.fail("fixture should leave a checkpoint within the truncated tail")


def test_reordered_events_detected(chained) -> None:
    with chained.ctx.session_factory() as session:
        rows = {e.seq: e for e in session.scalars(select(AuditEvent).where(
            AuditEvent.seq.in_([7, 8])))}
        fields = ("ts", "actor", "role", "action", "object_type", "object_id", "project",
                  "agency", "outcome", "source", "detail", "prev_hash", "hash")
        seven = {f: getattr(rows[7], f) for f in fields}
        eight = {f: getattr(rows[8], f) for f in fields}
        session.execute(update(AuditEvent).where(AuditEvent.seq == 7).values(**eight))
        session.execute(update(AuditEvent).where(AuditEvent.seq == 8).values(**seven))
        session.commit()
    with pytest.raises(AuditChainError, match="audit event 7 does not link") as caught:
        _verify(chained)
    assert caught.value.seq == 7


def test_forged_checkpoint_signature_detected(chained) -> None:
    with chained.ctx.session_factory() as session:
        session.execute(update(AuditCheckpoint).where(AuditCheckpoint.seq == 4).values(
            head_hash="f" * 64))
        session.commit()
    with pytest.raises(AuditChainError, match="checkpoint at event 4 has a bad signature"):
        _verify(chained)


def test_change_and_its_audit_event_share_a_transaction(chained) -> None:
    """A refused change leaves neither the change nor a success event behind."""
    researcher = chained.token("researcher")
    before = _verify(chained).events
    response = chained.client.post("/v1/requests", json=chained.agreement(title=""),
                                   headers=chained.auth(researcher))
    assert response.status_code == 422
    assert _verify(chained).events == before
