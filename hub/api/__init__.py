"""The hub's HTTP API (FastAPI): :func:`hub.api.app.create_app`."""
