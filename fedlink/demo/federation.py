"""Who is in the demo federation, where each party's files live, and the research request.

Three agencies as ``fedlink synth`` writes them (K-12, higher education, workforce) — by
default as agencies hold them over time (``--longitudinal``: rows per school year, term
or wage quarter under an agency person id), else one record per person — one hub, and
the people of the VLDS flow: a researcher, two governance members, one data steward per
agency and an auditor. Names of people are role titles ("Governance member A"), never
names a synthetic record could also carry, so the trust-model check on the hub's files
cannot confuse a hub user with an agency's record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    source: str  # the file `fedlink synth` writes for this agency
    #: Asked of it by the demo's research request: of the one-record-per-person file …
    variables: tuple[str, ...]
    #: … and of the longitudinal file (fedlink/synth/longitudinal.py's attributes).
    long_variables: tuple[str, ...]
    #: The longitudinal file's person id and period columns, which agency IT maps.
    person_id: str
    period: str

    @property
    def slug(self) -> str:
        return self.code.lower()

    def asked(self, longitudinal: bool) -> tuple[str, ...]:
        """The variables the research request asks of this agency."""
        return self.long_variables if longitudinal else self.variables


#: ``sped_flag`` (special education) is not asked: node init proposes it ``restricted``,
#: which this hub releases as outputs only, never in a record-level extract
#: (docs/classification.md).
AGENCIES: tuple[Agency, ...] = (
    Agency("K12", "Department of Education (K-12)", "k12.csv",
           ("grade", "school", "test_score"),
           ("grade", "school", "test_score"), "state_student_id", "school_year"),
    Agency("HE", "State Council of Higher Education", "highered.csv",
           ("enroll_year", "degree", "gpa"),
           ("institution", "credits", "term_gpa", "degree"), "student_id", "term"),
    Agency("WF", "Employment Commission (workforce)", "workforce.csv",
           ("year", "industry", "quarterly_wage"),
           ("industry", "quarterly_wage"), "ui_claimant_id", "quarter"),
)


@dataclass(frozen=True)
class Person:
    key: str  # how the demo refers to them
    role: str  # hub role
    name: str
    email: str
    agency: str | None = None
    institution: str | None = None


INSTITUTION = "Commonwealth Policy Lab"

PEOPLE: tuple[Person, ...] = (
    Person("researcher", "researcher", "Principal investigator", "pi@policylab.example",
           institution=INSTITUTION),
    Person("governance_a", "governance", "Governance member A", "gov-a@hub.example"),
    Person("governance_b", "governance", "Governance member B", "gov-b@hub.example"),
    *(Person(f"steward_{a.slug}", "steward", f"{a.code} data steward",
             f"steward@{a.slug}.example", agency=a.code) for a in AGENCIES),
    Person("auditor", "auditor", "State auditor", "audit@auditor.example"),
)


@dataclass(frozen=True)
class Layout:
    """Where every party's files are under the demo's work directory."""

    root: Path

    @property
    def hub(self) -> Path:
        return self.root / "hub"

    @property
    def assembly(self) -> Path:
        """The assembly role's own directory (its key opens node extract payloads); the
        hub API, which links, is never given it (docs/extracts.md)."""
        return self.root / "hub-assembly"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def researcher(self) -> Path:
        return self.root / "researcher"

    @property
    def evaluation(self) -> Path:
        """The demo's own scoring against the synthetic truth (it plays every party)."""
        return self.root / "evaluation"

    @property
    def secret(self) -> Path:
        return self.root / "federation.secret"

    @property
    def state(self) -> Path:
        """Ports and process ids of the services, for ``fedlink demo --stop``."""
        return self.root / "demo.json"

    @property
    def nodes(self) -> Path:
        return self.root / "nodes"

    def node(self, agency: Agency) -> Path:
        return self.nodes / agency.slug

    def source(self, agency: Agency) -> Path:
        return self.node(agency) / agency.source


def years_asked(agency: Agency, catalog: list[dict[str, Any]],
                longitudinal: bool = False) -> tuple[int, int]:
    """The longest run of consecutive years in which the catalog has every variable the
    demo asks of ``agency`` (a request may only ask for years the catalog covers). For
    longitudinal files that run spans many periods, so the extract holds several rows per
    person: a person × period table for each agency."""
    asked = agency.asked(longitudinal)
    covered: set[int] | None = None
    for name in asked:
        entry = next((v for v in catalog if v["agency"] == agency.code
                      and v["variable"] == name), None)
        if entry is None:
            raise ValueError(f"the catalog has no {agency.code} variable {name!r}")
        covered = set(entry["years"]) if covered is None else covered & set(entry["years"])
    best: tuple[int, int] | None = None
    for year in sorted(covered or ()):
        if year - 1 in (covered or ()):
            continue
        end = year
        while end + 1 in (covered or ()):
            end += 1
        if best is None or end - year > best[1] - best[0]:
            best = (year, end)
    if best is None:
        raise ValueError(f"no year in which {agency.code} has all of {', '.join(asked)}")
    return best


def agreement(today: dt.date, term_days: int, catalog: list[dict[str, Any]],
              longitudinal: bool = False) -> dict[str, Any]:
    """The research request: a data sharing agreement asking all three agencies for the
    years the catalog covers."""
    researcher = next(p for p in PEOPLE if p.key == "researcher")
    years = {a.code: years_asked(a, catalog, longitudinal) for a in AGENCIES}
    return {
        "title": "Pathways from school to college and work",
        "institution": INSTITUTION,
        "research_questions": [
            "How do test scores in school relate to college degrees and to later earnings?",
        ],
        "public_summary": "Links school, college and wage records to study how students "
                          "move into college and work, without names leaving any agency.",
        "scope_and_deliverables": "Aggregate tables and a report on transitions.",
        "allowable_uses": ["statistical analysis", "published aggregate tables"],
        "variables": [
            {"agency": a.code, "variables": list(a.asked(longitudinal)),
             "first_year": years[a.code][0],
             "last_year": years[a.code][1]} for a in AGENCIES
        ],
        "cohort_description": "Every record the three agencies hold for the years asked.",
        "personnel": [{"name": researcher.name, "role": "PI", "institution": INSTITUTION,
                       "email": researcher.email}],
        "agency_contacts": [{"agency": a.code, "name": f"{a.code} data steward",
                             "email": f"steward@{a.slug}.example"} for a in AGENCIES],
        "security_plan": "Encrypted laptop, no copies, results checked before release.",
        "term_start": today.isoformat(),
        "term_end": (today + dt.timedelta(days=term_days)).isoformat(),
        "refresh_frequency": "once",
        "matching_authorised": True,
        "disposition": "destroy",
        "interim_findings_plan": "Shared with the agencies before publication.",
        "irb": {"status": "exempt", "board": "Policy Lab review board",
                "protocol_number": "PL-2026-001", "approval_date": today.isoformat()},
    }
