"""The true synthetic population: one state's residents, before any agency records them.

Every attribute is a numpy array with one entry per person (``truth_id`` is the index).
Random draws that belong to a *family* rather than a person (whether the children school
in-state, which year of their schooling the K-12 extract catches) are copied to twins, so
twins sit in the same grade of the same school, as they do.

Rates (documented in ``docs/synthetic-data.md``):

- birth years uniform over 1950–2019; 12% of people draw Hispanic names (Faker ``es_MX``,
  accented), 1% of the others an accented given name (Zoë, André);
- 85% have a middle name; 4% of men a generational suffix (Jr, II, III, IV);
- 20% of Hispanic and 2% of other surnames are double (``García-López``, ``Smith Jones``);
- 55% of women change surname at marriage, at an age ~ N(28, 5); 10% of them hyphenate;
- 1% of people are twins (pairs share surname, birth date and childhood address; their
  given names differ; their SSNs are consecutive, as SSA enumeration at birth assigns);
- three addresses per person: childhood (slot 0) and two later ones; each move leaves
  town with probability 0.65, else moves within the same town.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fedlink.synth.corrupt import join
from fedlink.synth.vocab import Vocabulary

BIRTH_YEARS = (1950, 2019)
HISPANIC_SHARE = 0.12
ACCENTED_GIVEN_SHARE = 0.01
MIDDLE_NAME_SHARE = 0.85
SUFFIX_SHARE_MEN = 0.04
DOUBLE_SURNAME_SHARE = {"mx": 0.20, "us": 0.02}
NAME_CHANGE_AT_MARRIAGE = 0.55
TWIN_SHARE = 0.01
ADDRESS_SLOTS = 3
MOVE_OUT_OF_TOWN = 0.65
UNIT_SHARE = 0.15
SUFFIX_CODES = np.array(["", "Jr", "II", "III", "IV"], dtype=object)
SUFFIX_P = np.array([0.0, 0.75, 0.10, 0.12, 0.03])


@dataclass
class Population:
    """The truth. Names are title case; ``middle``/``suffix``/``married_last`` use ``""``
    for none; addresses are ``(people, ADDRESS_SLOTS)`` arrays of vocabulary indices."""

    sex: np.ndarray  # 1 male, 2 female
    given: np.ndarray  # index into Vocabulary.given
    middle: np.ndarray  # index into Vocabulary.given, -1 = none
    last: np.ndarray  # str
    suffix: np.ndarray  # str
    dob: np.ndarray  # datetime64[D]
    ssn: np.ndarray  # int64, valid and unique
    married_last: np.ndarray  # str, "" = never changes surname
    marriage_age: np.ndarray  # float, inf = never
    house: np.ndarray
    street: np.ndarray
    unit: np.ndarray  # 0 = no unit
    city: np.ndarray
    zip5: np.ndarray
    zip4: np.ndarray
    twin_of: np.ndarray  # truth id of the other twin, -1 = not a twin
    family_u: np.ndarray  # (people, 4) uniform draws shared by twins

    @property
    def size(self) -> int:
        """Number of people."""
        return len(self.sex)

    @property
    def birth_year(self) -> np.ndarray:
        """Year of birth (int)."""
        return self.dob.astype("datetime64[Y]").astype(np.int64) + 1970

    @property
    def birth_month(self) -> np.ndarray:
        """Month of birth, 1–12."""
        return self.dob.astype("datetime64[M]").astype(np.int64) % 12 + 1


def _given(
    rng: np.random.Generator,
    vocab: Vocabulary,
    sex: np.ndarray,
    pool: np.ndarray,
) -> np.ndarray:
    out = np.empty(len(sex), dtype=np.int64)
    for s in (1, 2):
        for name in ("us", "mx", "accented"):
            mask = (sex == s) & (pool == name)
            ids, p = vocab.given_pools[(s, name)]
            out[mask] = rng.choice(ids, size=int(mask.sum()), p=p)
    return out


def _surnames(rng: np.random.Generator, vocab: Vocabulary, hispanic: np.ndarray) -> np.ndarray:
    n = len(hispanic)
    names, p = vocab.surname_us
    out = rng.choice(names, size=n, p=p).astype(object)
    out[hispanic] = rng.choice(vocab.surname_mx, size=int(hispanic.sum()))
    double = np.where(
        hispanic,
        rng.random(n) < DOUBLE_SURNAME_SHARE["mx"],
        rng.random(n) < DOUBLE_SURNAME_SHARE["us"],
    )
    second = rng.choice(names, size=n, p=p).astype(object)
    second[hispanic] = rng.choice(vocab.surname_mx, size=int(hispanic.sum()))
    # Spanish double surnames are usually hyphenated in US records, sometimes spaced.
    sep = np.where(rng.random(n) < 0.7, "-", " ").astype(object)
    out[double] = join(out[double], sep[double], second[double])
    return out


def _draw_ssn(rng: np.random.Generator, n: int) -> np.ndarray:
    area = rng.integers(1, 900, n)
    area[area == 666] = 665  # never issued
    return area * 1_000_000 + rng.integers(1, 100, n) * 10_000 + rng.integers(1, 10_000, n)


def _unique_ssns(rng: np.random.Generator, ssn: np.ndarray, protected: np.ndarray) -> None:
    """Redraw duplicates in place, keeping protected rows (twins' consecutive numbers)."""
    while True:
        order = np.lexsort((~protected, ssn))
        sorted_ssn = ssn[order]
        dup = np.zeros(len(ssn), dtype=bool)
        dup[1:] = sorted_ssn[1:] == sorted_ssn[:-1]
        redo = order[dup]
        if redo.size == 0:
            return
        ssn[redo] = _draw_ssn(rng, redo.size)


def _addresses(rng: np.random.Generator, vocab: Vocabulary, n: int) -> dict[str, np.ndarray]:
    shape = (n, ADDRESS_SLOTS)
    city = np.empty(shape, dtype=np.int64)
    city[:, 0] = rng.choice(len(vocab.city), size=n, p=vocab.city_p)
    for slot in range(1, ADDRESS_SLOTS):
        leaves = rng.random(n) < MOVE_OUT_OF_TOWN
        city[:, slot] = np.where(
            leaves, rng.choice(len(vocab.city), size=n, p=vocab.city_p), city[:, slot - 1]
        )
    zip_pick = (rng.random(shape) * vocab.city_zip_count[city]).astype(np.int64)
    units = rng.integers(1, 400, shape)
    return {
        # House numbers from 1 to ~20000, small ones commoner (log-uniform).
        "house": (10 ** rng.uniform(0.3, 4.3, shape)).astype(np.int64),
        "street": rng.integers(0, len(vocab.street_name), shape),
        "unit": np.where(rng.random(shape) < UNIT_SHARE, units, 0),
        "city": city,
        "zip5": vocab.zips[vocab.city_zip_start[city] + zip_pick],
        "zip4": rng.integers(1, 10_000, shape),
    }


def _pick_other_given(
    rng: np.random.Generator,
    vocab: Vocabulary,
    sex: np.ndarray,
    pool: np.ndarray,
    avoid: np.ndarray,
) -> np.ndarray:
    """Given names for ``sex``/``pool`` that differ from ``avoid`` (redraw until they do)."""
    out = _given(rng, vocab, sex, pool)
    clash = out == avoid
    while clash.any():
        out[clash] = _given(rng, vocab, sex[clash], pool[clash])
        clash = out == avoid
    return out


def _make_twins(
    rng: np.random.Generator, vocab: Vocabulary, pop: dict[str, np.ndarray], pool: np.ndarray
) -> None:
    n = len(pop["sex"])
    pairs = round(n * TWIN_SHARE / 2)
    chosen = rng.permutation(n)[: 2 * pairs]
    a, b = chosen[:pairs], chosen[pairs:]
    for key in ("last", "dob", "family_u"):
        pop[key][b] = pop[key][a]
    for key in ("house", "street", "unit", "city", "zip5", "zip4"):
        pop[key][b, 0] = pop[key][a, 0]
    pool[b] = pool[a]
    # About two thirds of twin pairs are same-sex.
    pop["sex"][b] = np.where(rng.random(pairs) < 2 / 3, pop["sex"][a], 3 - pop["sex"][a])
    pop["given"][b] = _pick_other_given(rng, vocab, pop["sex"][b], pool[b], pop["given"][a])
    has_middle = pop["middle"][b] >= 0
    pop["middle"][b] = np.where(
        has_middle,
        _pick_other_given(rng, vocab, pop["sex"][b], pool[b], pop["middle"][a]),
        -1,
    )
    pop["suffix"][a] = ""
    pop["suffix"][b] = ""
    pop["twin_of"][a], pop["twin_of"][b] = b, a


def make_population(people: int, rng: np.random.Generator, vocab: Vocabulary) -> Population:
    """Draw ``people`` residents (see the module docstring for the rates)."""
    n = people
    sex = rng.integers(1, 3, n)
    first_year, last_year = BIRTH_YEARS
    year = rng.integers(first_year, last_year + 1, n)
    year_start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    days = (year + 1 - 1970).astype("datetime64[Y]").astype("datetime64[D]") - year_start
    dob = year_start + (rng.random(n) * days.astype(np.int64)).astype(np.int64)

    hispanic = rng.random(n) < HISPANIC_SHARE
    pool = np.where(hispanic, np.where(rng.random(n) < 0.6, "mx", "us"), "us").astype(object)
    pool[~hispanic & (rng.random(n) < ACCENTED_GIVEN_SHARE)] = "accented"
    given = _given(rng, vocab, sex, pool)
    middle = _pick_other_given(rng, vocab, sex, np.where(pool == "mx", "mx", "us"), given)
    middle[rng.random(n) >= MIDDLE_NAME_SHARE] = -1
    suffix = np.where(
        (sex == 1) & (rng.random(n) < SUFFIX_SHARE_MEN),
        rng.choice(SUFFIX_CODES, size=n, p=SUFFIX_P),
        "",
    ).astype(object)

    pop: dict[str, np.ndarray] = {
        "sex": sex, "given": given, "middle": middle, "suffix": suffix, "dob": dob,
        "last": _surnames(rng, vocab, hispanic), "twin_of": np.full(n, -1, dtype=np.int64),
        "family_u": rng.random((n, 4)), **_addresses(rng, vocab, n),
    }  # fmt: skip
    _make_twins(rng, vocab, pop, pool)

    ssn = _draw_ssn(rng, n)
    twins_a = np.flatnonzero(pop["twin_of"] >= 0)
    twins_a = twins_a[twins_a < pop["twin_of"][twins_a]]
    twins_b = pop["twin_of"][twins_a]
    serial = ssn[twins_a] % 10_000
    ssn[twins_b] = ssn[twins_a] + np.where(serial < 9999, 1, -1)
    _unique_ssns(rng, ssn, pop["twin_of"] >= 0)

    female = sex == 2
    changes = female & (rng.random(n) < NAME_CHANGE_AT_MARRIAGE)
    marriage_age = np.where(changes, np.clip(rng.normal(28, 5, n), 18, 60), np.inf)
    spouse = _surnames(rng, vocab, rng.random(n) < HISPANIC_SHARE)
    hyphenate = rng.random(n) < 0.10
    married_last = np.where(
        changes, np.where(hyphenate, join(pop["last"], "-", spouse), spouse), ""
    ).astype(object)
    return Population(ssn=ssn, married_last=married_last, marriage_age=marriage_age, **pop)
