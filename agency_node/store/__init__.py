"""The node store: SQLAlchemy models (``models``), engine set-up (``db``) and persistence
functions with keyword-only arguments (``records``, ``ingest_runs``, ``approvals``,
``nonces``, ``audit``)."""
