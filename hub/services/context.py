"""What every service needs: settings, keys, the session factory and a clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hub.db.base import utcnow
from hub.keys import HubKeys
from hub.settings import HubSettings


@dataclass
class HubContext:
    settings: HubSettings
    keys: HubKeys
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Callable[[], dt.datetime] = field(default=utcnow)

    def now(self) -> dt.datetime:
        return self.clock()

    def now_ts(self) -> int:
        return int(self.clock().timestamp())
