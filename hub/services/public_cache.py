"""A short-lived, per-process cache of the anonymous public list (``/v1/public/projects``).

Why (issue 20): the public list is the hub's most requested page — anyone may poll it, with
no token — and each call cost three queries, a pooled connection and two thread-pool steps.
Under 200 concurrent clients those calls competed with every researcher's authenticated
read. The list changes only when a request is decided or an output released, so each hub
process keeps an answer for at most ``public_cache_seconds`` (hub.toml, default 1 s; 0
turns the cache off), the way a reverse proxy would micro-cache a public page.

Freshness:

* a write answered by this process (any ``POST``/``PUT``/``PATCH``/``DELETE``) empties
  the cache when its answer starts (:mod:`hub.api.public_cache`), so a caller who approves
  a request and then reads the list sees the approval;
* a change made by another process — another ``hub serve`` worker, a ``fedlink hub``
  command — shows within ``public_cache_seconds``;
* an answer computed while a write landed is not kept (a generation counter), so the cache
  never holds a list older than the last local write.

Only anonymous, caller-independent bodies are cached: nothing here depends on a token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, Final

#: Distinct keys (``limit``, ``offset`` pairs) kept at most; the oldest goes first.
MAX_ENTRIES: Final = 256


class PublicCache:
    """Answers by key, each kept ``seconds``; thread-safe (filled from the thread pool)."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._generation = 0

    @property
    def enabled(self) -> bool:
        return self.seconds > 0

    @property
    def generation(self) -> int:
        """Bumped by every :meth:`clear`: a fill started before a write is not stored."""
        return self._generation

    def get(self, key: Hashable) -> Any | None:
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            expires, value = entry
            if self._clock() >= expires:
                del self._entries[key]
                return None
            return value

    def put(self, key: Hashable, value: Any, *, generation: int) -> None:
        """Keep ``value`` unless the cache was cleared since ``generation`` was read."""
        if not self.enabled:
            return
        with self._lock:
            if generation != self._generation:
                return
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.pop(next(iter(self._entries)))
            self._entries[key] = (self._clock() + self.seconds, value)

    def clear(self) -> None:
        with self._lock:
            self._generation += 1
            self._entries.clear()
