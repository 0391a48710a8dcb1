"""The ``fedlink`` command.

Sub-commands live in :mod:`fedlink.commands`. :data:`COMMANDS` names every top-level command,
the modules that define it and its one-line help: a command's modules are imported only when
it runs or its own ``--help`` is asked for, so ``fedlink --help``, ``--version`` and shell
completion start in a fraction of a second, without SQLAlchemy, pandas, FastAPI or the hub
and node services (tests/fedlink/test_cli_startup.py). Adding a command is one line in
:data:`COMMANDS` and a module exposing ``register(app: typer.Typer) -> None`` that adds it to
``app``; a module that adds sub-commands to another module's group does so when imported and
is listed after that module. :func:`main` is the console entry point: it turns every
expected failure into one line on stderr and an exit status by class (docs/cli.md), never a
traceback.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Iterator, Sequence
from typing import Annotated, Any

import typer
from typer import _click  # typer >= 0.29 vendors click
from typer._click.exceptions import ClickException
from typer.core import TyperCommand, TyperGroup

from fedlink.errors import CommandError


class Lazy:
    """A top-level command: its one-line help and the :mod:`fedlink.commands` modules that
    define it (the first registers it; the others add sub-commands to it when imported)."""

    def __init__(self, help_line: str, *modules: str) -> None:
        self.help = help_line
        self.modules = modules


#: Every top-level command. The help line is what ``fedlink --help`` shows without importing
#: the command; tests/fedlink/test_cli_startup.py checks it against the command's own help.
COMMANDS: dict[str, Lazy] = {
    "agenda": Lazy("The research agenda: priority questions requests link to (governance "
                   "adds and retires them).", "agenda"),
    "attack": Lazy("Play a curious hub: recover names from one synthetic project's token "
                   "tables with public knowledge only, and report recall and precision per "
                   "attack and field.", "attack"),
    "audit": Lazy("Verify and search the audit logs of the hub and the nodes.", "audit"),
    "bench": Lazy("Benchmark Fedlink against Splink, recordlinkage and anonlink on the same "
                  "data.", "bench"),
    "catalog": Lazy("What data each agency offers: variables, descriptions, years, "
                    "classification.", "catalog"),
    "demo": Lazy("Run the whole federation on this machine: synthetic records, one hub and "
                 "three agency nodes, the request, approvals, linkage, extract, audit and "
                 "expiry.", "demo"),
    "extract": Lazy("Linked extracts: list, download, certify.", "extract"),
    "findings": Lazy("Reports back to the agencies: upload, review window, objections, "
                     "release.", "findings"),
    "hub": Lazy("The hub: governance, approvals, audit.", "hub", "assembler", "run"),
    "incident": Lazy("Incident response: record, contain, access report, notify, close.",
                     "incident"),
    "link": Lazy("Link several agencies' CSV files into people, or deduplicate one, offline.",
                 "link"),
    "node": Lazy("An agency node: its records stay home.", "node", "node_dictionary",
                 "node_egress", "node_roster", "node_steward"),
    "output": Lazy("Outputs through the airlock: protect a table (automatic suppression), "
                   "make a public-use file, submit, list, show, and the stewards' release "
                   "or return.", "output",
                   "output_protect", "output_public_use"),
    "pki": Lazy("TLS certificates for the hub and the nodes.", "pki"),
    "publication": Lazy("The publications register: add a project's publication, list the "
                        "register.", "publication"),
    "request": Lazy("Research requests (data sharing agreements).", "request", "amend"),
    "review": Lazy("Governance review of research requests.", "review", "review_keys"),
    "run": Lazy("Linkage runs of approved projects.", "run"),
    "synth": Lazy("Write k12.csv, highered.csv and workforce.csv: one synthetic population "
                  "seen by three agencies, with realistic errors and a truth_id column for "
                  "evaluation.", "synth"),
    "user": Lazy("Your hub account: redeem an invitation, tokens, approving accounts "
                 "(governance).", "user"),
}


def load_command(name: str) -> _click.Command:
    """Import the modules of the top-level command ``name`` and build it."""
    holder = typer.Typer()
    for module_name in COMMANDS[name].modules:
        module = importlib.import_module(f"fedlink.commands.{module_name}")
        module.register(holder)
    command = typer.main.get_group(holder).commands.get(name)
    if command is None:
        raise RuntimeError(f"fedlink.commands.{COMMANDS[name].modules[0]} registers no "
                           f"command {name!r}")
    return command


class _NotLoaded(TyperCommand):
    """Stands for a command whose modules are not imported yet (help listing, completion)."""


class _LazyGroup(TyperGroup):
    """The click lazy-loading group pattern: :meth:`list_commands` names every command of
    :data:`COMMANDS` without importing it, :meth:`get_command` imports the one that runs."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self._describing = False
        for name in sorted(COMMANDS):
            entry = COMMANDS[name]
            self.commands.setdefault(name, _NotLoaded(name, help=entry.help,
                                                      short_help=entry.help))

    def get_command(self, ctx: _click.Context, cmd_name: str) -> _click.Command | None:
        command = self.commands.get(cmd_name)
        if isinstance(command, _NotLoaded) and not self._describing:
            command = self.commands[cmd_name] = load_command(cmd_name)
        return command

    def get_help_option(self, ctx: _click.Context) -> Any:
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            # Absent, the flag is False rather than None: typer then has nothing to coerce
            # and does not import pydantic just to start `fedlink node --help`.
            option.default = False
        return option

    @contextlib.contextmanager
    def _describe(self) -> Iterator[None]:
        """Listing commands (help, completion): their help lines, nothing imported."""
        self._describing = True
        try:
            yield
        finally:
            self._describing = False

    def format_help(self, ctx: _click.Context, formatter: _click.HelpFormatter) -> None:
        with self._describe():
            super().format_help(ctx, formatter)

    def shell_complete(self, ctx: _click.Context, incomplete: str) -> list[Any]:
        with self._describe():
            return super().shell_complete(ctx, incomplete)

    def _main_shell_completion(self, ctx_args: Any, prog_name: str,
                               complete_var: str | None = None) -> None:
        # The completion protocol (_FEDLINK_COMPLETE=complete_bash ...) with typer's shell
        # classes, which typer would otherwise register on every start.
        if os.environ.get(complete_var or f"_{prog_name}_COMPLETE".replace("-", "_").upper()):
            from typer.completion import completion_init

            completion_init()
        super()._main_shell_completion(ctx_args, prog_name, complete_var)


def _version() -> str:
    """The version of the distribution that installed the ``fedlink`` command."""
    from importlib.metadata import entry_points

    for entry in entry_points(group="console_scripts", name="fedlink"):
        if entry.value.replace(" ", "") == "fedlink.cli:main" and entry.dist is not None:
            return entry.dist.version
    return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"fedlink {_version()}")
        raise typer.Exit()


def _install_completion(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from typer.completion import completion_init, install_callback

        completion_init()
        install_callback(ctx, param, value)


def _show_completion(ctx: typer.Context, param: typer.CallbackParam, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from typer.completion import completion_init, show_callback

        completion_init()
        show_callback(ctx, param, value)


app = typer.Typer(
    name="fedlink",
    cls=_LazyGroup,
    help="Federated, privacy-preserving record linkage for state longitudinal data systems.",
    no_args_is_help=True,
    # typer's own completion options default to None, which makes typer import pydantic to
    # coerce them on every start; the same options are declared below as plain flags.
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", is_eager=True, callback=_print_version,
        help="Print the version and exit.")] = False,
    install_completion: Annotated[bool, typer.Option(
        "--install-completion", is_eager=True, callback=_install_completion,
        help="Install completion for the current shell (bash, zsh, fish, PowerShell).")]
    = False,
    show_completion: Annotated[bool, typer.Option(
        "--show-completion", is_eager=True, callback=_show_completion,
        help="Show the completion script for the current shell, to copy it or customize "
        "the installation.")] = False,
) -> None:
    """Global options; every command is in :data:`COMMANDS`."""


def _user_errors() -> tuple[type[BaseException], ...]:
    """The documented base errors of every package: shown as one line, never a traceback."""
    from protocol.errors import ProtocolError

    found: list[type[BaseException]] = [CommandError, ProtocolError]
    packages = (("hub.errors", "HubError"), ("agency_node.errors", "NodeError"),
                ("fedlink_client.errors", "FedlinkClientError"))
    for module_name, class_name in packages:
        try:
            module = importlib.import_module(module_name)
        except ImportError:  # pragma: no cover - the package is part of the distribution
            continue
        found.append(getattr(module, class_name))
    return tuple(found)


#: Exit statuses by class (docs/cli.md); 1 is anything else, 130 an interrupt.
EXIT_USAGE, EXIT_AUTH, EXIT_NOT_FOUND, EXIT_CONFLICT, EXIT_UNREACHABLE = 2, 3, 4, 5, 6


def exit_code(exc: BaseException) -> int:
    """The exit status for a user-facing error: its own ``exit_code`` when it has one (the
    hub clients' errors carry it by HTTP status: 3, 4, 5, 1), 6 when reaching a service
    failed, else 2 (usage, invalid input, a refusal at start-up: systemd does not restart
    on 2). A domain error's ``status`` is what the API would answer, not an exit status."""
    code = getattr(exc, "exit_code", None)
    if isinstance(code, int):
        return code
    return EXIT_UNREACHABLE if unreachable(exc) else EXIT_USAGE


def unreachable(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure to reach a service — refused or reset connection,
    unknown host, timeout, TLS failure, an httpx transport error — or was raised because of
    an httpx transport error: the HTTP clients re-raise those ``from None``, which hides
    them from a traceback but keeps them as ``__context__``."""
    import socket
    import ssl

    httpx = sys.modules.get("httpx")  # only ever raised once something imported it
    transport: tuple[type[BaseException], ...] = (
        (httpx.TransportError,) if httpx is not None else ())
    network = (ConnectionRefusedError, ConnectionResetError, ConnectionAbortedError,
               socket.gaierror, TimeoutError, ssl.SSLError, *transport)
    if isinstance(exc, network):
        return True
    seen = exc.__cause__ or exc.__context__
    for _ in range(8):  # a short chain; never loop on a cycle
        if seen is None:
            return False
        if isinstance(seen, transport):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _fail(message: str, code: int) -> None:
    print(f"fedlink: error: {message}", file=sys.stderr)
    sys.exit(code)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="fedlink", standalone_mode=False)
    except typer.Exit as exit_:
        sys.exit(exit_.exit_code)
    except typer.Abort:
        _fail("aborted", 130)
    except ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except _user_errors() as exc:
        _fail(str(exc), exit_code(exc))
    except OSError as exc:
        # Files that cannot be read or written, ports in use (2); unreachable services (6).
        code = EXIT_UNREACHABLE if unreachable(exc) else EXIT_USAGE
        _fail(f"{exc.strerror or exc}{f': {exc.filename}' if exc.filename else ''}", code)
    except Exception as exc:
        from fedlink.extras import missing_extra_message  # a module only an extra installs

        if (hint := missing_extra_message(exc, args)) is not None:
            _fail(hint, 1)
        if os.environ.get("FEDLINK_DEBUG"):
            raise
        _fail(f"unexpected {type(exc).__name__}: {exc} (set FEDLINK_DEBUG=1 for details)", 1)


if __name__ == "__main__":  # pragma: no cover
    main()
