"""Bounding what bad-token requests add to the permanent audit log (docs/hub.md,
"Authentication failures").

Every refused token used to append one ``auth.failed`` event, so anyone could grow the
hash chain — which is never pruned — as fast as they could send requests. Now, per hub
process and per window of ``auth_failure_window_seconds``:

* a source's first ``auth_failure_audit_per_window`` failures are audited one by one as
  before (``auth.failed``), and at most ten times that many over all sources;
* further failures are *counted*, not appended; when the window is over, one
  ``auth.failures_summarised`` event records, per source (the 20 busiest, the rest
  together), how many failures there were, how many were audited and how many refused
  with 429 — the record of the attempt is kept, at the cost of one event;
* a source with ``auth_failure_block_after`` failures in the window gets **429**
  ``too_many_auth_failures`` on each further bad token until the window ends (a valid
  token is still admitted: tokens are 256-bit random, so the limit protects the log,
  not the tokens).

So a window adds at most ``10 × auth_failure_audit_per_window + 1`` events whatever the
number of requests or sources. The counters live in memory: a crash loses at most the
summary of the current window (its individual events are already in the chain).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn

from sqlalchemy.orm import Session

from hub.domain.roles import Caller
from hub.errors import AuthenticationError
from hub.services import audit
from hub.services.context import HubContext
from hub.settings import HubSettings

#: Sources named one by one in a summary event; the rest are added up.
SUMMARY_SOURCES: Final = 20
#: The all-sources cap on individual events per window, in multiples of the per-source one.
GLOBAL_FACTOR: Final = 10


class TooManyAuthFailuresError(AuthenticationError):
    """An authentication refusal (every ``except AuthenticationError`` handles it, e.g.
    the web sign-in form), answered 429 by the API."""

    code = "too_many_auth_failures"
    status = 429


@dataclass
class _Window:
    start: dt.datetime
    failures: Counter[str] = field(default_factory=Counter)
    audited: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)

    def summary(self, end: dt.datetime) -> dict[str, Any] | None:
        """The summary event's detail, or None when every failure was audited."""
        suppressed = sum(self.failures.values()) - sum(self.audited.values())
        if suppressed <= 0:
            return None
        busiest = [s for s, _ in self.failures.most_common(SUMMARY_SOURCES)]
        rest = [s for s in self.failures if s not in busiest]
        return {
            "window_start": self.start.isoformat(), "window_end": end.isoformat(),
            "failures": sum(self.failures.values()), "audited": sum(self.audited.values()),
            "not_audited": suppressed, "refused_429": sum(self.blocked.values()),
            "sources": [{"source": s, "failures": self.failures[s],
                         "audited": self.audited[s], "refused_429": self.blocked[s]}
                        for s in busiest],
            "other_sources": len(rest),
            "other_failures": sum(self.failures[s] for s in rest),
        }


class AuthFailureThrottle:
    """The per-process counters (thread-safe); :func:`refuse_bad_token` uses them."""

    def __init__(self, *, window_seconds: int, audit_per_window: int, block_after: int) -> None:
        self.window = dt.timedelta(seconds=window_seconds)
        self.per_source = audit_per_window
        self.overall = audit_per_window * GLOBAL_FACTOR
        self.block_after = block_after
        self._lock = threading.Lock()
        self._current: _Window | None = None

    @classmethod
    def from_settings(cls, settings: HubSettings) -> AuthFailureThrottle:
        return cls(window_seconds=settings.auth_failure_window_seconds,
                   audit_per_window=settings.auth_failure_audit_per_window,
                   block_after=settings.auth_failure_block_after)

    def note(self, source: str, now: dt.datetime) -> tuple[str, dict[str, Any] | None]:
        """Count one failure: ``audit``, ``count`` or ``block``, and the summary of a window
        that has just ended (to be recorded), if any."""
        with self._lock:
            ended = None
            if self._current is None or now >= self._current.start + self.window:
                if self._current is not None:
                    ended = self._current.summary(now)
                self._current = _Window(start=now)
            window = self._current
            window.failures[source] += 1
            if window.failures[source] > self.block_after:
                window.blocked[source] += 1
                return "block", ended
            if (window.audited[source] < self.per_source
                    and sum(window.audited.values()) < self.overall):
                window.audited[source] += 1
                return "audit", ended
            return "count", ended

    def flush(self, now: dt.datetime) -> dict[str, Any] | None:
        """End the current window now; its summary, if it needs one (at shutdown)."""
        with self._lock:
            window, self._current = self._current, None
        return window.summary(now) if window is not None else None


_THROTTLES_LOCK = threading.Lock()
#: Where a hub context keeps its throttle (set on first use; lives and dies with the app).
_ATTRIBUTE: Final = "_auth_failure_throttle"


def throttle_for(ctx: HubContext) -> AuthFailureThrottle:
    """The throttle of this hub context (one per app)."""
    with _THROTTLES_LOCK:
        throttle = getattr(ctx, _ATTRIBUTE, None)
        if not isinstance(throttle, AuthFailureThrottle):
            throttle = AuthFailureThrottle.from_settings(ctx.settings)
            setattr(ctx, _ATTRIBUTE, throttle)
        return throttle


def record_summary(session: Session, ctx: HubContext, detail: dict[str, Any]) -> None:
    audit.record(session, ctx, Caller(None, "hub"), action="auth.failures_summarised",
                 outcome="refused:invalid_token", object_type="token", detail=detail)


def flush(ctx: HubContext) -> None:
    """Record the summary of the current window, if any (called when the app stops)."""
    with _THROTTLES_LOCK:
        throttle = getattr(ctx, _ATTRIBUTE, None)
    detail = throttle.flush(ctx.now()) if isinstance(throttle, AuthFailureThrottle) else None
    if detail is not None:
        with ctx.session_factory() as session:
            record_summary(session, ctx, detail)
            session.commit()


def refuse_bad_token(session: Session, ctx: HubContext, *, source: str,
                     error: AuthenticationError, object_id: str) -> NoReturn:
    """Refuse a bad token: audited one by one while the source and the window allow,
    counted into the window's summary otherwise, 429 past the block threshold."""
    verdict, ended = throttle_for(ctx).note(source, ctx.now())
    session.rollback()
    if ended is not None:
        with audit.writable(session, ctx) as target:
            record_summary(target, ctx, ended)
            target.commit()
    if verdict == "audit":
        audit.refuse(session, ctx, Caller(None, source), error, action="auth.failed",
                     object_type="token", object_id=object_id)
    if verdict == "block":
        raise TooManyAuthFailuresError(
            "too many failed authentications from this address; try again later")
    raise error
