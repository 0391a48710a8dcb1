"""What every service needs: settings, keys, the session factory and a clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hub.db.base import utcnow
from hub.errors import ConfigError
from hub.keys import HubKeys
from hub.services.public_cache import PublicCache
from hub.settings import HubSettings


@dataclass
class HubContext:
    settings: HubSettings
    #: The hub's private keys; None in the assembly role, which holds none of them
    #: (docs/extracts.md, "Separation of duties").
    hub_keys: HubKeys | None
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Callable[[], dt.datetime] = field(default=utcnow)
    #: The anonymous public list's short-lived answers (hub.services.public_cache).
    public_cache: PublicCache = field(default_factory=lambda: PublicCache(0))

    @property
    def keys(self) -> HubKeys:
        """The hub's keys; :class:`ConfigError` in a process that holds none."""
        if self.hub_keys is None:
            raise ConfigError("this process (the assembly role) holds no hub key")
        return self.hub_keys

    def now(self) -> dt.datetime:
        return self.clock()

    def now_ts(self) -> int:
        return int(self.clock().timestamp())
