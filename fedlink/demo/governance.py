"""The governance members' own keys in the demo: each member generates a key (0600) and
registers its public half; the roster (both members, quorum 2) is proposed, signed by both
and submitted; every node pins it by the fingerprint the members hand out; approvals and
revocations are then signed with the members' keys and verified by every node."""

from __future__ import annotations

from pathlib import Path

from fedlink.demo.federation import AGENCIES, Agency
from fedlink.demo.state import Demo, each_agency

MEMBERS = ("governance_a", "governance_b")


def key_file(demo: Demo, member: str) -> Path:
    return demo.layout.root / "governance" / f"{member}.pem"


def governance_keys(demo: Demo) -> None:
    title = "Governance keys and roster, pinned by every node"
    with demo.steps.step(title, "governance: fedlink review keygen/roster; agency IT: "
                         "fedlink node roster-sync") as step:
        (demo.layout.root / "governance").mkdir(mode=0o700, exist_ok=True)
        members = []
        for member in MEMBERS:
            path = key_file(demo, member)
            out = demo.fedlink("review", "keygen", "--key-file", str(path), who=member)
            public = next(line.split()[-1] for line in out.splitlines() if "public key:" in line)
            demo.fedlink("review", "register-key", "--key-file", str(path), who=member,
                         env=demo.api_env(member))
            members.append(f"{member}={public}")
        proposal = demo.layout.root / "governance" / "roster.json"
        out = demo.fedlink("review", "roster", "propose", "--out", str(proposal), "--quorum",
                           str(len(MEMBERS)), *(a for m in members for a in ("--member", m)),
                           who=MEMBERS[0], env=demo.api_env(MEMBERS[0]))
        fingerprint = out.split("fingerprint ")[1].split()[0]
        for member in MEMBERS:
            demo.fedlink("review", "roster", "sign", str(proposal), "--key-file",
                         str(key_file(demo, member)), who=member)
        demo.fedlink("review", "roster", "submit", str(proposal), who=MEMBERS[0],
                     env=demo.api_env(MEMBERS[0]))

        def pin(agency: Agency) -> None:
            # The fingerprint reaches each agency out of band (read aloud, on paper).
            demo.fedlink("node", "roster-sync", "--dir", str(demo.layout.node(agency)),
                         "--roster-fingerprint", fingerprint, who=f"{agency.code} IT")

        each_agency(pin)
        demo.facts["roster_fingerprint"] = fingerprint
        step.done(f"roster v1 ({len(MEMBERS)} members, quorum {len(MEMBERS)}) pinned by "
                  f"{len(AGENCIES)} nodes; fingerprint {fingerprint[:19]}…")
