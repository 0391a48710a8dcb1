"""Factories of the linkage tests: people, agency copies with errors, token tables.

Token tables are made with the node's real code (``normalize_identity`` →
``encode_batch``) under fixed keys, so the engine is tested on exactly what a node sends.
The EM needs a population to learn from, so the hand-made cases of each test are linked
inside a small deterministic background population (:func:`population`).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from typing import Any

import pyarrow as pa
import pytest

from protocol.encoding import encode_batch
from protocol.keys import derive_project_keys, pseudonymous_id
from protocol.normalize import normalize_identity

KEYS = derive_project_keys(b"F" * 32, b"S" * 32, project_id="P-test", project_digest="ab" * 32)
NODE_KEY = b"N" * 32
PROJECT = "test-project"

FIRST = [
    "JAMES", "MARY", "ROBERT", "PATRICIA", "JOHN", "JENNIFER", "MICHAEL", "LINDA", "DAVID",
    "ELIZABETH", "RICHARD", "BARBARA", "JOSEPH", "SUSAN", "THOMAS", "JESSICA", "CHARLES",
    "SARAH", "CHRISTOPHER", "KAREN", "DANIEL", "LISA", "MATTHEW", "NANCY", "ANTHONY", "BETTY",
    "MARK", "SANDRA", "DONALD", "MARGARET", "STEVEN", "ASHLEY", "PAUL", "KIMBERLY", "ANDREW",
    "EMILY", "JOSHUA", "DONNA", "KENNETH", "MICHELLE", "KEVIN", "CAROL", "BRIAN", "AMANDA",
    "GEORGE", "MELISSA", "TIMOTHY", "DEBORAH", "RONALD", "STEPHANIE", "EDWARD", "REBECCA",
    "JASON", "SHARON", "JEFFREY", "LAURA", "RYAN", "CYNTHIA", "JACOB", "KATHLEEN", "GARY",
    "AMY",
]
LAST = [
    "SMITH", "JOHNSON", "WILLIAMS", "BROWN", "JONES", "GARCIA", "MILLER", "DAVIS", "RODRIGUEZ",
    "MARTINEZ", "HERNANDEZ", "LOPEZ", "GONZALEZ", "WILSON", "ANDERSON", "THOMAS", "TAYLOR",
    "MOORE", "JACKSON", "MARTIN", "LEE", "PEREZ", "THOMPSON", "WHITE", "HARRIS", "SANCHEZ",
    "CLARK", "RAMIREZ", "LEWIS", "ROBINSON", "WALKER", "YOUNG", "ALLEN", "KING", "WRIGHT",
    "SCOTT", "TORRES", "NGUYEN", "HILL", "FLORES", "GREEN", "ADAMS", "NELSON", "BAKER", "HALL",
    "RIVERA", "CAMPBELL", "MITCHELL", "CARTER", "ROBERTS", "GOMEZ", "PHILLIPS", "EVANS",
    "TURNER", "DIAZ", "PARKER", "CRUZ", "EDWARDS", "COLLINS", "REYES", "STEWART", "MORRIS",
    "MORALES",
]
STREETS = [
    "MAIN", "OAK", "PINE", "MAPLE", "CEDAR", "ELM", "WASHINGTON", "LAKE", "HILL", "PARK",
    "VIEW", "RIDGE",
]
KINDS = ["ST", "AVE", "RD", "LN", "DR", "CT"]


def person(rng: random.Random, i: int) -> dict[str, str]:
    """One synthetic person: canonical identity fields plus ``truth_id``."""
    sex = rng.choice("MF")
    return {
        "truth_id": f"P{i}",
        "first_name": rng.choice(FIRST),
        "last_name": rng.choice(LAST),
        "dob": f"{rng.randint(1990, 2008)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "sex": sex,
        "ssn": f"{rng.randint(100, 665):03d}-{rng.randint(10, 99):02d}-{rng.randint(1000, 9999)}",
        "street_address": f"{rng.randint(1, 9999)} {rng.choice(STREETS)} {rng.choice(KINDS)}",
        "city": "RICHMOND",
        "postal_code": f"{rng.randint(22000, 24600)}",
    }


def typo(rng: random.Random, text: str) -> str:
    """One adjacent transposition inside the word (keeps the first letter)."""
    if len(text) < 4:
        return text
    i = rng.randint(1, len(text) - 2)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def copy_with_errors(rng: random.Random, p: Mapping[str, str], rate: float) -> dict[str, str]:
    """An agency's record of ``p``: occasional typos, moves and missing SSNs."""
    r = dict(p)
    if rng.random() < rate:
        r["first_name"] = typo(rng, r["first_name"])
    if rng.random() < rate:
        r["last_name"] = typo(rng, r["last_name"])
    if rng.random() < 0.2:
        r["street_address"] = f"{rng.randint(1, 9999)} {rng.choice(STREETS)} {rng.choice(KINDS)}"
        r["postal_code"] = f"{rng.randint(22000, 24600)}"
    if rng.random() < 0.3:
        r["ssn"] = ""
    return r


def population(
    n_people: int = 500, seed: int = 7, rate: float = 0.03
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Two agencies' records of one population: each holds about 70 % of the people."""
    rng = random.Random(seed)
    people = [person(rng, i) for i in range(n_people)]
    a, b = [], []
    for p in people:
        if rng.random() < 0.7:
            a.append(copy_with_errors(rng, p, rate))
        if rng.random() < 0.7:
            b.append(copy_with_errors(rng, p, rate))
    return a, b


def make_token_table(records: Iterable[Mapping[str, Any]], prefix: str = "R") -> pa.Table:
    """Normalise and encode ``records`` as a node would; pid from ``record_id`` (or the
    row number)."""
    rows = []
    for i, record in enumerate(records):
        record_id = str(record.get("record_id") or f"{prefix}{i}")
        pid = pseudonymous_id(NODE_KEY, PROJECT, record_id)
        rows.append((pid, normalize_identity(record)))
    return pa.Table.from_batches([encode_batch(rows, KEYS)])


def make_pid(record_id: str) -> str:
    return pseudonymous_id(NODE_KEY, PROJECT, record_id)


@pytest.fixture
def token_table():
    """Factory: records (dicts of canonical fields) → token table, as a node sends it."""
    return make_token_table


@pytest.fixture
def pid_of():
    """Factory: record_id → the pid the test node issues for it."""
    return make_pid


@pytest.fixture
def linkage_population():
    """Factory: ``(records_a, records_b)`` with ``record_id`` set, plus extra cases."""

    def make(extra_a=(), extra_b=(), **kwargs):
        a, b = population(**kwargs)
        a = [dict(r, record_id=f"A{i}") for i, r in enumerate(a)] + list(extra_a)
        b = [dict(r, record_id=f"B{i}") for i, r in enumerate(b)] + list(extra_b)
        return a, b

    return make
