"""The auditor's step: verify every hash chain of the federation.

* the hub's chain offline, on the hub's database (``fedlink audit verify --dir DIR/hub``):
  what an auditor with access to the hub machine does;
* the hub's chain through its API with the auditor's token (``--hub URL``), verified on
  the auditor's side, not trusting the hub's own verdict;
* each node's chain (``--node-dir``), which records what that node answered.
"""

from __future__ import annotations

from fedlink.demo.federation import AGENCIES
from fedlink.demo.state import Demo, parallel


def verify_audit_logs(demo: Demo) -> None:
    title = "Verify the audit logs of hub and nodes"
    with demo.steps.step(title, "auditor: fedlink audit verify") as step:
        checks: list[tuple[str, list[str]]] = [
            ("hub (offline)", ["audit", "verify", "--dir", str(demo.layout.hub)]),
            ("hub (API)", ["audit", "verify", "--hub", demo.hub_url]),
            *((f"node {a.code}", ["audit", "verify", "--node-dir", str(demo.layout.node(a))])
              for a in AGENCIES),
        ]

        def verify(check: tuple[str, list[str]]) -> str:
            out = demo.fedlink(*check[1], who="auditor", env=demo.api_env("auditor"))
            return out.strip().splitlines()[-1]

        results = parallel(verify, checks, workers=3)
        for (name, _), line in zip(checks, results, strict=True):
            step.note(f"{name}: {line}")
        demo.facts["audit"] = dict(zip((name for name, _ in checks), results, strict=True))
        step.done(f"{len(checks)} chains verified intact")
