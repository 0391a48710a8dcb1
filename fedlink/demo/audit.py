"""The auditor's step: verify every hash chain of the federation.

* the hub's chain offline, on the hub's database (``fedlink audit verify --dir DIR/hub``):
  what an auditor with access to the hub machine does;
* the hub's chain through its API with the auditor's token (``--hub URL``), verified on
  the auditor's side, not trusting the hub's own verdict;
* each node's chain (``--node-dir``), which records what that node answered, checked also
  against the signed node checkpoints the hub holds;
* first the auditor has the hub sign a transparency-log checkpoint and push it to every
  node (``fedlink audit checkpoint``), so the hub checks show which witness co-signed what
  and ``--ask-nodes`` compares the hub's log with each node's own view.
"""

from __future__ import annotations

from fedlink.demo.federation import AGENCIES
from fedlink.demo.state import Demo, parallel


def verify_audit_logs(demo: Demo) -> None:
    title = "Verify the audit logs of hub and nodes"
    with demo.steps.step(title, "auditor: fedlink audit verify") as step:
        pushed = demo.fedlink("audit", "checkpoint", who="auditor",
                              env=demo.api_env("auditor"))
        step.note(pushed.strip().splitlines()[-1])
        hub_dir = str(demo.layout.hub)
        checks: list[tuple[str, list[str]]] = [
            ("hub (offline)", ["audit", "verify", "--dir", hub_dir, "--ask-nodes"]),
            ("hub (API)", ["audit", "verify", "--hub", demo.hub_url, "--ask-nodes"]),
            *((f"node {a.code}", ["audit", "verify", "--node-dir", str(demo.layout.node(a)),
                                  "--dir", hub_dir])
              for a in AGENCIES),
        ]

        def verify(check: tuple[str, list[str]]) -> list[str]:
            out = demo.fedlink(*check[1], who="auditor", env=demo.api_env("auditor"))
            return out.strip().splitlines()

        outputs = parallel(verify, checks, workers=3)
        for (name, _), lines in zip(checks, outputs, strict=True):
            for line in lines:
                step.note(f"{name}: {line}")
        results = [lines[0] for lines in outputs]
        demo.facts["audit"] = dict(zip((name for name, _ in checks), results, strict=True))
        step.done(f"{len(checks)} chains verified intact")
