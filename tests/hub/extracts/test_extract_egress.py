"""A node's egress guard refusing a payload fails the extract at the hub with the node's
code, ``egress_identifier``, naming the agency — and nothing of the values reaches the hub
(its extract row, its audit log, its extract directory)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, update

from agency_node.store.models import Record
from hub.errors import ExtractBuildError
from hub.persistence import audit as audit_store
from hub.persistence import extracts as extract_store

Federation = Any  # tests/hub/extracts/conftest.py


def _caller(fed: Federation) -> Any:
    from hub.domain.roles import Caller, Principal

    user_id, _ = fed.researcher
    return Caller(Principal(kind="user", id=user_id, role="researcher",
                            email="ada@uni.example"), source="test")


def test_node_egress_guard_refusal_fails_the_extract_with_its_code(
        federation: Federation) -> None:
    project, _, _ = federation.ready_project()
    node = federation.nodes["SCH"]
    # A mis-mapped column: the offered ``school`` variable now holds each record's own
    # last name, as the node's store would after a wrong node.toml.
    surnames = []
    with node.runtime.sessions() as session:
        for pk, identity, attributes in session.execute(
                select(Record.id, Record.identity, Record.attributes)).all():
            surnames.append(identity["last_name"])
            session.execute(update(Record).where(Record.id == pk).values(
                attributes={**attributes, "school": identity["last_name"]}))
        session.commit()
    with pytest.raises(ExtractBuildError) as raised, federation.client() as client:
        federation.hub.build_extract(_caller(federation), project_id=project, client=client)
    assert (raised.value.code, raised.value.agency) == ("egress_identifier", "SCH")
    assert "variable 'school'" in str(raised.value)
    with federation.hub.ctx.session_factory() as session:
        [extract] = extract_store.list_extracts(session, project_ids=[project])
        assert (extract.status, extract.failure_code) == ("failed", "egress_identifier")
        events, _ = audit_store.search_events(session, project=project,
                                              action="extract.failed")
        assert events[0].outcome == "refused:egress_identifier"
        stored = f"{extract.failure_reason} {events[0].detail}"
    for surname in surnames:
        assert surname not in stored and surname.title() not in stored
    assert not list((federation.hub.ctx.settings.dir / "extracts").glob(f"{extract.id}*"))
