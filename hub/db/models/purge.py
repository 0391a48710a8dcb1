"""What the hub purged of a linkage run at the end of its project's life (docs/extracts.md,
"Purge at end of life").

A run's pid-level results (``linkage_clusters``, ``linkage_links``) are what lets whoever
holds the hub tie an extract's people back to node records. At expiry, revocation or the
certified destruction of the extract they are deleted; one :class:`RunPurge` row per run
keeps what was purged, when and why (counts only — no pid, no weight), so a purge is
idempotent and a run view can say its results are gone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, UTCDateTime


class RunPurge(Base):
    __tablename__ = "linkage_purges"

    run_id: Mapped[str] = mapped_column(ForeignKey("linkage_runs.id", ondelete="CASCADE"),
                                        primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("requests.id"), index=True)
    #: ``expired``, ``revoked``, ``closed`` or ``certified``.
    reason: Mapped[str] = mapped_column(String(32))
    purged_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    clusters: Mapped[int] = mapped_column(Integer)
    links: Mapped[int] = mapped_column(Integer)
