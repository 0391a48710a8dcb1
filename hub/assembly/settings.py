"""Settings of the assembly role (``fedlink hub assembler``), apart from the hub's.

``dir`` is the assembler's own directory (``assembly.key``, ``assembly-signing.key``);
``hub_dir`` the hub directory whose database, node TLS settings, extract master key and
extract store it shares (never its private ``signing.key`` or ``hpke.key``). Environment
variables ``FEDLINK_ASSEMBLY_*`` override the keyword arguments' defaults. Unsafe values
stop it at start-up: the two directories the same or nested, a key file or directory open
to others (checked when the key is loaded, :mod:`hub.assembly.keys`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.errors import ConfigError


class AssemblySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FEDLINK_ASSEMBLY_", extra="forbid")

    dir: Path
    hub_dir: Path
    #: How often an idle assembler looks for a queued extract (seconds).
    poll_seconds: float = Field(default=1.0, gt=0, le=60)
    #: The lease on an extract job, renewed every third of it while the extract is built;
    #: a killed assembler's build is retried (or failed) this long after it died.
    lease_seconds: int = Field(default=60, ge=3, le=86_400)

    @model_validator(mode="after")
    def _separate(self) -> AssemblySettings:
        a, h = self.dir.resolve(), self.hub_dir.resolve()
        if a == h or a.is_relative_to(h) or h.is_relative_to(a):
            raise ValueError(
                f"the assembly directory {self.dir} must be separate from the hub directory "
                f"{self.hub_dir} (neither inside the other)")
        return self

    @classmethod
    def load(cls, directory: Path, *, hub_dir: Path, **overrides: Any) -> AssemblySettings:
        try:
            return cls(dir=Path(directory), hub_dir=Path(hub_dir), **overrides)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "settings"
            raise ConfigError(f"assembler settings: {where}: {first['msg']}") from None
