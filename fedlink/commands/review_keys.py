"""``fedlink review keygen | register-key | roster … | revoke``: governance members' own keys.

A member generates a key pair on their own machine (``keygen``: PEM, mode 0600), registers
the public half under their own token (``register-key``), and from then on signs: reviews
(``fedlink review approve/deny --key-file``), the roster (``roster propose`` → every
signer runs ``roster sign`` → ``roster submit``) and revocations (``revoke``). Nodes verify
these signatures against the roster they pinned; the hub only relays them.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from fedlink import hub_options
from fedlink.commands.review import review_app
from fedlink.errors import CommandError
from fedlink.governance_keys import create_key_file, load_key_file
from fedlink.hub_options import HubUrlOption, TokenOption
from protocol.errors import ProtocolError
from protocol.governance import (
    CriterionAnswer,
    GovernanceDecision,
    Revocation,
    Roster,
    roster_digest,
    show_fingerprint,
    sign_statement,
)
from protocol.keyfiles import ed25519_public_from_b64, key_id, public_key_to_b64
from protocol.project import ProjectTerms, project_digest
from protocol.signing import SignedEnvelope

roster_app = typer.Typer(name="roster", help="The governance roster (members' keys, quorum).",
                         no_args_is_help=True)
review_app.add_typer(roster_app, name="roster")

KeyFile = Annotated[Path, typer.Option("--key-file", help="Your governance key (PEM, 0600).",
                                       show_default=False)]
RosterFile = Annotated[Path, typer.Argument(help="The roster proposal file (JSON).")]


def register(_app: typer.Typer) -> None:
    """The commands are attached to ``fedlink review`` at import (see ``roster_app``)."""


@review_app.command()
def keygen(key_file: KeyFile) -> None:
    """Create your governance signing key (a new 0600 file); prints its id and public key."""
    key = create_key_file(key_file)
    typer.echo(f"created {key_file} (mode 0600)\n  kid:        {key_id(key.public_key())}\n"
               f"  public key: {public_key_to_b64(key.public_key())}\n"
               "register it with `fedlink review register-key --key-file ...`")


@review_app.command("register-key")
def register_key(key_file: KeyFile, hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """Register your key's public half with the hub, under your own token."""
    public = public_key_to_b64(load_key_file(key_file).public_key())
    with hub_options.client(hub, token) as client:
        result = client.register_governance_key(public)
    typer.echo(f"registered {result['kid']}")


def sign_review(client: Any, request_id: str, decision: str, reason: str,
                key_file: Path, public_reason: str = "",
                criteria: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Fetch the project-wide terms, sign ``decision`` over them, send it; the request."""
    key = load_key_file(key_file)
    served = client.project_terms(request_id)
    terms = ProjectTerms.model_validate(served["project_terms"])
    if project_digest(terms) != served["project_digest"]:
        raise CommandError("the hub's project digest does not match the terms it sent")
    body = GovernanceDecision(project_id=request_id, decision=decision,  # type: ignore[arg-type]
                              reason=reason, public_reason=public_reason,
                              project_terms=terms,
                              project_digest=project_digest(terms),
                              decided_at=dt.datetime.now(dt.UTC),
                              # The checklist answers are signed with the decision.
                              criteria=tuple(CriterionAnswer.model_validate(c)
                                             for c in criteria or ()))
    return dict(client.signed_review(request_id, sign_statement(body, key).to_json()))


@review_app.command()
def revoke(request_id: Annotated[str, typer.Argument(help="The request id.")],
           key_file: KeyFile, hub: HubUrlOption = None, token: TokenOption = None,
           reason: Annotated[str, typer.Option(help="Why (required).")] = "") -> None:
    """Revoke an approved project with your signature; every node refuses it from then on
    (one roster member suffices: a revocation only removes access)."""
    if not reason.strip():
        raise CommandError("a revocation needs --reason")
    key = load_key_file(key_file)
    body = Revocation(project_id=request_id, reason=reason, revoked_at=dt.datetime.now(dt.UTC))
    with hub_options.client(hub, token) as client:
        result = client.signed_revocation(request_id, sign_statement(body, key).to_json())
    typer.echo(f"revoked {request_id}; pushed to {', '.join(result['pushed_to']) or 'no node'}"
               " (the others pull it)")


# --- the roster ------------------------------------------------------------------------------


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read roster file {path}: {exc}") from None
    if not isinstance(data, dict) or "roster" not in data:
        raise CommandError(f"{path} is not a roster proposal (`fedlink review roster propose`)")
    return data


def _write(path: Path, data: dict[str, Any]) -> None:
    Path(path).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _member(text: str) -> tuple[str, str]:
    label, sep, public = text.rpartition("=")
    if not sep or not label.strip():
        raise CommandError(f"--member {text!r}: give LABEL=PUBLIC_KEY (from `keygen`)")
    try:
        ed25519_public_from_b64(public)
    except ProtocolError as exc:
        raise CommandError(f"--member {label}: {exc}") from None
    return label.strip(), public


@roster_app.command()
def propose(
    out: Annotated[Path, typer.Option("--out", help="Where to write the proposal.")],
    member: Annotated[list[str], typer.Option(help="LABEL=PUBLIC_KEY, once per member.")],
    quorum: Annotated[int, typer.Option(help="Approvals a project and a roster change need.")],
    hub: HubUrlOption = None, token: TokenOption = None,
) -> None:
    """Write the next roster version (version 1 when the hub has none) for members to sign."""
    with hub_options.client(hub, token) as client:
        current = client.governance_roster()["current"]
    previous = None if current is None else Roster.model_validate(current)
    listed = sorted(({"label": label, "kid": key_id(ed25519_public_from_b64(public)),
                      "public_key": public} for label, public in map(_member, member)),
                    key=lambda m: m["kid"])
    try:
        roster = Roster.model_validate({
            "version": 1 if previous is None else previous.version + 1,
            "previous": None if previous is None else roster_digest(previous),
            "quorum": quorum, "members": listed})
    except ValueError as exc:
        raise CommandError(f"not a valid roster: {str(exc).splitlines()[0]}") from None
    _write(out, {"roster": roster.model_dump(mode="json"), "signatures": []})
    typer.echo(f"roster version {roster.version}: {len(listed)} members, quorum {quorum}; "
               f"fingerprint {show_fingerprint(roster_digest(roster))}\n"
               f"signers: `fedlink review roster sign {out} --key-file KEY`")


@roster_app.command()
def sign(path: RosterFile, key_file: KeyFile) -> None:
    """Add your signature to a roster proposal (check its fingerprint first)."""
    data = _read(path)
    roster = Roster.model_validate(data["roster"])
    key = load_key_file(key_file)
    kept = [s for s in data.get("signatures", []) if s.get("kid") != key_id(key.public_key())]
    data["signatures"] = [*kept, sign_statement(roster, key).model_dump(mode="json")]
    _write(path, data)
    typer.echo(f"signed roster version {roster.version} "
               f"({show_fingerprint(roster_digest(roster))}); {len(data['signatures'])} "
               "signature(s)")


@roster_app.command()
def submit(path: RosterFile, hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """Send a signed roster proposal to the hub (it and every node check the quorum)."""
    data = _read(path)
    signatures = [SignedEnvelope.model_validate(s).model_dump(mode="json")
                  for s in data.get("signatures", [])]
    with hub_options.client(hub, token) as client:
        result = client.submit_roster(signatures)
    typer.echo(f"roster version {result['version']} accepted (quorum {result['quorum']}); "
               f"fingerprint {show_fingerprint(result['digest'])}")


@roster_app.command()
def show(hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """The hub's current roster and its fingerprint (compare it out of band)."""
    with hub_options.client(hub, token) as client:
        shown = client.governance_roster()
    if shown["current"] is None:
        typer.echo("no governance roster yet")
        return
    roster = Roster.model_validate(shown["current"])
    typer.echo(f"roster version {roster.version}, quorum {roster.quorum}, "
               f"fingerprint {shown['fingerprint']}")
    for entry in roster.members:
        typer.echo(f"  {entry.kid}  {entry.label}")
