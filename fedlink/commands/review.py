"""``fedlink review …``: governance members list, approve, deny or send back requests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from fedlink import hub_options
from fedlink.errors import CommandError
from fedlink.hub_options import HubUrlOption, TokenOption

#: As hub.domain.approval.PUBLIC_REASON_MAX (not imported: the CLI loads no hub modules
#: to start).
PUBLIC_REASON_MAX = 1000

review_app = typer.Typer(name="review", help="Governance review of research requests.",
                         no_args_is_help=True)

RequestId = Annotated[str, typer.Argument(help="The request id.")]


def register(app: typer.Typer) -> None:
    app.add_typer(review_app, name="review")


@review_app.command("list")
def list_(
    hub: HubUrlOption = None,
    token: TokenOption = None,
    all_: Annotated[bool, typer.Option("--all", help="Every state, not only pending.")] = False,
) -> None:
    """Requests awaiting review (submitted or in review)."""
    with hub_options.client(hub, token) as client:
        rows = client.list_requests() if all_ else [
            *client.list_requests("submitted"), *client.list_requests("in_review")]
    for row in rows:
        typer.echo(f"{row['id']}  {row['status']:<18} {', '.join(row['agencies']):<20} "
                   f"{row['title']}")
    if not rows:
        typer.echo("nothing to review")


KeyFileOption = Annotated[Path | None, typer.Option(
    "--key-file", help="Your governance key (`fedlink review keygen`): the decision is "
    "signed over the project's terms so every node can verify it. Required for an approval "
    "once the federation has a governance roster.", show_default=False)]


CriterionOption = Annotated[list[str] | None, typer.Option(
    "--criterion", help="A review criterion you find met: ID or ID=NOTE (repeat; `fedlink "
    "review criteria` lists them). An approval answers every criterion as met.",
    show_default=False)]
NotMetOption = Annotated[list[str] | None, typer.Option(
    "--not-met", help="A review criterion you find not met: ID=NOTE (repeat; the note is "
    "required).", show_default=False)]
CriteriaFileOption = Annotated[Path | None, typer.Option(
    "--criteria-file", help='Your checklist answers as JSON: [{"id": …, "met": true, '
    '"note": …}, …].', show_default=False)]


def _criteria(met: list[str] | None, not_met: list[str] | None,
              criteria_file: Path | None) -> list[dict[str, Any]]:
    """The checklist answers the options give, in order: the file's, then --criterion,
    then --not-met (an id given twice is the hub's to refuse)."""
    answers: list[dict[str, Any]] = []
    if criteria_file is not None:
        try:
            loaded = json.loads(criteria_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"--criteria-file {criteria_file}: {exc}") from None
        if not isinstance(loaded, list) or not all(
                isinstance(a, dict) and isinstance(a.get("id"), str)
                and isinstance(a.get("met"), bool) for a in loaded):
            raise CommandError(f"--criteria-file {criteria_file}: expected a JSON list of "
                               '{"id": ID, "met": true|false, "note": TEXT}')
        answers += [{"id": a["id"], "met": a["met"], "note": str(a.get("note", ""))}
                    for a in loaded]
    for item in met or []:
        cid, _, note = item.partition("=")
        answers.append({"id": cid.strip(), "met": True, "note": note.strip()})
    for item in not_met or []:
        cid, _, note = item.partition("=")
        if not note.strip():
            raise CommandError(f"--not-met {cid.strip()}: say why (--not-met ID=NOTE)")
        answers.append({"id": cid.strip(), "met": False, "note": note.strip()})
    return answers


def _review(request_id: str, decision: str, reason: str, hub: str | None,
            token: Path | None, key_file: Path | None = None, public_reason: str = "",
            criteria: list[dict[str, Any]] | None = None) -> None:
    with hub_options.client(hub, token) as client:
        if key_file is not None and decision != "request_changes":
            from fedlink.commands.review_keys import sign_review

            result = sign_review(client, request_id, decision, reason, key_file,
                                 public_reason=public_reason, criteria=criteria)
        else:
            result = client.review(request_id, decision, reason, public_reason, criteria)
    typer.echo(f"request {result['id']} is {result['status']}")
    if result["waiting_for"]:
        typer.echo("  waiting for: " + "; ".join(result["waiting_for"]))


@review_app.command()
def criteria(hub: HubUrlOption = None, token: TokenOption = None) -> None:
    """The hub's review checklist: every approval answers each criterion as met."""
    with hub_options.client(hub, token) as client:
        policy = client.review_policy()
    for criterion in policy["review_criteria"]:
        typer.echo(f"{criterion['id']:<24} {criterion['text']}")


@review_app.command()
def approve(request_id: RequestId, hub: HubUrlOption = None, token: TokenOption = None,
            reason: Annotated[str, typer.Option(help="Optional note.")] = "",
            key_file: KeyFileOption = None, criterion: CriterionOption = None,
            criteria_file: CriteriaFileOption = None) -> None:
    """Approve a request (counts toward the governance quorum); answer every review
    criterion as met with --criterion (or --criteria-file)."""
    # The hub checks the answers (422 criteria_incomplete names what is missing), after
    # its own refusals that come first (signature, IRB, conflict of interest).
    _review(request_id, "approve", reason, hub, token, key_file,
            criteria=_criteria(criterion, None, criteria_file))


@review_app.command()
def deny(request_id: RequestId, hub: HubUrlOption = None, token: TokenOption = None,
         reason: Annotated[str, typer.Option(
             help="Why (required; internal: the researcher and the hub's staff see it).")] = "",
         public_reason: Annotated[str, typer.Option(
             "--public-reason", help="The reason written for the public (required; shown "
             f"on the public list, at most {PUBLIC_REASON_MAX} characters).")] = "",
         key_file: KeyFileOption = None, criterion: CriterionOption = None,
         not_met: NotMetOption = None, criteria_file: CriteriaFileOption = None) -> None:
    """Deny a request, with an internal reason and a reason for the public (and the review
    criteria you assessed)."""
    if not reason.strip():
        raise CommandError("a denial needs --reason")
    if not public_reason.strip():
        raise CommandError("a denial needs --public-reason: the reason shown on the public "
                           "list (--reason stays internal)")
    if len(public_reason) > PUBLIC_REASON_MAX:
        raise CommandError(f"--public-reason is longer than {PUBLIC_REASON_MAX} characters")
    _review(request_id, "deny", reason, hub, token, key_file, public_reason,
            criteria=_criteria(criterion, not_met, criteria_file))


@review_app.command()
def changes(request_id: RequestId, hub: HubUrlOption = None, token: TokenOption = None,
            reason: Annotated[str, typer.Option(help="What to change (required).")] = "",
            criterion: CriterionOption = None, not_met: NotMetOption = None,
            criteria_file: CriteriaFileOption = None) -> None:
    """Send a request back to the researcher for changes (with the criteria you assessed)."""
    if not reason.strip():
        raise CommandError("a request for changes needs --reason")
    _review(request_id, "request_changes", reason, hub, token,
            criteria=_criteria(criterion, not_met, criteria_file))
