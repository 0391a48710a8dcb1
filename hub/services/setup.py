"""Setting up a hub directory (``fedlink hub init``) and opening one for offline commands."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import tomlkit

from hub.db.engine import make_engine, make_session_factory
from hub.db.migrate import require_current_schema, upgrade_to_head
from hub.domain.roles import OPERATOR
from hub.errors import ConfigError
from hub.keys import create_hub_keys, load_hub_keys, secure_directory
from hub.services import audit, users
from hub.services.context import HubContext
from hub.settings import CONFIG_FILE, HubSettings


@dataclass(frozen=True)
class InitResult:
    settings: HubSettings
    admin_token: str
    signing_kid: str
    hpke_kid: str


def init_hub(directory: Path, *, database_url: str | None = None,
             admin_name: str = "admin") -> InitResult:
    """Create the directory (0700), ``hub.toml``, both keys (0600), the schema (Alembic) and
    the first admin with a one-time token. Refuses a directory that already holds a hub."""
    directory = Path(directory)
    if (directory / CONFIG_FILE).exists():
        raise ConfigError(f"{directory} already holds a hub ({CONFIG_FILE} exists)")
    secure_directory(directory)
    document = tomlkit.document()
    document.add(tomlkit.comment("Fedlink hub settings; FEDLINK_HUB_* variables override them."))
    if database_url:
        document.add("database_url", database_url)
    document.add("governance_quorum", 2)
    document.add("audit_checkpoint_every", 100)
    document.add("public_contact", "the data governance office")
    document.add(tomlkit.comment("The person who answers the public's questions about data and "
                                 "privacy (docs/web.md):"))
    document.add(tomlkit.comment('public_contact_name = "…"'))
    document.add(tomlkit.comment('public_contact_title = "…"'))
    document.add(tomlkit.comment('public_contact_email = "…"'))
    _policy_settings(document)
    # Tables last: a key written after a table header would belong to the table.
    document.add("quorum_by_classification", {"restricted": 3})
    settings = HubSettings.load(directory, **({"database_url": database_url}
                                              if database_url else {}))
    keys = create_hub_keys(directory)
    (directory / CONFIG_FILE).write_text(tomlkit.dumps(document), encoding="utf-8")
    engine = make_engine(settings.database_url)
    try:
        upgrade_to_head(engine)
        ctx = HubContext(settings=settings, hub_keys=keys, engine=engine,
                         session_factory=make_session_factory(engine))
        with ctx.session_factory() as session:
            audit.record(session, ctx, OPERATOR, action="hub.initialised", object_type="hub",
                         detail={"signing_kid": keys.signing_kid, "hpke_kid": keys.hpke_kid})
            session.commit()
            _, issued = users.create_user(session, ctx, OPERATOR, name=admin_name, role="admin")
    finally:
        engine.dispose()
    database_file = directory / "hub.db"
    if settings.database_url == f"sqlite:///{database_file}" and database_file.exists():
        database_file.chmod(0o600)
    assert issued is not None
    return InitResult(settings=settings, admin_token=issued.token,
                      signing_kid=keys.signing_kid, hpke_kid=keys.hpke_kid)


def _policy_settings(document: tomlkit.TOMLDocument) -> None:
    """The governance policy, safe-people and refresh settings, each with what it does, so
    an operator sees them in the hub.toml ``init`` writes (deploy/config/hub.toml.example
    says the same)."""
    def comment(*lines: str) -> None:
        for line in lines:
            document.add(tomlkit.comment(line))

    comment("Governance policy (docs/hub.md, \"IRB approval is a rule\"): a governance "
            "member's approval",
            "is refused (409 irb_not_approved) until the agreement's irb.status is approved "
            "or exempt;", "false only where no ethics board reviews research requests.")
    document.add("require_irb_approval", True)
    comment("The review checklist (docs/governance-policy.md): every approval answers every "
            "criterion", "as met, with a note (422 criteria_incomplete otherwise). The "
            "default is public_benefit,", "minimum_necessary, irb, security_plan, "
            "disclosure_risk; replace it with your governance body's own:",
            "review_criteria = [",
            '  { id = "public_benefit", text = "The research serves a public benefit the '
            'agencies recognise" },',
            '  { id = "minimum_necessary", text = "Only the data the research questions '
            'need is asked" },', "]",
            "Rules per requester type (the agreement's requester_type): extra governance "
            "approvals,", "record-level extract downloads allowed, requester must belong "
            "to an agency asked:",
            "requester_rules = { vendor = { extra_quorum = 1, record_level_extract = false, "
            "agency_member = false } }")
    comment("Safe people (docs/hub.md, \"Training\"): downloads and output submissions "
            "need a current", "completion of every training named here "
            "(`fedlink user training record`).")
    document.add("required_training", ["data-privacy"])
    document.add("require_training", True)
    comment("The sweep (expiry, extract destruction, scheduled refresh runs) every this many "
            "seconds", "in the hub process; 0 = run `fedlink hub sweep` from a timer instead.")
    document.add("extract_sweep_seconds", 300)
    comment("Scheduled refreshes (docs/refresh.md): a ready project whose agreement says "
            "annual,", "semiannual, quarterly or monthly is linked again that long after "
            "its last succeeded run;", "after a failed run the next try waits this many "
            "hours.")
    document.add("refresh_retry_hours", 24)
    comment("Linkage at scale (docs/scaling.md): auto links a run of at most "
            "linkage_memory_max_records", "records in memory, a larger one with the "
            "partitioned engine. Its tasks run on linkage_scheduler:",
            "local (a Dask cluster of linkage_workers processes here, 0 = one per CPU), "
            "serial, or", "a Dask scheduler, tcp://host:8786, whose workers all mount "
            "linkage_workdir", "(empty = DIR/linkage-work).")
    document.add("linkage_engine", "auto")
    document.add("linkage_scheduler", "local")
    document.add("linkage_workers", 0)
    comment('linkage_workdir = "/var/lib/fedlink/linkage-work"')


@contextmanager
def open_hub(directory: Path, *, with_keys: bool = True) -> Iterator[HubContext]:
    """A context on an initialised hub directory (schema checked), for offline commands.
    ``with_keys=False`` (the assembler) never reads the hub's private key files."""
    settings = HubSettings.load(Path(directory))
    if not (settings.dir / CONFIG_FILE).exists():
        raise ConfigError(f"{settings.dir} is not a hub directory; run `fedlink hub init`")
    keys = load_hub_keys(settings.dir) if with_keys else None
    engine = make_engine(settings.database_url)
    try:
        require_current_schema(engine)
        yield HubContext(settings=settings, hub_keys=keys, engine=engine,
                         session_factory=make_session_factory(engine))
    finally:
        engine.dispose()
