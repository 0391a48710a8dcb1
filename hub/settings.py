"""The hub's settings: ``DIR/hub.toml`` overlaid by ``FEDLINK_HUB_*`` environment variables.

Precedence, highest first: explicit keyword arguments (tests, CLI flags), the environment
(``FEDLINK_HUB_DATABASE_URL``, ``FEDLINK_HUB_GOVERNANCE_QUORUM``, …), then ``hub.toml`` in
the hub directory. Unsafe or inconsistent values fail at load time, not at the first
request: a quorum below one, a stricter-per-classification quorum that is actually looser,
a classification level protected less than the level below it (docs/classification.md),
a database URL of an unsupported kind, non-positive token lifetimes, a session cookie
without ``Secure`` on a non-loopback host, a public contact person without an address.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from hub.domain.approval import MIN_QUORUM
from hub.domain.classification import ClassificationRules
from hub.domain.policy import (
    DEFAULT_CRITERIA,
    RequesterRule,
    RequesterRules,
    ReviewCriterion,
)
from hub.errors import ConfigError

CONFIG_FILE: Final = "hub.toml"
DATABASE_FILE: Final = "hub.db"
#: The assembly role's private key file (hub.assembly.keys); never in the hub directory.
ASSEMBLY_KEY_FILE: Final = "assembly.key"
#: The assembly role's signing key file (extract requests); never in the hub directory.
ASSEMBLY_SIGNING_KEY_FILE: Final = "assembly-signing.key"
CLASSIFICATIONS: Final = ("public", "internal", "confidential", "restricted")
_SUPPORTED_SCHEMES: Final = ("sqlite", "postgresql")
_LOOPBACK_HOSTS: Final = ("127.0.0.1", "::1", "localhost")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_SCHEDULER: Final = re.compile(r"(?:tcp|tls)://(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(\d{1,5})")


#: No request is decided by one person (issue 16): the smallest governance quorum.
MIN_GOVERNANCE_QUORUM: Final = MIN_QUORUM
class HubSettings(BaseSettings):
    """Everything the hub process needs to know; build with :meth:`load`."""

    model_config = SettingsConfigDict(env_prefix="FEDLINK_HUB_", extra="forbid")

    dir: Path
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8100, ge=1, le=65535)
    #: TLS of the hub's listener (certificate and key files, e.g. from `fedlink pki issue`).
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    #: CA bundle the hub trusts when it connects to nodes ('' = the system trust store).
    ca_file: str = ""
    #: Allows plain http: serving on a non-loopback address without TLS, and talking to an
    #: ``http://`` node. For a demo or tests on one machine, never a deployment.
    allow_insecure_http: bool = False
    #: Distinct governance members (never the requester) whose approval a request needs;
    #: at least :data:`MIN_GOVERNANCE_QUORUM` (docs/governance-policy.md).
    governance_quorum: int = Field(default=2, le=50)
    #: Protection by classification (docs/classification.md): per level min_k, l_diversity,
    #: t_closeness, record_level_download and quorum; a level is never looser than the one
    #: below it.
    classification_rules: ClassificationRules = Field(default_factory=ClassificationRules)
    #: Stricter quorums when a request includes a variable of that classification. The
    #: older spelling of ``classification_rules.<level>.quorum``: given, it is folded in;
    #: after loading it always holds the effective quorum of each level that has one.
    quorum_by_classification: dict[str, int] = Field(default_factory=dict)
    #: Governance policy (docs/hub.md, "IRB approval is a rule"): a governance member's
    #: approval is refused (409 ``irb_not_approved``) while the agreement's ``irb.status``
    #: is not ``approved`` or ``exempt``. Off only where no ethics board reviews requests.
    require_irb_approval: bool = True
    #: The governance body's review checklist (docs/governance-policy.md): every approval
    #: answers every criterion as met (422 ``criteria_incomplete`` otherwise).
    review_criteria: list[ReviewCriterion] = Field(
        default_factory=lambda: [ReviewCriterion(id=i, text=t) for i, t in DEFAULT_CRITERIA],
        min_length=1, max_length=50)
    #: Rules per requester type (the agreement's ``requester_type``).
    requester_rules: RequesterRules = Field(default_factory=lambda: RequesterRules())
    user_token_ttl_days: int = Field(default=90, ge=1, le=3650)
    node_token_ttl_days: int = Field(default=365, ge=1, le=3650)
    enrollment_token_ttl_hours: int = Field(default=72, ge=1, le=24 * 90)
    #: How long a one-time account invitation code can be redeemed (docs/hub.md).
    invitation_ttl_hours: int = Field(default=72, ge=1, le=24 * 30)
    #: A signed checkpoint of the audit chain every this many events.
    audit_checkpoint_every: int = Field(default=100, ge=1, le=1_000_000)
    #: Lifetime of signed messages the hub accepts (seconds).
    max_message_ttl: int = Field(default=3600, ge=60, le=86_400)
    #: Shown on the public transparency page instead of any researcher's name.
    public_contact: str = "the data governance office"
    #: The *person* who answers the public's questions about data and privacy (DQC: a named
    #: staff member, not a generic address); shown on the public pages when set.
    public_contact_name: str = Field(default="", max_length=200)
    public_contact_title: str = Field(default="", max_length=200)
    public_contact_email: str = Field(default="", max_length=320)
    hub_name: str = "Fedlink hub"
    #: Web pages (docs/web.md): the session cookie is ``Secure`` unless this is false, which
    #: is allowed only when the hub listens on loopback or allows insecure http (a demo).
    web_cookie_secure: bool = True
    #: A web session ends this long after sign-in, or after this long without a request.
    web_session_hours: int = Field(default=8, ge=1, le=24)
    web_session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    #: Linkage runs (docs/linkage-runs.md). A worker thread inside this process claims queued
    #: runs; false when dedicated `fedlink hub worker` processes do it instead.
    run_worker: bool = True
    #: Claims of one run (restarts after a crash) before it ends failed.
    run_max_attempts: int = Field(default=3, ge=1, le=20)
    #: A worker renews its lease on a run every third of this; the run of a worker that
    #: died is taken up again once its lease has run out.
    run_lease_seconds: int = Field(default=60, ge=5, le=3600)
    #: Retries of a node's match request after a connection error, a timeout or a 5xx
    #: (never after a 4xx refusal), waiting node_retry_backoff_seconds, then twice that, …
    node_retries: int = Field(default=3, ge=0, le=10)
    node_retry_backoff_seconds: float = Field(default=1.0, ge=0, le=60)
    #: Linked extracts (docs/extracts.md): encrypted bundles live here ('' = DIR/extracts).
    extracts_dir: str = ""
    #: The extract sweeper (expiry, revocation, destruction, and scheduled refresh runs)
    #: runs this often inside the hub process; 0 = never in-process (run `fedlink hub sweep`
    #: from a timer instead).
    extract_sweep_seconds: int = Field(default=300, ge=0, le=86_400)
    #: Scheduled refreshes (docs/refresh.md): after a failed linkage run, the sweep starts
    #: the next scheduled one no sooner than this many hours later.
    refresh_retry_hours: int = Field(default=24, ge=1, le=24 * 31)
    #: Safe people (docs/hub.md, "Training"): an extract download or an output submission is
    #: refused (403 ``training_required``) unless the caller holds a current completion,
    #: recorded by governance staff, of every training named here.
    required_training: list[str] = Field(default_factory=lambda: ["data-privacy"])
    require_training: bool = True
    #: The hub signs a transparency-log checkpoint and pushes it to every enrolled node (the
    #: witnesses) this often, when the audit log grew; 0 = only on `POST /v1/audit/tlog/
    #: checkpoints` (docs/hub.md, "Transparency log").
    witness_push_seconds: int = Field(default=30, ge=0, le=86_400)
    #: Disclosure control: the default k on declared quasi-identifiers (a project may set its
    #: own in its agreement) and the smallest count an aggregate output may show.
    disclosure_k: int = Field(default=5, ge=2, le=100)
    disclosure_min_cell: int = Field(default=10, ge=2, le=1000)
    #: Automatic safe outputs (docs/safe-outputs.md): with ``disclosure_min_cell``, the
    #: hub-wide floors of a project's ``outputs`` policy, which an agreement may only
    #: tighten. Counts are rounded to a multiple of ``safe_output_rounding_base`` (1: not
    #: rounded; a project's base must be a multiple of it); ``safe_output_suppress_zeros``
    #: suppresses zero counts in every project. ``safe_output_max_cells``: the largest
    #: table (cells, margins included) the hub protects.
    safe_output_rounding_base: int = Field(default=1, ge=1, le=1000)
    safe_output_suppress_zeros: bool = False
    safe_output_max_cells: int = Field(default=10_000, ge=4, le=1_000_000)
    #: Largest request body any route accepts (413 ``payload_too_large`` above it, counted
    #: as the bytes arrive; docs/operations.md).
    max_request_bytes: int = Field(default=16 << 20, ge=1024, le=1 << 30)
    #: ``/metrics``: the SHA-256 (hex) of the bearer token a scraper must present; empty =
    #: metrics answer only callers on the loopback interface (docs/operations.md).
    metrics_token_sha256: str = Field(default="", pattern=r"^([0-9a-f]{64})?$")
    #: Authentication failures (bad or unknown tokens): at most this many are audited one
    #: by one per source and window; the rest are counted into one summary event and, past
    #: ``auth_failure_block_after``, refused with 429 until the window ends.
    auth_failure_window_seconds: int = Field(default=300, ge=10, le=86_400)
    auth_failure_audit_per_window: int = Field(default=5, ge=1, le=1000)
    auth_failure_block_after: int = Field(default=50, ge=1, le=100_000)
    #: Database connections (docs/operations.md, "Sizing"): pooled connections kept open,
    #: extra ones opened under load, and how long a request waits for one before it is
    #: answered 503 with Retry-After. The pool itself covers ``max_concurrent_requests``
    #: plus the background threads (worker, sweeper, witness pusher): a connection past
    #: the pool is closed when it is given back, so a pool smaller than the steady load
    #: opens a new PostgreSQL connection (a server process) per request (issue 20).
    db_pool_size: int = Field(default=20, ge=1, le=500)
    db_max_overflow: int = Field(default=8, ge=0, le=1000)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    #: Threads that run the (synchronous) request handlers in one hub process.
    request_threads: int = Field(default=40, ge=1, le=1000)
    #: Requests let into the hub at once (hub.api.admission); the others wait up to
    #: request_queue_seconds, then get 503 ``overloaded`` with Retry-After. At most
    #: request_threads and at most db_pool_size + db_max_overflow (checked).
    max_concurrent_requests: int = Field(default=16, ge=1, le=1000)
    request_queue_seconds: float = Field(default=10.0, gt=0, le=300)
    #: ``hub serve`` processes serving the one address (docs/operations.md, "How to
    #: size"): one Python process runs on one core at a time, so a PostgreSQL hub on a
    #: machine with more cores serves more with more processes. Every limit above is per
    #: process. SQLite keeps one process (its single writer is the bottleneck anyway).
    workers: int = Field(default=1, ge=1, le=64)
    #: Seconds each process keeps an answer of the anonymous public list
    #: (``/v1/public/projects``; hub.services.public_cache): a write this process answers
    #: empties it at once, other processes' changes show within this time. 0 = no cache.
    public_cache_seconds: float = Field(default=1.0, ge=0, le=60)
    #: Incident notifications (docs/incident-response.md): e-mail through this SMTP server
    #: (empty host: no e-mail) and a POST of the incident to ``incident_webhook_url`` (empty:
    #: none). The public page lists notifiable incidents of at least
    #: ``incident_public_min_severity`` once contained ("none": never).
    smtp_host: str = Field(default="", max_length=253)
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_sender: str = Field(default="fedlink-hub@localhost", max_length=320)
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    incident_webhook_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    incident_public_min_severity: Literal["low", "medium", "high", "critical", "none"] = "high"
    #: Linkage at scale (docs/scaling.md): auto partitions a run over memory_max_records.
    linkage_engine: Literal["auto", "memory", "partitioned"] = "auto"
    linkage_memory_max_records: int = Field(default=3_000_000, ge=1)
    #: A run's partition files ('' = DIR/linkage-work); on a cluster, shared, outside DIR.
    linkage_workdir: str = ""
    #: Where its tasks run: a Dask ``local`` cluster, ``serial``, or ``tcp://host:8786``/tls.
    linkage_scheduler: str = "local"
    #: A local cluster's processes (0 = one per CPU); the GiB one task may hold (it sizes
    #: the slices); hash partitions of a run's tokens (0 = chosen from the run's size).
    linkage_workers: int = Field(default=0, ge=0, le=256)
    linkage_worker_memory_gb: float = Field(default=6.0, gt=0, le=1024)
    linkage_partitions: int = Field(default=0, ge=0, le=65_536)

    @model_validator(mode="after")
    def _admission_fits(self) -> HubSettings:
        if self.max_concurrent_requests > min(self.request_threads,
                                              self.db_pool_size + self.db_max_overflow):
            raise ValueError(
                f"max_concurrent_requests ({self.max_concurrent_requests}) must be at most "
                f"request_threads ({self.request_threads}) and db_pool_size + "
                f"db_max_overflow ({self.db_pool_size + self.db_max_overflow}): a request "
                "let in must never wait for a thread or a connection")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        directory = getattr(init_settings, "init_kwargs", {}).get("dir")
        if directory is not None and (Path(directory) / CONFIG_FILE).is_file():
            sources.append(
                TomlConfigSettingsSource(settings_cls, toml_file=Path(directory) / CONFIG_FILE)
            )
        return tuple(sources)

    @model_validator(mode="before")
    @classmethod
    def _no_assembly_key(cls, data: Any) -> Any:
        # Separation of duties (docs/extracts.md): the process that holds encodings during
        # linkage must have no path to the key that opens extract payloads.
        if isinstance(data, dict):
            named = sorted(k for k in data if str(k).startswith("assembly"))
            if named:
                raise ValueError(
                    f"{', '.join(named)}: the hub (linkage role) settings may not name the "
                    "assembly key; only `fedlink hub assembler` is given its directory")
            directory = data.get("dir")
            for name in (ASSEMBLY_KEY_FILE, ASSEMBLY_SIGNING_KEY_FILE):
                if directory is not None and (Path(directory) / name).exists():
                    raise ValueError(
                        f"{Path(directory) / name} is in the hub directory: the linkage role "
                        "must never hold the assembly keys; move it to the assembler's own "
                        "directory")
        return data

    @field_validator("linkage_scheduler")
    @classmethod
    def _scheduler_address(cls, value: str, info: ValidationInfo) -> str:
        value, found = value.strip(), _SCHEDULER.fullmatch(value.strip())
        if value not in ("local", "serial") and not (found and 0 < int(found[1]) < 65536):
            raise ValueError(f"{value!r} is not local, serial or a Dask scheduler address "
                             "(tcp://host:port or tls://host:port)")
        home = Path(info.data.get("dir", ".")).resolve()  # workers mounting it get the keys
        if found and Path(info.data.get("linkage_workdir") or home).resolve().is_relative_to(home):
            raise ValueError("a Dask scheduler's workers need linkage_workdir, on storage "
                             "they all mount at that path, outside the hub directory")
        return value

    @field_validator("governance_quorum")
    @classmethod
    def _quorum_of_two(cls, value: int) -> int:
        if value < MIN_GOVERNANCE_QUORUM:
            raise ValueError(
                f"governance_quorum is {value}: it must be at least {MIN_GOVERNANCE_QUORUM} "
                "(no request is decided by one governance member)")
        return value

    @field_validator("review_criteria")
    @classmethod
    def _distinct_criteria(cls, value: list[ReviewCriterion]) -> list[ReviewCriterion]:
        ids = [criterion.id for criterion in value]
        if len(set(ids)) != len(ids):
            raise ValueError("review_criteria repeats a criterion id")
        return value

    @field_validator("quorum_by_classification")
    @classmethod
    def _known_classifications(cls, value: dict[str, int]) -> dict[str, int]:
        unknown = sorted(set(value) - set(CLASSIFICATIONS))
        if unknown:
            raise ValueError(f"unknown classification(s): {', '.join(unknown)}")
        return value

    @field_validator("required_training")
    @classmethod
    def _training_names(cls, value: list[str]) -> list[str]:
        names = [name.strip() for name in value]
        if any(not name or len(name) > 100 for name in names):
            raise ValueError("each required training is named with 1 to 100 characters")
        return names

    @model_validator(mode="after")
    def _consistent(self) -> HubSettings:
        for classification, quorum in self.quorum_by_classification.items():
            if quorum < self.governance_quorum:
                raise ValueError(
                    f"quorum_by_classification.{classification} ({quorum}) is looser than "
                    f"governance_quorum ({self.governance_quorum}); it may only be stricter"
                )
        self.classification_rules = self.classification_rules.with_quorums(
            self.quorum_by_classification)
        self.classification_rules.check_order(self.governance_quorum)
        self.quorum_by_classification = {
            level: self.classification_rules.rule(level).quorum for level in CLASSIFICATIONS
            if self.classification_rules.rule(level).quorum}
        if (not self.web_cookie_secure and self.host not in _LOOPBACK_HOSTS
                and not self.allow_insecure_http):
            raise ValueError(
                f"web_cookie_secure = false sends the session cookie over plain http; it is "
                f"allowed only on a loopback host (not {self.host!r}) or with "
                f"allow_insecure_http for a demo"
            )
        if bool(self.public_contact_name) != bool(self.public_contact_email):
            raise ValueError("public_contact_name and public_contact_email go together: "
                             "the public needs a person and a way to reach them")
        if self.public_contact_email and not _EMAIL.fullmatch(self.public_contact_email):
            raise ValueError("public_contact_email is not an email address")
        if not self.database_url:
            self.database_url = f"sqlite:///{self.dir / DATABASE_FILE}"
        scheme = self.database_url.split(":", 1)[0].split("+", 1)[0]
        if scheme not in _SUPPORTED_SCHEMES:
            raise ValueError(
                f"database_url must be a sqlite:// or postgresql:// URL, not {scheme!r}"
            )
        if self.workers > 1 and scheme != "postgresql":
            raise ValueError(
                f"workers = {self.workers} needs PostgreSQL: a SQLite hub runs one process "
                "(set database_url to a postgresql:// URL, or workers = 1)")
        return self

    @model_validator(mode="after")
    def _tls_pair(self) -> HubSettings:
        if bool(self.ssl_certfile) != bool(self.ssl_keyfile):
            raise ValueError("ssl_certfile and ssl_keyfile go together: give both or neither")
        return self

    def require_transport(self) -> None:
        """What ``serve`` checks before listening: the TLS files exist and the key is
        private; no plain http on a non-loopback address unless ``allow_insecure_http``."""
        for name in ("ssl_certfile", "ssl_keyfile", "ca_file"):
            value = getattr(self, name)
            if value and not Path(value).is_file():
                raise ConfigError(f"hub settings: {name}: {value} does not exist")
        if self.ssl_keyfile and Path(self.ssl_keyfile).stat().st_mode & 0o077:
            raise ConfigError(f"hub settings: ssl_keyfile: {self.ssl_keyfile} is readable by "
                              f"others; run `chmod 600 {self.ssl_keyfile}`")
        if (not self.ssl_certfile and self.host not in _LOOPBACK_HOSTS
                and not self.allow_insecure_http):
            raise ConfigError(
                f"hub settings: the hub would serve plain http on {self.host}; give "
                "ssl_certfile and ssl_keyfile (`fedlink pki issue`), or listen on 127.0.0.1 "
                "behind a TLS proxy (allow_insecure_http = true only for a demo)"
            )

    @classmethod
    def load(cls, directory: Path, **overrides: Any) -> HubSettings:
        """Settings of the hub in ``directory``; :class:`ConfigError` when they are unsafe."""
        try:
            return cls(dir=Path(directory), **overrides)
        except tomllib.TOMLDecodeError as exc:
            # A syntax error is a configuration error (exit 2, no restart loop), not a crash.
            raise ConfigError(
                f"{Path(directory) / CONFIG_FILE} is not valid TOML: {exc}") from None
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "settings"
            raise ConfigError(f"hub settings: {where}: {first['msg']}") from None

    def quorum_for(self, classifications: set[str]) -> int:
        """The governance quorum for a request touching variables of ``classifications``."""
        return max(
            [self.governance_quorum]
            + [self.quorum_by_classification.get(c, 0) for c in classifications]
        )

    def requester_rule(self, requester_type: str) -> RequesterRule:
        """The rule of a requester type (``researcher``, ``agency_staff``, ``vendor``)."""
        rule: RequesterRule = getattr(self.requester_rules, requester_type)
        return rule
