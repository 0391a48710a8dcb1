"""The hub's linkage engine.

:func:`link` takes one Arrow token table per agency (``protocol.encoding.token_batch_schema``)
and returns a :class:`LinkageResult`: clusters (every row exactly once), the links they are
built from, the fitted Fellegi–Sunter model and a quality report. The pipeline — candidate
pairs from token joins with capped blocks, comparison vectors, EM, threshold, one-to-one,
clusters — is described in ``docs/linkage.md``. :func:`render_html` turns the report into a
self-contained page; :mod:`hub.linkage.evaluate` scores a run against a truth column.
"""

from hub.linkage.config import LinkageConfig, LinkageError, ProgressCallback
from hub.linkage.em import FSModel
from hub.linkage.engine import CLUSTERS_SCHEMA, LINKS_SCHEMA, LinkageResult, link
from hub.linkage.report_html import render_html

__all__ = [
    "CLUSTERS_SCHEMA",
    "LINKS_SCHEMA",
    "FSModel",
    "LinkageConfig",
    "LinkageError",
    "LinkageResult",
    "ProgressCallback",
    "link",
    "render_html",
]
