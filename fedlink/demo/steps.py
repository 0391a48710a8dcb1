"""The VLDS flow up to an approved project, each step done by the party who does it in
real life and with that party's own tool:

* synthetic data: ``fedlink synth`` (stands in for each agency's own systems);
* hub operator: ``fedlink hub init / serve / agency add / user add`` on the hub machine
  (``user add`` invites: each person redeems their own code with ``fedlink user redeem``,
  and the governance quorum approves the stewards' and the auditor's accounts with
  ``fedlink user approve``);
* agency IT: ``fedlink node init / secret import / ingest / enroll / serve``;
* researcher and governance: the hub's Python client (``hub.client.HubClient``);
* data stewards: ``fedlink node steward keygen`` and ``fedlink node approve --yes
  --steward-key`` (signed with the steward's own key and the node key).

The federation secret is generated once by the demo (standing in for the agencies' key
ceremony) into ``DIR/federation.secret`` (0600) and imported by each node; the hub never
sees it. The later steps (linkage, extract, audit, expiry) are in
:mod:`fedlink.demo.later`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from typing import Any

from fedlink.demo.federation import AGENCIES, PEOPLE, Agency, Person, agreement
from fedlink.demo.governance import MEMBERS, governance_keys, key_file
from fedlink.demo.processes import free_port
from fedlink.demo.state import Demo, each_agency, parallel, token_in
from fedlink.demo.ui import StepFailed
from hub.settings import DEFAULT_CRITERIA

#: Length of the demo project's term in days. Short on purpose: the demo then shows the
#: project expiring (see fedlink.demo.later.expire_and_destroy).
TERM_DAYS = 1


def generate_records(demo: Demo) -> None:
    with demo.steps.step("Generate the agencies' records", "fedlink synth") as step:
        staging = demo.layout.root / "synth"
        # --longitudinal: rows per school year, term and wage quarter under each agency's
        # own person id, with name changes, moves and duplicate ids (docs/synthetic-data.md).
        shape = ["--longitudinal"] if demo.longitudinal else []
        out = demo.fedlink("synth", "--people", str(demo.people), "--seed", str(demo.seed),
                           *shape, "--out", str(staging), who="synthetic data")
        written = dict(line.rsplit(": ", 1) for line in out.splitlines() if ": " in line)
        demo.layout.nodes.mkdir(mode=0o700)
        for agency in AGENCIES:
            demo.layout.node(agency).mkdir(mode=0o700)
            shutil.move(staging / agency.source, demo.layout.source(agency))
        staging.rmdir()
        step.done(f"{demo.people:,} people → " + ", ".join(
            f"{a.code} {written.get(str(staging / a.source), '?')}" for a in AGENCIES)
            + ", each CSV kept in its node's directory")


def start_hub(demo: Demo) -> None:
    with demo.steps.step("Set up and start the hub", "hub operator: fedlink hub") as step:
        # The admin token init prints is not needed: the operator works on the hub machine.
        hub_dir, assembly_dir = str(demo.layout.hub), str(demo.layout.assembly)
        demo.fedlink("hub", "init", "--dir", hub_dir, "--assembly-dir", assembly_dir,
                     who="hub operator")
        demo.hub_port = free_port()
        demo.supervisor.start("hub", ["hub", "serve", "--dir", hub_dir,
                                      "--host", "127.0.0.1", "--port", str(demo.hub_port)],
                              demo.hub_url)
        # Separation of duties: the API (which links) never holds the assembly key; this
        # separate process alone opens the nodes' extract payloads.
        demo.supervisor.start("assembler", ["hub", "assembler", "run", "--dir", hub_dir,
                                            "--assembly-dir", assembly_dir], "")
        demo.supervisor.wait_ready(["hub"])
        if not demo.supervisor.services["assembler"].running():
            raise StepFailed("the assembler stopped: "
                             + demo.supervisor.services["assembler"].last_log_line())
        demo.write_state()
        step.done(f"{demo.hub_url} (database {demo.layout.hub / 'hub.db'}); assembler "
                  f"with its own key in {assembly_dir}")


def set_up_nodes(demo: Demo) -> None:
    title = "Install the nodes, import the secret, ingest"
    with demo.steps.step(title, "agency IT: fedlink node") as step:
        secret = demo.layout.secret
        from protocol.keys import generate_federation_secret

        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(generate_federation_secret().hex() + "\n")

        def install(agency: Agency) -> str:
            node_dir = str(demo.layout.node(agency))
            who = f"{agency.code} IT"
            # Agency IT states the person id and period columns (init would detect them;
            # saying so keeps the demo independent of detection's guesses).
            roles = ["--map", f"{agency.person_id}=person_id",
                     "--map", f"{agency.period}=period"] if demo.longitudinal else []
            demo.fedlink("node", "init", "--agency", agency.code, "--name", agency.name,
                         "--dir", node_dir, "--source", str(demo.layout.source(agency)),
                         *roles, who=who)
            if demo.longitudinal:
                _declare_duplicate_ids(demo.layout.node(agency) / "node.toml")
            demo.fedlink("node", "secret", "import", str(secret), "--dir", node_dir, who=who)
            out = demo.fedlink("node", "ingest", "--dir", node_dir, who=who)
            return out.splitlines()[0].split(": ", 1)[-1]

        for agency, line in zip(AGENCIES, each_agency(install), strict=True):
            step.note(f"{agency.code}: {line}")
        step.done(f"federation secret {secret} (0600) imported by each node, never the hub")


def _declare_duplicate_ids(node_toml: Any) -> None:
    """Agency IT's edit of node.toml: ``[mapping] person_ids = "may_duplicate"``. Every
    synthetic agency re-registers 1–2 % of its persons under a second id (docs/
    synthetic-data.md), so none of them may promise one id per person; the hub then
    deduplicates them in the run (docs/linkage-runs.md)."""
    import tomlkit

    doc = tomlkit.parse(node_toml.read_text(encoding="utf-8"))
    doc["mapping"]["person_ids"] = "may_duplicate"  # type: ignore[index]
    node_toml.write_text(tomlkit.dumps(doc), encoding="utf-8")


def register_agencies(demo: Demo) -> None:
    with demo.steps.step("Register the agencies", "hub operator: fedlink hub agency add") as st:
        demo.node_ports = {a.code: free_port() for a in AGENCIES}

        def add(agency: Agency) -> str:
            out = demo.fedlink("hub", "agency", "add", agency.code, "--dir",
                               str(demo.layout.hub), "--name", agency.name,
                               "--url", demo.node_url(agency), who="hub operator")
            return token_in(out, "enrollment token")

        demo.enrollment = dict(zip((a.code for a in AGENCIES), each_agency(add), strict=True))
        st.done("one-time enrollment tokens handed to each agency's IT")


def enroll_and_serve_nodes(demo: Demo) -> None:
    with demo.steps.step("Enroll and start the nodes", "agency IT: fedlink node") as step:
        def enroll(agency: Agency) -> None:
            demo.fedlink("node", "enroll", "--dir", str(demo.layout.node(agency)),
                         "--hub", demo.hub_url, who=f"{agency.code} IT",
                         env={"FEDLINK_ENROLLMENT_TOKEN": demo.enrollment[agency.code]})

        each_agency(enroll)
        for agency in AGENCIES:
            demo.supervisor.start(f"node-{agency.slug}", [
                "node", "serve", "--dir", str(demo.layout.node(agency)),
                "--host", "127.0.0.1", "--port", str(demo.node_ports[agency.code])],
                demo.node_url(agency))
        demo.supervisor.wait_ready([f"node-{a.slug}" for a in AGENCIES])
        demo.write_state()
        step.done(", ".join(f"{a.code} {demo.node_url(a)}" for a in AGENCIES))


def create_people(demo: Demo) -> None:
    title = "Invite the people; each redeems their own invitation"
    with demo.steps.step(title, "hub operator: fedlink hub user add; everyone: fedlink user"
                         ) as step:
        def invite(person: Person) -> str:
            args = ["hub", "user", "add", "--dir", str(demo.layout.hub), "--role", person.role,
                    "--name", person.name, "--email", person.email]
            if person.agency:
                args += ["--agency", person.agency]
            if person.institution:
                args += ["--institution", person.institution]
            return token_in(demo.fedlink(*args, who="hub operator"), "invitation code")

        def redeem(pair: tuple[Person, str]) -> tuple[str, bool]:
            person, code = pair
            out = demo.fedlink("user", "redeem", "--hub", demo.hub_url, who=person.name,
                               env={"FEDLINK_INVITATION": code})
            return token_in(out, "API token"), " is pending" in out

        codes = parallel(invite, list(PEOPLE))
        # The governance members first: they are the hub's bootstrap quorum, active at once
        # (docs/hub.md); every other privileged account then waits for their approval.
        first = [(p, c) for p, c in zip(PEOPLE, codes, strict=True) if p.role == "governance"]
        rest = [(p, c) for p, c in zip(PEOPLE, codes, strict=True) if p.role != "governance"]
        redeemed = [redeem(pair) for pair in first] + parallel(redeem, rest)
        people = [p for p, _ in first + rest]
        demo.tokens.update({p.key: t for p, (t, _) in zip(people, redeemed, strict=True)})
        pending = [p for p, (_, waiting) in zip(people, redeemed, strict=True) if waiting]
        approve_accounts(demo, pending)
        record_training(demo)
        step.done(f"{len(PEOPLE)} people, each holding only their own token; "
                  f"{len(pending)} steward and auditor accounts approved by the 2 "
                  "governance members; the researcher's data-privacy training recorded")


def approve_accounts(demo: Demo, people: list[Person]) -> None:
    """Each governance member approves each pending account with their own token."""
    with demo.hub_client("governance_a") as hub:
        ids = {row["email"]: row["id"] for row in hub.pending_accounts()}
    for member in ("governance_a", "governance_b"):
        for person in people:
            demo.fedlink("user", "approve", str(ids[person.email]), who=member,
                         env=demo.api_env(member))


def record_training(demo: Demo) -> None:
    """Governance records the researcher's data-privacy training (safe people): without a
    current completion the hub refuses the extract download (docs/hub.md, "Training")."""
    with demo.hub_client("researcher") as hub:
        researcher_id = hub.me()["id"]
    today = dt.date.today()
    demo.fedlink("user", "training", "record", str(researcher_id), "--training",
                 "data-privacy", "--completed", today.isoformat(), "--expires",
                 (today + dt.timedelta(days=365)).isoformat(), who="governance_a",
                 env=demo.api_env("governance_a"))


def submit_request(demo: Demo) -> None:
    with demo.steps.step("Submit a research request", "researcher: hub client") as step:
        with demo.hub_client("researcher") as hub:
            catalog = hub.catalog()
            try:
                body = agreement(dt.date.today(), TERM_DAYS, catalog, demo.longitudinal)
            except ValueError as exc:
                raise StepFailed(str(exc)) from None
            created = hub.create_request(body)
            submitted = hub.submit_request(created["id"])
        demo.request_id = submitted["id"]
        asked = sum(len(a.asked(demo.longitudinal)) for a in AGENCIES)
        years = ", ".join(f"{v['agency']} {v['first_year']}–{v['last_year']}"
                          for v in body["variables"])
        step.done(f"request {demo.request_id} ({submitted['status']}): {asked} of "
                  f"{len(catalog)} catalog variables from {len(AGENCIES)} agencies ({years}), "
                  f"term {body['term_start']} to {body['term_end']}")


def steward_approvals(demo: Demo) -> None:
    title = "Steward approvals, signed with each steward's own key"
    with demo.steps.step(title, "data stewards: fedlink node steward keygen, "
                                "fedlink node approve --steward-key") as step:
        def approve(agency: Agency) -> None:
            steward, node_dir = f"{agency.code} steward", str(demo.layout.node(agency))
            # The steward's key is the steward's own (here: a file beside the node's dir);
            # agency IT registers only its public half, so the node records who decided.
            steward_key = demo.layout.root / "stewards" / f"{agency.code.lower()}.pem"
            steward_key.parent.mkdir(mode=0o700, exist_ok=True)
            created = demo.fedlink("node", "steward", "keygen", "--key-file", str(steward_key),
                                   who=steward)
            public = re.search(r"public key:\s*(\S+)", created)
            if public is None:
                raise StepFailed(f"`fedlink node steward keygen` printed no public key: {created}")
            demo.fedlink("node", "steward", "add", "--dir", node_dir, "--public-key",
                         public.group(1), "--label", steward, who=f"{agency.code} IT")
            demo.fedlink("node", "approve", demo.request_id, "--dir", node_dir, "--yes",
                         "--steward-key", str(steward_key), who=steward)

        each_agency(approve)
        with demo.hub_client("researcher") as hub:
            status = hub.get_request(demo.request_id)
        decided = [d["agency"] for d in status["agency_decisions"] if d["decision"] == "approve"]
        step.done(f"{', '.join(sorted(decided))} approved; hub status {status['status']}")


def governance_quorum(demo: Demo) -> None:
    with demo.steps.step("Governance quorum, signed with the members' own keys",
                         "governance members: fedlink review approve --key-file") as step:
        for key in MEMBERS:
            demo.fedlink("review", "approve", demo.request_id, "--key-file",
                         str(key_file(demo, key)), "--reason", "Meets the agreement's terms.",
                         # The demo hub keeps the default review checklist: all met.
                         *(arg for cid, _ in DEFAULT_CRITERIA for arg in ("--criterion", cid)),
                         who=key, env=demo.api_env(key))
        with demo.hub_client("researcher") as hub:
            result: dict[str, Any] = hub.get_request(demo.request_id)
        if result.get("status") != "approved":
            waiting = "; ".join(str(w) for w in result.get("waiting_for") or []) or "?"
            raise StepFailed(f"request {demo.request_id} is {result.get('status')}, "
                             f"waiting for {waiting}")
        step.done(f"2 of 2 approvals: request {demo.request_id} is approved "
                  "(project salt fixed by the hub)")


SETUP = (generate_records, start_hub, set_up_nodes, register_agencies, enroll_and_serve_nodes,
         create_people, governance_keys, submit_request, steward_approvals, governance_quorum)
