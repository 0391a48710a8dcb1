"""Structured logs of ``fedlink hub serve`` / ``fedlink node serve``: one JSON object per line
on stderr, for uvicorn's loggers and the services' own.

Every line has ``ts`` (UTC, ISO 8601, milliseconds), ``level``, ``logger`` and ``msg``; the
access line each service writes per request adds ``request_id``, ``method``, ``route`` (the
route *template*, e.g. ``/v1/requests/{request_id}``, never the raw path or query string),
``status`` and ``duration_ms``. Lines logged while a request is handled carry its
``request_id`` too (the service's filter, see :func:`log_config`).

What never goes in: request or response bodies, headers other than the request id, query
strings — so no identity value can reach a log line through the access log. An exception
is logged as its type and the code locations of its traceback, not its message (messages
can quote input).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import traceback
from typing import Any, Final

#: Extra attributes of a log record that are copied into the JSON line.
FIELDS: Final = ("request_id", "method", "route", "status", "duration_ms", "service")


class JsonFormatter(logging.Formatter):
    """One JSON object per record."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = record.exc_info[0].__name__
            line["exc_at"] = [
                f"{frame.filename}:{frame.lineno} in {frame.name}"
                for frame in traceback.extract_tb(record.exc_info[2])[-5:]
            ]
        return json.dumps(line, ensure_ascii=False, default=str)


def log_config(level: str = "info", *, request_filter: str | None = None) -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` for uvicorn's ``log_config``: JSON on stderr for
    uvicorn, the hub, the node and the root logger. ``request_filter`` is the import path of
    the service's filter that stamps the current request id on every record."""
    handler: dict[str, Any] = {
        "class": "logging.StreamHandler",
        "formatter": "json",
        "stream": "ext://sys.stderr",
    }
    filters: dict[str, Any] = {}
    if request_filter:
        filters["request"] = {"()": request_filter}
        handler["filters"] = ["request"]
    upper = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "filters": filters,
        "handlers": {"json": handler},
        "loggers": {
            "uvicorn": {"handlers": ["json"], "level": upper, "propagate": False},
            "uvicorn.error": {"level": upper},
            # Replaced by the services' own access line (route templates, request ids).
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["json"], "level": upper},
    }
