"""`fedlink` starts light: commands are imported only when they run (fedlink/cli.py COMMANDS).

Structural, not timed: a subprocess imports the CLI (or shows help) and the heavy libraries
must be absent from ``sys.modules``. Also: every command module is registered, the help line
``fedlink --help`` shows without importing a command is that command's own, ``--version``
and shell completion work.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from fedlink import cli, commands

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "pandas", "numpy", "fastapi", "pyarrow", "uvicorn", "recordlinkage",
         "faker", "hub", "agency_node.runtime", "alembic")
#: Modules of fedlink/commands that define no command of their own (called by one that does).
HELPER_MODULES = {"node_init"}


def _loaded_after(code: str, env: dict[str, str] | None = None) -> tuple[list[str], str]:
    """Run ``code`` in a fresh interpreter; the HEAVY modules it left in sys.modules."""
    probe = (f"import sys, json\n{code}\n"
             f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr
    *_, last = done.stdout.strip().splitlines()
    return json.loads(last), done.stdout


def _run_main(*args: str) -> str:
    return ("from fedlink.cli import main\n"
            "try:\n"
            f"    main({list(args)!r})\n"
            "except SystemExit as exc:\n"
            "    assert exc.code in (0, None), exc.code\n")


def _main_ok(*args: str) -> None:
    """Run main(); a success may return or exit 0."""
    try:
        cli.main(list(args))
    except SystemExit as exc:
        assert exc.code in (0, None)


def test_importing_the_cli_imports_no_heavy_library() -> None:
    loaded, _ = _loaded_after("import fedlink.cli")
    assert loaded == []


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("node", "--help"),
                                  ("extract", "--help"), ("audit", "--help"),
                                  ("hub", "--help"), ("synth", "--help")])
def test_help_and_version_import_no_heavy_library(args: tuple[str, ...]) -> None:
    loaded, out = _loaded_after(_run_main(*args))
    assert loaded == [], f"fedlink {' '.join(args)} imported {loaded}"
    assert out.strip()


def test_the_heavy_library_check_can_fail() -> None:
    loaded, _ = _loaded_after("import fedlink.cli; import sqlalchemy")
    assert loaded == ["sqlalchemy"]


def test_every_command_module_is_registered() -> None:
    listed = {module for entry in cli.COMMANDS.values() for module in entry.modules}
    present = {m.name for m in pkgutil.iter_modules(commands.__path__)
               if not m.name.startswith("_")}
    assert present - HELPER_MODULES <= listed, "add the module to fedlink/cli.py COMMANDS"
    assert listed <= present


@pytest.mark.parametrize("name", sorted(cli.COMMANDS))
def test_the_listed_help_line_is_the_commands_own(name: str) -> None:
    command = cli.load_command(name)
    own = " ".join((command.help or "").split("\n\n")[0].split())
    assert cli.COMMANDS[name].help == own


def test_help_lists_every_command_with_its_help_line(capsys: pytest.CaptureFixture[str]) -> None:
    _main_ok("--help")
    shown = " ".join(capsys.readouterr().out.replace("│", " ").split())
    for name, entry in cli.COMMANDS.items():
        assert f"{name} {' '.join(entry.help.split()[:4])}" in shown
    for option in ("--version", "--install-completion", "--show-completion"):
        assert option in shown


def test_a_group_help_lists_its_subcommands(capsys: pytest.CaptureFixture[str]) -> None:
    _main_ok("hub", "--help")
    out = capsys.readouterr().out
    # hub's own commands and those fedlink/commands/assembler.py and run.py attach to it.
    for sub in ("init", "serve", "assembler", "worker", "agency"):
        assert f" {sub} " in out


def test_an_unknown_command_suggests_a_close_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["extrac"])
    assert exited.value.code == 2
    assert "'extract'" in capsys.readouterr().err


def test_version_prints_the_project_version(capsys: pytest.CaptureFixture[str]) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    _main_ok("--version")
    assert capsys.readouterr().out == f"fedlink {project['version']}\n"


def _fedlink_env(**extra: str) -> dict[str, str]:
    return {**os.environ, **extra}


def test_completion_script_for_bash() -> None:
    done = subprocess.run([sys.executable, "-m", "fedlink.cli"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT,
                          env=_fedlink_env(_FEDLINK_COMPLETE="source_bash"))
    assert done.returncode == 0, done.stderr
    assert "complete -o default -F _fedlink_completion fedlink" in done.stdout
    assert "_FEDLINK_COMPLETE=complete_bash" in done.stdout


def test_show_completion_detects_the_shell(tmp_path: Path) -> None:
    # `; true`: bash stays the parent (no exec), as in an interactive shell.
    script = f"{sys.executable} -m fedlink.cli --show-completion; true"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "_FEDLINK_COMPLETE=complete_bash" in done.stdout


@pytest.mark.parametrize(("words", "cword", "expected"), [
    ("fedlink ex", "1", {"extract"}),
    ("fedlink node in", "2", {"init", "ingest"}),
])
def test_completion_offers_commands(words: str, cword: str, expected: set[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "fedlink.cli"], capture_output=True,
                          text=True, timeout=60, cwd=ROOT,
                          env=_fedlink_env(_FEDLINK_COMPLETE="complete_bash",
                                           COMP_WORDS=words, COMP_CWORD=cword))
    assert done.returncode == 0, done.stderr
    assert set(done.stdout.split()) == expected
