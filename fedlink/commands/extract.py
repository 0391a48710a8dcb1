"""``fedlink extract …``: researchers build, list, download and certify destruction of
their linked extracts (docs/extracts.md).

``download`` is :meth:`fedlink_client.Client.download_extract` (the researcher client's
own code, with a progress bar): it streams the bundle into ``DIR/<id>.part``, checks its
SHA-256 against both the response header and the extract's metadata, and only then renames
it and unpacks it into ``DIR/<id>/`` (refusing any member that would land outside). For an
extract sealed to the researcher's key (``--key``, the X25519 private key in PEM) the
ciphertext is downloaded and decrypted here; the hub never sent the plaintext.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from fedlink import hub_options
from fedlink.hub_options import HubUrlOption, TokenOption

extract_app = typer.Typer(name="extract", help="Linked extracts: list, download, certify.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(extract_app, name="extract")


def _line(extract: dict[str, Any]) -> str:
    return (f"{extract['id']}  {extract['status']:<10} {extract['project_id']:<18} "
            f"persons={extract['persons']:<7} expires {extract['expires_at'][:10]}")


@extract_app.command("list")
def list_(hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """The extracts you may see."""
    with hub_options.client(hub, token) as client:
        rows = client.list_extracts()
    for row in rows:
        typer.echo(_line(row))
    if not rows:
        typer.echo("no extracts")


@extract_app.command()
def show(extract_id: Annotated[str, typer.Argument(help="The extract id.")],
         hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """One extract's metadata (JSON)."""
    with hub_options.client(hub, token) as client:
        typer.echo(hub_options.dumps(client.get_extract(extract_id)))


@extract_app.command()
def build(project_id: Annotated[str, typer.Argument(help="The project (request) id.")],
          hub: HubUrlOption = None, token: TokenOption = None,
          run: Annotated[str | None, typer.Option(help="A succeeded run (default: the "
                                                       "newest).")] = None,
          wait: Annotated[float, typer.Option(help="Longest wait, seconds, while the "
                                                   "assembler builds it (0: do not wait).")]
          = 600.0) -> None:
    """Build the project's extract from its linkage run (the hub's assembler does it)."""
    with hub_options.client(hub, token) as client:
        typer.echo(_line(client.build_extract(project_id, run_id=run, wait=wait)))


@extract_app.command()
def certify(extract_id: Annotated[str, typer.Argument(help="The extract id.")],
            statement: Annotated[str, typer.Option(help="What was destroyed, how, when.",
                                                   show_default=False)],
            hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """Certify that every copy of the extract was destroyed."""
    with hub_options.client(hub, token) as client:
        result = client.certify_destruction(extract_id, statement)
    typer.echo(f"extract {result['id']} is {result['status']}; destruction certified")


class _Bar:
    """A rich progress bar on stderr fed by the client's ``progress`` callback."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TransferSpeedColumn,
        )

        columns = (TextColumn("downloading"), BarColumn(), DownloadColumn(),
                   TransferSpeedColumn())
        self.progress = Progress(*columns, console=Console(stderr=True), transient=True)
        self.task = self.progress.add_task("download", total=None)

    def __call__(self, advance: int, total: int | None) -> None:
        self.progress.update(self.task, advance=advance, total=total)


@extract_app.command()
def download(
    extract_id: Annotated[str, typer.Argument(help="The extract id.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to put it in.",
                                      show_default=False)],
    hub: HubUrlOption = None, token: TokenOption = None,
    key: Annotated[Path | None, typer.Option(
        help="Your X25519 private key (PEM), for an extract sealed to you.")] = None,
) -> None:
    """Download, verify (SHA-256), decrypt (when sealed to your key) and unpack an
    extract (fedlink_client's download: the same code researchers run)."""
    bar = _Bar()
    with hub_options.client(hub, token) as client, bar.progress:
        got = client.receive_extract(extract_id, out, key_file=key, progress=bar)
    typer.echo(f"extract {extract_id}: sha256 {got.extract.sha256} verified; {got.files} files "
               f"in {got.folder}")
