"""What a node command or the node service works with: settings, store sessions, audit log."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from agency_node.services.audit import AuditLog
from agency_node.settings import NodeSettings
from agency_node.store.db import open_engine, session_factory


@dataclass
class NodeRuntime:
    settings: NodeSettings
    engine: Engine
    sessions: sessionmaker[Session]
    audit: AuditLog

    @classmethod
    def from_settings(cls, settings: NodeSettings) -> NodeRuntime:
        engine = open_engine(settings.database_url)
        sessions = session_factory(engine)
        return cls(settings=settings, engine=engine, sessions=sessions, audit=AuditLog(sessions))

    @classmethod
    @contextmanager
    def open(cls, node_dir: Path) -> Iterator[NodeRuntime]:
        """The runtime of the node in ``node_dir``; its engine is disposed on exit."""
        runtime = cls.from_settings(NodeSettings.load(node_dir))
        try:
            yield runtime
        finally:
            runtime.engine.dispose()
