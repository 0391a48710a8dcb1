"""Which optional extra of the ``fedlink-vlds`` distribution a command is missing.

A production node installs ``fedlink-vlds[node]``: no Faker, recordlinkage, pandas or Splink
(pyproject.toml). Commands import those lazily, so an absent one shows up as a
``ModuleNotFoundError`` when the command runs; :func:`missing_extra_message` turns it into
the one line :func:`fedlink.cli.main` prints, naming the extra to install (docs/install.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import metadata

#: The distribution the extras belong to (pyproject.toml ``[project] name``).
DISTRIBUTION = "fedlink-vlds"

#: Third-party top-level modules that only an extra installs, and the extras that do.
MODULE_EXTRAS: dict[str, tuple[str, ...]] = {
    "faker": ("synth",),
    "pandas": ("hub", "synth"),
    "recordlinkage": ("hub",),
    "sklearn": ("hub",),
    "scipy": ("hub",),
    "jinja2": ("hub",),
    "multipart": ("hub",),
    "fastapi_offline": ("hub",),
    "python_multipart": ("hub",),
    "psycopg": ("node", "hub"),
    "dask": ("hub",),
    "distributed": ("hub",),
    "splink": ("bench",),
    "duckdb": ("bench",),
}

#: The extras a whole command needs, where that is more than its missing module says.
COMMAND_EXTRAS: dict[str, tuple[str, ...]] = {
    "hub": ("hub",),
    "link": ("hub",),
    "node": ("node",),
    "synth": ("synth",),
    "bench": ("bench",),
    "demo": ("hub", "synth"),
    "attack": ("hub", "synth"),
}


def extras_for(module: str | None, command: str | None) -> tuple[str, ...] | None:
    """The extras to install for a missing ``module`` under ``command``, or None when the
    module is not one an extra provides (a broken install, not a missing extra)."""
    if not module:
        return None
    found = MODULE_EXTRAS.get(module.split(".")[0])
    if found is None:
        return None
    wanted = COMMAND_EXTRAS.get(command or "")
    # Name everything the command needs (demo: hub and synth), not just this module's extra.
    return wanted if wanted and set(found) & set(wanted) else found[:1]


def missing_extra_message(exc: BaseException, args: Sequence[str]) -> str | None:
    """The one-line message for a command that failed on a module an extra installs."""
    if not isinstance(exc, ModuleNotFoundError):
        return None
    command = next((a for a in args if not a.startswith("-")), None)
    extras = extras_for(exc.name, command)
    if extras is None:
        return None
    names = ",".join(extras)
    noun = "extra" if len(extras) == 1 else "extras"
    what = f"fedlink {command}" if command else "this command"
    # The wheel by its file name, never the bare distribution name: `pip install NAME` would
    # ask a package index for a name Fedlink does not own there (docs/install.md).
    wheel = f"{DISTRIBUTION.replace('-', '_')}-{_version()}-py3-none-any.whl"
    return (f"{what} needs the {names} {noun} ({exc.name} is not installed): "
            f"pip install '{wheel}[{names}]' (docs/install.md)")


def _version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "VERSION"
