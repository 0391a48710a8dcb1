"""``fedlink extract …``: researchers build, list, download and certify destruction of
their linked extracts (docs/extracts.md).

``download`` streams the bundle with a progress bar into ``DIR/<id>.zip.part``, checks its
SHA-256 against both the response header and the extract's metadata, and only then renames
it and unpacks it into ``DIR/<id>/`` (refusing any member that would land outside). For an
extract sealed to the researcher's key (``--key``, the X25519 private key in PEM) the
ciphertext is downloaded and decrypted here; the hub never sent the plaintext.
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from fedlink import hub_options
from fedlink.errors import CommandError
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


def _receive(response: Any, sink: BinaryIO, total: int | None) -> str:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TransferSpeedColumn,
    )

    digest = hashlib.sha256()
    columns = (TextColumn("downloading"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("download", total=total)
        for block in response.iter_bytes():
            sink.write(block)
            digest.update(block)
            progress.update(task, advance=len(block))
    return digest.hexdigest()


def _open_sealed(meta: dict[str, Any], key_file: Path, part: Path, plain: Path) -> str:
    from hub.extracts.crypto import decrypt_chunks
    from protocol.canonical import b64url_decode
    from protocol.keyfiles import x25519_private_from_pem
    from protocol.payload import open_sealed, payload_info

    sealed = meta.get("recipient_key")
    if not sealed:
        raise CommandError("this extract is not sealed to a researcher key")
    private = x25519_private_from_pem(key_file.read_bytes())
    info = {k: v for k, v in sealed["info"].items() if k != "purpose"}
    data_key = open_sealed(b64url_decode(sealed["ciphertext"]), private,
                           info=payload_info("extract_key", **info))
    digest = hashlib.sha256()
    with part.open("rb") as source, plain.open("wb") as sink:
        for chunk in decrypt_chunks(source, data_key, extract_id=meta["id"]):
            sink.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def _unpack(bundle: Path, target: Path) -> int:
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    with zipfile.ZipFile(bundle) as archive:
        for member in archive.namelist():
            if not (root / member).resolve().is_relative_to(root):
                raise CommandError(f"the bundle member {member!r} would land outside {target}")
        archive.extractall(target)
        return len(archive.namelist())


@extract_app.command()
def download(
    extract_id: Annotated[str, typer.Argument(help="The extract id.")],
    out: Annotated[Path, typer.Option("--out", help="Directory to put it in.",
                                      show_default=False)],
    hub: HubUrlOption = None, token: TokenOption = None,
    key: Annotated[Path | None, typer.Option(
        help="Your X25519 private key (PEM), for an extract sealed to you.")] = None,
) -> None:
    """Download, verify (SHA-256) and unpack an extract."""
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    part, bundle = out / f"{extract_id}.part", out / f"{extract_id}.zip"
    with hub_options.client(hub, token) as client:
        meta = client.get_extract(extract_id)
        sealed = meta["encryption"] == "researcher"
        if sealed and key is None:
            raise CommandError("this extract is sealed to your key; give it with --key FILE")
        try:
            with client.download_extract(extract_id) as response, part.open("wb") as sink:
                announced = response.headers.get("X-Fedlink-SHA256", "")
                length = response.headers.get("Content-Length")
                received = _receive(response, sink, int(length) if length else None)
            expected = meta["ciphertext_sha256"] if sealed else meta["sha256"]
            if received != announced or received != expected:
                raise CommandError(f"extract {extract_id} failed its integrity check "
                                   "(SHA-256 mismatch); nothing was kept")
            if sealed:
                assert key is not None
                if _open_sealed(meta, key, part, bundle) != meta["sha256"]:
                    raise CommandError(f"extract {extract_id} decrypted to the wrong content")
                part.unlink()
            else:
                part.replace(bundle)
        except BaseException:
            part.unlink(missing_ok=True)
            bundle.unlink(missing_ok=True)
            raise
    members = _unpack(bundle, out / extract_id)
    typer.echo(f"extract {extract_id}: sha256 {meta['sha256']} verified; {members} files in "
               f"{out / extract_id}")
