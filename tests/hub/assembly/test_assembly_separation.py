"""Separation of duties (docs/extracts.md): the linkage role (hub API, linkage workers)
can never load the assembly keys, the assembly role never loads token tables nor the hub's
own keys, and it will not start without its own signing key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.assembly.context import assembly_context, open_assembler
from hub.assembly.keys import create_assembly_keys, load_assembly_key, load_assembly_keys
from hub.assembly.settings import AssemblySettings
from hub.errors import ConfigError
from hub.keys import (
    ASSEMBLY_PUBLIC_FILE,
    ASSEMBLY_SIGNING_PUBLIC_FILE,
    HPKE_KEY_FILE,
    SIGNING_KEY_FILE,
    create_hub_keys,
    load_hub_keys,
)
from hub.services.setup import init_hub
from hub.settings import ASSEMBLY_KEY_FILE, ASSEMBLY_SIGNING_KEY_FILE, HubSettings
from protocol.keyfiles import ed25519_public_from_pem, key_id, public_key_to_pem

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
    create_assembly_keys(assembly_dir, hub_dir=hub_dir)
    return hub_dir, assembly_dir


@pytest.mark.parametrize(("private", "public"), [
    (ASSEMBLY_KEY_FILE, ASSEMBLY_PUBLIC_FILE),
    (ASSEMBLY_SIGNING_KEY_FILE, ASSEMBLY_SIGNING_PUBLIC_FILE)])
def test_assembly_keys_are_owner_only_in_their_own_directory(
        dirs: tuple[Path, Path], private: str, public: str) -> None:
    hub_dir, assembly_dir = dirs
    assert (assembly_dir / private).stat().st_mode & 0o777 == 0o600
    assert assembly_dir.stat().st_mode & 0o777 == 0o700
    assert not (hub_dir / private).exists()
    assert (hub_dir / public).is_file()  # only the public half


def test_the_assembly_signing_key_is_its_own(dirs: tuple[Path, Path]) -> None:
    """Not the hub signing key: nodes tell extract requests from match requests by it."""
    hub_dir, assembly_dir = dirs
    keys = load_assembly_keys(assembly_dir)
    published = ed25519_public_from_pem((hub_dir / ASSEMBLY_SIGNING_PUBLIC_FILE).read_bytes())
    assert key_id(published) == keys.signing_kid
    assert keys.signing_kid != load_hub_keys(hub_dir).signing_kid


@pytest.mark.parametrize("name", ["assembly_dir", "assembly_key"])
def test_linkage_settings_refuse_an_assembly_key_path(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="may not name the assembly key"):
        HubSettings.load(tmp_path, **{name: str(tmp_path / "elsewhere")})
    (tmp_path / "hub.toml").write_text(f'{name} = "/srv/assembly"\n')
    with pytest.raises(ConfigError, match="may not name the assembly key"):
        HubSettings.load(tmp_path)


@pytest.mark.parametrize("name", [ASSEMBLY_KEY_FILE, ASSEMBLY_SIGNING_KEY_FILE])
def test_linkage_settings_refuse_a_hub_directory_holding_an_assembly_key(
        dirs: tuple[Path, Path], name: str) -> None:
    hub_dir, assembly_dir = dirs
    (hub_dir / name).write_bytes((assembly_dir / name).read_bytes())
    with pytest.raises(ConfigError, match="must never hold the assembly keys"):
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
        create_assembly_keys(assembly_dir, hub_dir=hub_dir)


@pytest.mark.parametrize("name", [ASSEMBLY_KEY_FILE, ASSEMBLY_SIGNING_KEY_FILE])
def test_key_file_readable_by_others_is_refused(dirs: tuple[Path, Path], name: str) -> None:
    _, assembly_dir = dirs
    (assembly_dir / name).chmod(0o640)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_assembly_keys(assembly_dir)


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
    keys = load_assembly_keys(assembly_dir)
    create_assembly_keys(tmp_path / "rogue", hub_dir=hub_dir)  # overwrites assembly.pub
    settings = AssemblySettings.load(assembly_dir, hub_dir=hub_dir)

    class _Hub:
        class settings:
            dir = hub_dir

    with pytest.raises(ConfigError, match="does not publish this assembly key"):
        assembly_context(_Hub(), settings, keys)  # type: ignore[arg-type]


def test_assembler_refuses_a_hub_that_publishes_another_signing_key(
        dirs: tuple[Path, Path], tmp_path: Path) -> None:
    hub_dir, assembly_dir = dirs
    keys = load_assembly_keys(assembly_dir)
    # The HPKE key published stays the assembler's own; only the signing key is swapped.
    (hub_dir / ASSEMBLY_SIGNING_PUBLIC_FILE).write_bytes(
        public_key_to_pem(Ed25519PrivateKey.generate().public_key()))
    settings = AssemblySettings.load(assembly_dir, hub_dir=hub_dir)

    class _Hub:
        class settings:
            dir = hub_dir

    with pytest.raises(ConfigError, match="does not publish this assembly signing key"):
        assembly_context(_Hub(), settings, keys)  # type: ignore[arg-type]


@pytest.fixture
def initialised(tmp_path: Path) -> tuple[Path, Path]:
    hub_dir, assembly_dir = tmp_path / "hub", tmp_path / "assembly"
    init_hub(hub_dir)
    create_assembly_keys(assembly_dir, hub_dir=hub_dir)
    return hub_dir, assembly_dir


def test_assembler_refuses_to_start_without_its_signing_key(
        initialised: tuple[Path, Path]) -> None:
    hub_dir, assembly_dir = initialised
    (assembly_dir / ASSEMBLY_SIGNING_KEY_FILE).unlink()
    settings = AssemblySettings.load(assembly_dir, hub_dir=hub_dir)
    with pytest.raises(ConfigError, match=r"assembly-signing\.key is missing"), \
            open_assembler(settings):
        pass


def test_assembler_opens_the_hub_without_its_private_keys(
        initialised: tuple[Path, Path]) -> None:
    """The assembler never reads signing.key or hpke.key: it starts with both unreadable
    and its hub context holds no hub key (so it can sign no match request)."""
    hub_dir, assembly_dir = initialised
    for name in (SIGNING_KEY_FILE, HPKE_KEY_FILE):
        (hub_dir / name).rename(hub_dir / f"{name}.away")
    settings = AssemblySettings.load(assembly_dir, hub_dir=hub_dir)
    with open_assembler(settings) as actx:
        assert actx.hub.hub_keys is None
        with pytest.raises(ConfigError, match="holds no hub key"):
            _ = actx.hub.keys.signing
        assert actx.signing_kid == load_assembly_keys(assembly_dir).signing_kid


def test_assembler_init_adds_a_missing_signing_key_and_keeps_the_hpke_key(
        dirs: tuple[Path, Path]) -> None:
    """An assembly directory from before the assembly role signed its own requests gains
    the signing key; the HPKE key the nodes pinned stays; both present is refused."""
    hub_dir, assembly_dir = dirs
    before = load_assembly_key(assembly_dir)
    (assembly_dir / ASSEMBLY_SIGNING_KEY_FILE).unlink()
    (hub_dir / ASSEMBLY_SIGNING_PUBLIC_FILE).unlink()
    keys = create_assembly_keys(assembly_dir, hub_dir=hub_dir)
    assert keys.hpke_kid == key_id(before.public_key())
    assert (hub_dir / ASSEMBLY_SIGNING_PUBLIC_FILE).is_file()
    with pytest.raises(ConfigError, match="refusing to replace"):
        create_assembly_keys(assembly_dir, hub_dir=hub_dir)
