"""Assembling a linked extract from a finished run: pure functions, no I/O.

1. :func:`plan_persons` — each cluster of the run (a person) that the extract releases gets
   a fresh random *project person id* (:func:`new_person_id`: 16 bytes from
   :mod:`secrets`, base32). It is never derived from a pid, a cluster id or anything else,
   so two extracts — of two projects, or two refreshes of one — give the same people
   unrelated ids, and only the hub's in-memory plan maps pids to them while the extract is
   built (the plan is not stored: pids stay hub-internal).
2. :func:`extract_requests` — per agency, the pairs (pid → person id) and the approved
   variables and years, in requests of at most :data:`protocol.wire.MAX_ASSIGNMENTS`.
3. :mod:`hub.extracts.payloads` checks and opens what each node sends back.
4. :func:`persons_table`, :func:`links_table` and :func:`apply_disclosure` — the tidy tables
   keyed by person id, with disclosure control applied to declared quasi-identifiers.
   Rows are ordered by person id (then period), so row order says nothing about pids or
   clusters. An agency table may be person × period (several rows per person, a
   ``period`` column): disclosure control then counts persons, not rows.
"""

from __future__ import annotations

import base64
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from hub.disclosure.kanon import KAnonymityResult, Policy, k_anonymise
from hub.errors import ExtractBuildError
from hub.extracts.periods import is_longitudinal
from protocol.wire import MAX_ASSIGNMENTS, ExtractRequest, ExtractTermsOptions

PERSON_ID_BYTES = 16


def new_person_id() -> str:
    """26 lowercase base32 characters of fresh randomness (128 bits)."""
    return base64.b32encode(secrets.token_bytes(PERSON_ID_BYTES)).decode("ascii").rstrip(
        "=").lower()


@dataclass(frozen=True)
class PersonPlan:
    """Which person id each (agency, pid) released gets; hub memory only."""

    person_of: dict[tuple[str, str], str]
    agencies_of: dict[str, tuple[str, ...]]

    def assignments(self, agency: str) -> list[tuple[str, str]]:
        return sorted((pid, person) for (a, pid), person in self.person_of.items()
                      if a == agency)

    @property
    def persons(self) -> list[str]:
        return sorted(self.agencies_of)


def plan_persons(clusters: Iterable[tuple[str, str, int]], *, agencies: Iterable[str],
                 include_unmatched: bool, deduplicated: Iterable[str] = ()) -> PersonPlan:
    """Person ids for the clusters (``agency, pid, cluster_id`` rows) of ``agencies`` —
    clusters of two or more agencies only, or the others too when ``include_unmatched``.

    A cluster may hold several pids of an agency the run deduplicated (``deduplicated``,
    the run's record of it): they are one person with duplicate ids, and all get the
    cluster's person id, so that agency's node answers each one's rows under it. Two pids
    of an agency the run linked one-to-one in one cluster cannot happen in a sound run:
    ``run_inconsistent``."""
    wanted = set(agencies)
    duplicates_allowed = set(deduplicated)
    members: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for agency, pid, cluster in clusters:
        if agency in wanted:
            members[int(cluster)].append((agency, pid))
    person_of: dict[tuple[str, str], str] = {}
    agencies_of: dict[str, tuple[str, ...]] = {}
    for cluster in sorted(members):
        records = members[cluster]
        present = [agency for agency, _ in records]
        repeated = {a for a in present if present.count(a) > 1} - duplicates_allowed
        if repeated:
            raise ExtractBuildError(
                f"cluster {cluster} of the run holds two records of one agency; the run "
                "cannot be released", code="run_inconsistent")
        # Linked means across agencies: one agency's duplicates alone are not a link.
        if len(set(present)) < 2 and not include_unmatched:
            continue
        person = new_person_id()
        while person in agencies_of:  # pragma: no cover - 2**-128
            person = new_person_id()
        agencies_of[person] = tuple(sorted(set(present)))
        for record in records:
            person_of[record] = person
    return PersonPlan(person_of=person_of, agencies_of=agencies_of)


@dataclass(frozen=True)
class AgencyScope:
    variables: tuple[str, ...]
    first_year: int
    last_year: int


def extract_requests(plan: PersonPlan, *, project_id: str, run_id: str,
                     scopes: Mapping[str, AgencyScope], recipient_kid: str,
                     options: ExtractTermsOptions | None = None,
                     chunk: int = MAX_ASSIGNMENTS) -> list[ExtractRequest]:
    """The extract requests to send, per agency in code order, chunked; each declares
    ``options`` (the approved terms' ``extract``), which the node checks."""
    requests = []
    for agency in sorted(scopes):
        scope = scopes[agency]
        pairs = plan.assignments(agency)
        for start in range(0, len(pairs), chunk):
            requests.append(ExtractRequest(
                project_id=project_id, agency=agency, run_id=run_id,
                variables=scope.variables, first_year=scope.first_year,
                last_year=scope.last_year, assignments=tuple(pairs[start:start + chunk]),
                recipient_kid=recipient_kid, extract=options,
            ))
    return requests


def persons_table(plan: PersonPlan, agencies: Iterable[str]) -> pd.DataFrame:
    """``person_id``, ``agencies`` (``;``-joined), ``n_agencies`` and one ``in_<AGENCY>``
    flag per agency."""
    codes = sorted(agencies)
    persons = plan.persons
    frame = pd.DataFrame({
        "person_id": persons,
        "agencies": [";".join(plan.agencies_of[p]) for p in persons],
        "n_agencies": [len(plan.agencies_of[p]) for p in persons],
    })
    for code in codes:
        frame[f"in_{code}"] = [code in plan.agencies_of[p] for p in persons]
    return frame


#: The coarse match bands a released link carries instead of its weight (docs/extracts.md,
#: "Match bands"): ``(label, lowest posterior probability)``, best first. An exact float
#: weight is close to unique per link, so the hub (which keeps weights while a project
#: lives) could join it back to its pid-level link table; four bands are shared by many links.
MATCH_BANDS: tuple[tuple[str, float], ...] = (
    ("very_high", 0.99), ("high", 0.95), ("medium", 0.80), ("low", 0.0))


def match_band(probability: float) -> str:
    """The band of a link's posterior match probability (a NaN falls in ``low``)."""
    for label, lowest in MATCH_BANDS:
        if probability >= lowest:
            return label
    return MATCH_BANDS[-1][0]


def links_table(links: Iterable[tuple[str, str, str, str, float, float]],
                plan: PersonPlan) -> pd.DataFrame:
    """One row per accepted link inside a released person: ``person_id``, ``agency_a``,
    ``agency_b``, ``match_band`` (:func:`match_band`). Pids, the exact weight and the exact
    probability are dropped: nothing in the row can be joined back to the hub's links."""
    rows = []
    for agency_a, pid_a, agency_b, pid_b, _weight, probability in links:
        person_a = plan.person_of.get((agency_a, pid_a))
        if person_a is not None and person_a == plan.person_of.get((agency_b, pid_b)):
            first, second = sorted((agency_a, agency_b))
            rows.append((person_a, first, second, match_band(float(probability))))
    frame = pd.DataFrame(rows, columns=["person_id", "agency_a", "agency_b", "match_band"])
    return frame.sort_values(["person_id", "agency_a", "agency_b"], ignore_index=True)


def apply_disclosure(tables: Mapping[str, pd.DataFrame], *,
                     quasi_identifiers: Mapping[str, list[str]],
                     types: Mapping[str, Mapping[str, str]], k: int,
                     policy: Policy) -> tuple[dict[str, pd.DataFrame], KAnonymityResult | None]:
    """k-anonymity over every agency's declared quasi-identifiers *joined on person id*
    (a researcher can join them too); returns the tables with the released values and the
    result (``None`` when no quasi-identifier is released). Column ``AGENCY.variable``
    names a QI in the result.

    When every table holding QIs has one row per person this is one row per person, as it
    always was. When some are person × period (:func:`hub.extracts.periods.is_longitudinal`)
    see :func:`_longitudinal_disclosure`: classes are then counted in distinct persons."""
    person_level = {a: list(n) for a, n in quasi_identifiers.items()
                    if n and not is_longitudinal(tables[a])}
    long_level = {a: list(n) for a, n in quasi_identifiers.items()
                  if n and is_longitudinal(tables[a])}
    if long_level:
        return _longitudinal_disclosure(tables, person_level=person_level,
                                        long_level=long_level, types=types, k=k,
                                        policy=policy)
    columns: dict[str, pd.Series] = {}
    qi_types: dict[str, str] = {}
    for agency, names in quasi_identifiers.items():
        table = tables[agency].set_index("person_id")
        for name in names:
            columns[f"{agency}.{name}"] = table[name]
            qi_types[f"{agency}.{name}"] = types[agency][name]
    if not columns:
        return dict(tables), None
    joined = pd.concat(columns, axis=1, join="outer").sort_index()
    result = k_anonymise(joined, types=qi_types, k=k, policy=policy)
    if result.blocked:
        return dict(tables), result
    released = {}
    for agency, table in tables.items():
        table = table.copy()
        for name in quasi_identifiers.get(agency, []):
            values = result.values(f"{agency}.{name}")
            table[name] = table["person_id"].map(values).to_numpy()
            if result.variables[f"{agency}.{name}"].level:
                table[name] = table[name].astype("string")
        released[agency] = table
    return released, result


def _objects(values: pd.Series) -> list[object]:
    """Python values, ``None`` for missing (one column may mix agencies' rows)."""
    return [None if pd.isna(v) else v for v in values.astype(object)]


def _longitudinal_disclosure(
        tables: Mapping[str, pd.DataFrame], *, person_level: Mapping[str, list[str]],
        long_level: Mapping[str, list[str]], types: Mapping[str, Mapping[str, str]], k: int,
        policy: Policy) -> tuple[dict[str, pd.DataFrame], KAnonymityResult]:
    """k-anonymity when some QI tables are person × period (docs/extracts.md,
    "Longitudinal extracts").

    One frame is checked, stacked from: every row of every long table (its own QIs, the
    person's QIs of every one-row-per-person agency joined on, other long tables' QIs
    missing), and one row for each person who is in no long table (the person-level QIs
    only). Each row carries its person id, so a class's size is its number of distinct
    persons; the person-level QIs are ``person_columns`` (one value per person: suppressed
    in all of a person's rows at once). Generalisation is full-domain, one level per QI over
    the whole frame, so every table shows a QI at one level. A long table's cell is released
    as decided for its row; a person-level cell as decided for the person."""
    person_columns = [f"{a}.{n}" for a in sorted(person_level) for n in person_level[a]]
    long_columns = [f"{a}.{n}" for a in sorted(long_level) for n in long_level[a]]
    qi_types = {f"{a}.{n}": types[a][n] for group in (person_level, long_level)
                for a, names in group.items() for n in names}
    persons_index: dict[str, pd.Series] = {}
    for agency in sorted(person_level):
        table = tables[agency].set_index("person_id")
        for name in person_level[agency]:
            persons_index[f"{agency}.{name}"] = table[name]
    by_person = (pd.concat(persons_index, axis=1, join="outer") if persons_index
                 else pd.DataFrame(index=pd.Index([], name="person_id")))
    owners: list[str] = []
    cells: dict[str, list[object]] = {c: [] for c in long_columns}
    spans: dict[str, tuple[int, int]] = {}
    for agency in sorted(long_level):
        table = tables[agency]
        spans[agency] = (len(owners), len(owners) + len(table))
        owners += table["person_id"].tolist()
        for column in long_columns:
            source, name = column.split(".", 1)
            cells[column] += (_objects(table[name]) if source == agency
                              else [None] * len(table))
    in_long = set(owners)
    alone = sorted(p for p in by_person.index if p not in in_long)
    owners += alone
    for column in long_columns:
        cells[column] += [None] * len(alone)
    frame = pd.DataFrame(cells, index=pd.RangeIndex(len(owners)), dtype=object)
    rows_of = by_person.reindex(owners)
    for column in person_columns:
        frame[column] = _objects(rows_of[column]) if len(owners) else []
    frame = frame[[*person_columns, *long_columns]]
    persons = pd.Series(owners, index=frame.index)
    result = k_anonymise(frame, types=qi_types, k=k, policy=policy, persons=persons,
                         person_columns=person_columns)
    if result.blocked:
        return dict(tables), result
    released = {}
    for agency, table in tables.items():
        table = table.copy()
        for name in long_level.get(agency, []):
            first, last = spans[agency]
            values = result.values(f"{agency}.{name}").iloc[first:last]
            table[name] = _released_column(table[name], values, result, f"{agency}.{name}")
        for name in person_level.get(agency, []):
            values = result.values(f"{agency}.{name}")
            # Every row of a person holds the same released value: take the first.
            per_person = pd.Series(values.to_numpy(), index=owners)
            per_person = per_person[~per_person.index.duplicated()]
            mapped = table["person_id"].map(per_person)
            table[name] = _released_column(table[name], mapped, result, f"{agency}.{name}")
        released[agency] = table
    return released, result


def _released_column(original: pd.Series, values: pd.Series, result: KAnonymityResult,
                     column: str) -> pd.Series:
    """The released values in ``original``'s rows: strings when generalised, the original
    column untouched when disclosure control changed nothing in it."""
    outcome = result.variables[column]
    if outcome.level:
        return pd.Series(values.to_numpy(), index=original.index).astype("string")
    if not outcome.cells_suppressed:
        return original
    return pd.Series(values.to_numpy(), index=original.index, dtype=object).infer_objects()
