"""The client tests reuse the hub tests' fixtures (a migrated database, an in-process hub
with K12 and HE enrolled, the extract federation) instead of a harness of their own."""

from tests.hub.conftest import (  # noqa: F401 - fixtures, reused
    _pg_schema,
    _sqlite_template,
    hub,
    hub_engine,
    make_hub,
    module_hub,
)
from tests.hub.extracts.conftest import federation  # noqa: F401 - the two-node federation
