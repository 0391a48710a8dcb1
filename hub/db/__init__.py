"""The hub database: engine and session factory (:mod:`hub.db.engine`), ORM models by area
(:mod:`hub.db.models`) and Alembic migrations (``hub/db/migrations``, run by
:mod:`hub.db.migrate`)."""
