"""``fedlink-client``: the researcher's command line, built on :class:`fedlink_client.Client`.

The hub comes from ``--hub`` or ``FEDLINK_HUB_URL``; the token from ``FEDLINK_TOKEN`` or a
0600 file (``--token-file`` / ``FEDLINK_TOKEN_FILE``), never from a flag value (``ps`` and
shell history would show it); a private CA from ``--ca-file`` / ``FEDLINK_CA_FILE``.
Every failure is one line on stderr and an exit code: 1 other, 2 usage or invalid input,
3 authentication or permission, 4 not found, 5 conflict, 6 hub unreachable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from fedlink_client import __version__, _cli_findings
from fedlink_client.client import Client
from fedlink_client.errors import FedlinkClientError, InvalidInput
from fedlink_client.extracts import open_saved
from fedlink_client.keys import generate_key, public_key_of

Handler = Callable[[argparse.Namespace], int]


def _client(args: argparse.Namespace, *, token: bool = True) -> Client:
    if not token:  # signing in: no token at all, not even one left in the environment
        return Client(args.hub, ca_file=args.ca_file or os.environ.get("FEDLINK_CA_FILE"),
                      from_env=False)
    return Client(args.hub, token_file=args.token_file, ca_file=args.ca_file)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str))


def _write_secret(path: Path, secret: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InvalidInput(f"{path} already exists; choose a new file") from None
    except OSError as exc:
        raise InvalidInput(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(secret + "\n")


# --- commands ---------------------------------------------------------------------------

def _login(args: argparse.Namespace) -> int:
    code = os.environ.get("FEDLINK_INVITATION", "").strip()
    if args.code_file:
        code = Path(args.code_file).expanduser().read_text(encoding="utf-8").strip()
    if not code:
        raise InvalidInput("give your invitation code in FEDLINK_INVITATION or --code-file")
    with _client(args, token=False) as hub:
        account = hub.redeem_invitation(code, label=args.label)
    _write_secret(Path(args.token_out).expanduser(), account.token)
    print(f"signed in as {account.name} ({account.role}); token {account.token_id} written "
          f"to {args.token_out} (mode 0600); use it with --token-file {args.token_out}")
    return 0


def _whoami(args: argparse.Namespace) -> int:
    with _client(args) as hub:
        user = hub.me()
    print(f"{user.name} ({user.role}, {user.status}) id {user.id}")
    return 0


def _token_create(args: argparse.Namespace) -> int:
    with _client(args) as hub:
        issued = hub.issue_token(label=args.label, ttl_days=args.ttl_days)
    _write_secret(Path(args.out).expanduser(), issued.token)
    print(f"token {issued.id} written to {args.out} (mode 0600); expires {issued.expires_at}")
    return 0


def _token_list(args: argparse.Namespace) -> int:
    with _client(args) as hub:
        for token in hub.my_tokens():
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            print(f"{token.id:>5}  {state:<18} expires {token.expires_at}  {token.label}")
    return 0


def _catalog(args: argparse.Namespace) -> int:
    with _client(args) as hub:
        rows = hub.catalog(args.agency)
    if args.json:
        _print_json([r.model_dump(mode="json") for r in rows])
        return 0
    for row in rows:
        years = f"{min(row.years)}-{max(row.years)}" if row.years else "-"
        print(f"{row.agency:<8} {row.variable:<24} {years:<10} {row.classification or '':<13}"
              f" {row.description}")
    if not rows:
        print("the catalog is empty")
    return 0


def _request_create(args: argparse.Namespace) -> int:
    key = public_key_of(args.key_file) if args.key_file else None
    with _client(args) as hub:
        request = hub.create_request(args.agreement, recipient_key=key)
    sealed = " (extract sealed to your key)" if key else ""
    print(f"request {request.id} drafted: {request.status}{sealed}")
    return 0


def _request_show(args: argparse.Namespace) -> int:
    with _client(args) as hub:
        _print_json(hub.get_request(args.request_id).model_dump(mode="json"))
    return 0


def _request_submit(args: argparse.Namespace) -> int:
    with _client(args) as hub:
        request = hub.submit_request(args.request_id)
    print(f"request {request.id}: {request.status}")
    return 0


def _request_status(args: argparse.Namespace) -> int:
    with _client(args) as hub:
        request = hub.get_request(args.request_id)
    waiting = f"; waiting for {', '.join(request.waiting_for)}" if request.waiting_for else ""
    print(f"request {request.id}: {request.status}{waiting}")
    return 0


def _request_list(args: argparse.Namespace) -> int:
    with _client(args) as hub:
        for row in hub.list_requests(args.status):
            print(f"{row.id}  {row.status:<12} {row.title}")
    return 0


def _key_generate(args: argparse.Namespace) -> int:
    public = generate_key(args.key_file)
    print(f"private key written to {args.key_file} (mode 0600); keep it safe")
    print(f"public key: {public}")
    return 0


def _extract_list(args: argparse.Namespace) -> int:
    with _client(args) as hub:
        rows = hub.list_extracts()
    for row in rows:
        print(f"{row.id}  {row.status:<10} {row.project_id:<18} persons={row.persons} "
              f"encryption={row.encryption}")
    if not rows:
        print("no extracts")
    return 0


def _extract_build(args: argparse.Namespace) -> int:
    with _client(args) as hub:
        extract = hub.build_extract(args.project_id, run_id=args.run, wait=args.wait)
    print(f"extract {extract.id}: {extract.status}")
    return 0


def _extract_download(args: argparse.Namespace) -> int:
    with _client(args) as hub:
        got = hub.download_extract(args.extract_id, args.out, key_file=args.key,
                                   keep_sealed=args.key is None)
    if got.folder is None:
        print(f"extract {got.extract.id}: sha256 verified; kept sealed in {got.bundle}; "
              f"open it with: fedlink-client extract open "
              f"{got.bundle.with_suffix('.json')} --key KEY")
    else:
        print(f"extract {got.extract.id}: sha256 {got.extract.sha256} verified; {got.files} "
              f"files in {got.folder}")
    return 0


def _extract_open(args: argparse.Namespace) -> int:
    got = open_saved(args.metadata, args.key)
    print(f"extract {got.extract.id}: sha256 {got.extract.sha256} verified; {got.files} "
          f"files in {got.folder}")
    return 0


# --- the parser -------------------------------------------------------------------------

def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fedlink-client", description="The researcher's client for a Fedlink hub.",
        epilog="Exit codes: 0 ok, 1 other, 2 usage/invalid input, 3 auth, 4 not found, "
               "5 conflict, 6 hub unreachable.")
    parser.add_argument("--version", action="version", version=f"fedlink-client {__version__}")
    parser.add_argument("--hub", default=os.environ.get("FEDLINK_HUB_URL"),
                        help="the hub's URL (or FEDLINK_HUB_URL)")
    parser.add_argument("--token-file", default=None,
                        help="0600 file holding your API token (or FEDLINK_TOKEN, "
                             "FEDLINK_TOKEN_FILE)")
    parser.add_argument("--ca-file", default=None,
                        help="the hub's CA bundle when its certificate is private "
                             "(or FEDLINK_CA_FILE)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(parent: Any, name: str, handler: Handler, help_: str) -> Any:
        sub = parent.add_parser(name, help=help_, description=help_)
        sub.set_defaults(handler=handler)
        return sub

    login = command(commands, "login", _login, "redeem your invitation; save your token")
    login.add_argument("--token-out", required=True, help="new file (0600) for your token")
    login.add_argument("--code-file", help="file holding the code (or FEDLINK_INVITATION)")
    login.add_argument("--label", default="", help="a label for the token")
    command(commands, "whoami", _whoami, "who your token belongs to")
    token = commands.add_parser("token", help="your API tokens").add_subparsers(
        dest="sub", required=True, metavar="SUBCOMMAND")
    created = command(token, "create", _token_create, "issue yourself a new token")
    created.add_argument("--out", required=True, help="new file (0600) for the token")
    created.add_argument("--label", default="")
    created.add_argument("--ttl-days", type=int, default=None)
    command(token, "list", _token_list, "your tokens (never their text)")
    catalog = command(commands, "catalog", _catalog, "what data each agency offers")
    catalog.add_argument("--agency", help="one agency only")
    catalog.add_argument("--json", action="store_true", help="as JSON")

    request = commands.add_parser("request", help="research requests").add_subparsers(
        dest="sub", required=True, metavar="SUBCOMMAND")
    create = command(request, "create", _request_create, "draft a request from an agreement")
    create.add_argument("agreement", help="the data sharing agreement (JSON file)")
    create.add_argument("--key-file", help="your X25519 private key: the extract is sealed "
                                           "to its public half")
    for name, handler, help_ in (("show", _request_show, "one request (JSON)"),
                                 ("submit", _request_submit, "submit for review"),
                                 ("status", _request_status, "status and what it waits for")):
        command(request, name, handler, help_).add_argument("request_id")
    command(request, "list", _request_list, "your requests").add_argument("--status")

    key = commands.add_parser("key", help="your X25519 key").add_subparsers(
        dest="sub", required=True, metavar="SUBCOMMAND")
    command(key, "generate", _key_generate, "a new key pair; prints the public key") \
        .add_argument("key_file", help="new file for the private key (mode 0600)")

    extract = commands.add_parser("extract", help="linked extracts").add_subparsers(
        dest="sub", required=True, metavar="SUBCOMMAND")
    command(extract, "list", _extract_list, "the extracts you may see")
    build = command(extract, "build", _extract_build, "ask for a project's linked extract")
    build.add_argument("project_id")
    build.add_argument("--run", default=None, help="a succeeded run (default: newest)")
    build.add_argument("--wait", type=float, default=600.0, help="seconds to wait")
    download = command(extract, "download", _extract_download,
                       "download, verify (SHA-256), decrypt and unpack")
    download.add_argument("extract_id")
    download.add_argument("--out", required=True, help="directory to put it in")
    download.add_argument("--key", default=None,
                          help="your private key, for an extract sealed to you (without "
                               "it a sealed extract is kept sealed)")
    opened = command(extract, "open", _extract_open,
                     "open a sealed download offline: verify, decrypt, unpack")
    opened.add_argument("metadata", help="the <id>.json saved beside <id>.flx")
    opened.add_argument("--key", required=True, help="your private key (PEM)")

    # findings, deliverables, publication (docs/findings.md); their handlers connect
    # through ``connect``, which looks ``_client`` up when called.
    _cli_findings.register(commands, command)
    parser.set_defaults(connect=lambda args, token=True: _client(args, token=token))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit code (``sys.exit`` is the caller's)."""
    parser = _parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except FedlinkClientError as exc:
        print(f"fedlink-client: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        print(f"fedlink-client: error: {exc.strerror or exc}"
              f"{f': {exc.filename}' if exc.filename else ''}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fedlink-client: error: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    run()
