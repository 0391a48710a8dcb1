"""Separation of duties (docs/extracts.md): the linkage role (hub API, linkage workers)
can never load the assembly key, and the assembly role never loads token tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub.assembly.context import assembly_context
from hub.assembly.keys import create_assembly_key, load_assembly_key
from hub.assembly.settings import AssemblySettings
from hub.errors import ConfigError
from hub.keys import ASSEMBLY_PUBLIC_FILE, create_hub_keys
from hub.settings import ASSEMBLY_KEY_FILE, HubSettings

#: What holds or produces encodings during linkage: never imported by the assembly role.
LINKAGE_MODULES = ("hub.linkage", "hub.services.node_fetch", "hub.services.run_worker",
                   "hub.services.run_state", "protocol.tokens", "protocol.bloom",
                   "protocol.encoding", "hub.api")
#: The linkage role's entry points: they never import the assembly key's code.
LINKAGE_ENTRY_POINTS = ("hub.api.app", "hub.services.run_worker", "fedlink.commands.run")


def _loaded_after_import(modules: tuple[str, ...], prefixes: tuple[str, ...]) -> list[str]:
    code = (f"import sys\nfor m in {modules!r}: __import__(m)\n"
            f"print('\\n'.join(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=Path(__file__).resolve().parents[3])
    return done.stdout.split()


def test_the_assembly_role_never_imports_token_tables_or_the_linkage_engine() -> None:
    assembly = ("hub.assembly.worker", "hub.assembly.build", "hub.assembly.context")
    assert _loaded_after_import(assembly, LINKAGE_MODULES) == []


def test_the_linkage_role_never_imports_the_assembly_key_code() -> None:
    assert _loaded_after_import(LINKAGE_ENTRY_POINTS, ("hub.assembly",)) == []


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    hub_dir, assembly_dir = tmp_path / "hub", tmp_path / "assembly"
    create_hub_keys(hub_dir)
    create_assembly_key(assembly_dir, hub_dir=hub_dir)
    return hub_dir, assembly_dir


def test_assembly_key_is_owner_only_in_its_own_directory(dirs: tuple[Path, Path]) -> None:
    hub_dir, assembly_dir = dirs
    assert (assembly_dir / ASSEMBLY_KEY_FILE).stat().st_mode & 0o777 == 0o600
    assert assembly_dir.stat().st_mode & 0o777 == 0o700
    assert not (hub_dir / ASSEMBLY_KEY_FILE).exists()
    assert (hub_dir / ASSEMBLY_PUBLIC_FILE).is_file()  # only the public half


@pytest.mark.parametrize("name", ["assembly_dir", "assembly_key"])
def test_linkage_settings_refuse_an_assembly_key_path(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="may not name the assembly key"):
        HubSettings.load(tmp_path, **{name: str(tmp_path / "elsewhere")})
    (tmp_path / "hub.toml").write_text(f'{name} = "/srv/assembly"\n')
    with pytest.raises(ConfigError, match="may not name the assembly key"):
        HubSettings.load(tmp_path)


def test_linkage_settings_refuse_a_hub_directory_holding_the_assembly_key(
        dirs: tuple[Path, Path]) -> None:
    hub_dir, assembly_dir = dirs
    (hub_dir / ASSEMBLY_KEY_FILE).write_bytes((assembly_dir / ASSEMBLY_KEY_FILE).read_bytes())
    with pytest.raises(ConfigError, match="must never hold the assembly key"):
        HubSettings.load(hub_dir)


@pytest.mark.parametrize("where", ["same", "inside", "around"])
def test_one_directory_for_both_roles_is_refused(tmp_path: Path, where: str) -> None:
    hub_dir = tmp_path / "hub"
    assembly_dir = {"same": hub_dir, "inside": hub_dir / "assembly",
                    "around": tmp_path}[where]
    with pytest.raises(ConfigError, match="separate"):
        AssemblySettings.load(assembly_dir, hub_dir=hub_dir)
    create_hub_keys(hub_dir)
    with pytest.raises(ConfigError, match="separate"):
        create_assembly_key(assembly_dir, hub_dir=hub_dir)


def test_key_file_readable_by_others_is_refused(dirs: tuple[Path, Path]) -> None:
    _, assembly_dir = dirs
    (assembly_dir / ASSEMBLY_KEY_FILE).chmod(0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_assembly_key(assembly_dir)


def test_assembly_directory_open_to_others_is_refused(dirs: tuple[Path, Path]) -> None:
    _, assembly_dir = dirs
    assembly_dir.chmod(0o750)
    with pytest.raises(ConfigError, match="chmod 700"):
        load_assembly_key(assembly_dir)


def test_assembler_refuses_a_hub_that_publishes_another_key(
        dirs: tuple[Path, Path], tmp_path: Path) -> None:
    """A linkage process that swapped ``assembly.pub`` for its own key is noticed by the
    assembler at start-up (and nodes enrolled earlier keep the pinned key)."""
    hub_dir, assembly_dir = dirs
    key = load_assembly_key(assembly_dir)
    create_assembly_key(tmp_path / "rogue", hub_dir=hub_dir)  # overwrites assembly.pub
    settings = AssemblySettings.load(assembly_dir, hub_dir=hub_dir)

    class _Hub:
        class settings:
            dir = hub_dir

    with pytest.raises(ConfigError, match="does not publish this assembly key"):
        assembly_context(_Hub(), settings, key)  # type: ignore[arg-type]
