"""The app of one ``fedlink hub serve`` worker process when ``workers`` > 1.

uvicorn's supervisor starts each worker as a fresh (spawned) process that imports the app
by name, so the app cannot be handed over as an object: :func:`worker_app` builds it again
from the hub directory and the command-line overrides the parent put in the environment
(:func:`serve_environment`). The parent has already checked the settings, the TLS pair and
the schema, so a worker that fails here fails for the same reason the parent would have.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI

#: Where the parent puts the hub directory and its command-line overrides for the workers.
#: Not ``FEDLINK_HUB_…``: those name settings.
DIR_ENV = "FEDLINK_SERVE_HUB_DIR"
OVERRIDES_ENV = "FEDLINK_SERVE_HUB_OVERRIDES"
#: The import string uvicorn's workers call (``factory=True``).
FACTORY = "hub.api.worker_app:worker_app"


def serve_environment(hub_dir: Path, overrides: dict[str, Any]) -> dict[str, str]:
    """The environment entries :func:`worker_app` reads, for the parent to set."""
    return {DIR_ENV: str(Path(hub_dir).resolve()), OVERRIDES_ENV: json.dumps(overrides)}


def worker_app() -> FastAPI:
    """The hub app of this worker process, with its own engine and connection pool."""
    from hub.api.app import create_app
    from hub.db.engine import engine_for
    from hub.settings import HubSettings

    settings = HubSettings.load(Path(os.environ[DIR_ENV]),
                                **json.loads(os.environ.get(OVERRIDES_ENV, "{}")))
    return create_app(settings, engine=engine_for(settings))
