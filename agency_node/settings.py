"""Runtime settings of a node: ``node.toml`` overlaid by ``FEDLINK_NODE_*`` environment
variables (``FEDLINK_NODE_DATABASE_URL``, ``FEDLINK_NODE_HOST``, ``FEDLINK_NODE_PORT``,
``FEDLINK_NODE_MAX_MATCH_REQUEST_BYTES``, ``FEDLINK_NODE_MAX_EXTRACT_REQUEST_BYTES``,
``FEDLINK_NODE_HUB_URL``, ``FEDLINK_NODE_LOG_LEVEL``, ``FEDLINK_NODE_SSL_CERTFILE``,
``FEDLINK_NODE_SSL_KEYFILE``, ``FEDLINK_NODE_HUB_CA_FILE``,
``FEDLINK_NODE_ALLOW_INSECURE_HTTP``).

:meth:`NodeSettings.load` fails fast with one :class:`~agency_node.errors.ConfigError`
sentence on anything missing or unsafe: no ``node.toml``, key files missing or readable by
others, a node directory others can write to, half a TLS pair.
:meth:`NodeSettings.require_serving` adds what ``serve`` needs: the federation secret and an
enrolled hub; :meth:`NodeSettings.require_transport` the TLS files and no plain http off
loopback.
"""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from agency_node import keys
from agency_node.config import NodeConfig, read_config
from agency_node.errors import ConfigError, NotEnrolledError
from protocol.signing import describe_validation_error

#: Settings that name files; relative values are relative to the node directory.
_PATHS = ("ssl_certfile", "ssl_keyfile", "hub_ca_file")
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class NodeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FEDLINK_NODE_", extra="ignore")

    dir: Path = Path()
    agency: str = ""
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8101, ge=0, le=65535)
    max_match_request_bytes: int = Field(default=1 << 20, ge=1024)
    max_extract_request_bytes: int = Field(default=64 << 20, ge=1024)
    hub_url: str = ""
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    ssl_certfile: str = ""
    ssl_keyfile: str = ""
    hub_ca_file: str = ""
    allow_insecure_http: bool = False
    #: ``/metrics``: SHA-256 (hex) of the scraper's bearer token (environment only); empty =
    #: metrics answer loopback callers only (docs/operations.md).
    metrics_token_sha256: str = Field(default="", pattern=r"^([0-9a-f]{64})?$")
    #: The purge sweep (issued pids of ended projects) runs at start and then this often
    #: (environment only; docs/agency-node.md, "Purge at end of life").
    purge_sweep_seconds: int = Field(default=3600, ge=60, le=86_400)
    #: Roster updates and revocations are pulled from the hub at start and then this often
    #: (environment only; docs/agency-node.md, "Governance at the node").
    governance_poll_seconds: int = Field(default=300, ge=5, le=86_400)
    #: Refuse every match and extract request while no governance roster is pinned (fail
    #: closed, ``no_roster``). ``FEDLINK_NODE_GOVERNANCE_REQUIRED=false`` is an explicit,
    #: unsafe opt-out: the node then enforces its steward's approval alone and trusts the
    #: hub's word on governance (docs/agency-node.md, "Governance at the node").
    governance_required: bool = True
    config: NodeConfig | None = Field(default=None, exclude=True)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides node.toml (passed as init values), for containers.
        return (env_settings, init_settings)

    @classmethod
    def load(cls, node_dir: Path) -> NodeSettings:
        """Settings of the node in ``node_dir``; ConfigError when anything is unsafe."""
        node_dir = Path(node_dir).expanduser().resolve()
        config = read_config(node_dir)
        _check_dir(node_dir)
        for name in keys.PRIVATE_FILES:
            path = node_dir / name
            if name in (keys.SIGNING_KEY, keys.PSEUDONYM_KEY) and not path.exists():
                raise ConfigError(f"{path} is missing (was the node initialised here?)")
            if path.exists():
                keys.check_private(path)
        values: dict[str, Any] = {
            "agency": config.node.agency,
            "database_url": config.store.url or f"sqlite:///{node_dir / 'node.sqlite3'}",
            "host": config.server.host,
            "port": config.server.port,
            "max_match_request_bytes": config.server.max_match_request_bytes,
            "max_extract_request_bytes": config.server.max_extract_request_bytes,
            "hub_url": config.hub.url,
            "ssl_certfile": config.server.ssl_certfile,
            "ssl_keyfile": config.server.ssl_keyfile,
            "hub_ca_file": config.hub.ca_file,
            "allow_insecure_http": config.server.allow_insecure_http,
        }
        try:
            settings = cls(**values)
        except ValidationError as exc:
            raise ConfigError(f"setting {describe_validation_error(exc)}") from None
        files = {name: str(node_dir / value) for name in _PATHS
                 if (value := getattr(settings, name)) and not Path(value).is_absolute()}
        if bool(settings.ssl_certfile) != bool(settings.ssl_keyfile):
            raise ConfigError("ssl_certfile and ssl_keyfile go together: give both or neither")
        return settings.model_copy(update={"dir": node_dir, "config": config, **files})

    @property
    def node(self) -> NodeConfig:
        if self.config is None:
            raise ConfigError("settings were not loaded from a node directory")
        return self.config

    def require_serving(self) -> None:
        """What ``serve`` needs beyond the basics: a secret and an enrolled hub."""
        keys.load_federation_secret(self.dir)
        if not (self.node.hub.signing_kid and self.node.hub.hpke_kid):
            raise NotEnrolledError("this node is not enrolled (run `fedlink node enroll`)")
        keys.load_hub_signing_key(self.dir)
        keys.load_hub_hpke_key(self.dir)
        keys.load_hub_token(self.dir)


    def require_transport(self) -> None:
        """What ``serve`` checks before listening: the TLS files exist and the key is
        private; no plain http on a non-loopback address unless ``allow_insecure_http``."""
        for name in _PATHS:
            value = getattr(self, name)
            if value and not Path(value).is_file():
                raise ConfigError(f"setting {name}: {value} does not exist")
        if self.ssl_keyfile and Path(self.ssl_keyfile).stat().st_mode & 0o077:
            raise ConfigError(f"{self.ssl_keyfile} is readable by others; run "
                              f"`chmod 600 {self.ssl_keyfile}`")
        if (not self.ssl_certfile and self.host not in LOOPBACK_HOSTS
                and not self.allow_insecure_http):
            raise ConfigError(
                f"the node would serve plain http on {self.host}; set [server] ssl_certfile "
                "and ssl_keyfile (`fedlink pki issue`), or listen on 127.0.0.1 behind a TLS "
                "proxy (allow_insecure_http = true only for a demo)"
            )


def _check_dir(node_dir: Path) -> None:
    mode = stat.S_IMODE(node_dir.stat().st_mode)
    if mode & 0o022:
        raise ConfigError(
            f"{node_dir} can be written by others (mode {mode:o}); run `chmod 700 {node_dir}`"
        )
