"""Vocabularies the synthetic population is drawn from.

Names come from Faker's provider *data* (not its per-record API, which is far too slow for
a million people): the ``en_US`` given names and surnames carry US Census/SSA frequency
weights; the ``es_MX`` lists (uniform weights) supply accented Hispanic given names
(José, María José) and surnames (Núñez, de la Rosa). A short list of accented given names
that US records really hold (Zoë, Renée, André) is added so accents are not only Spanish.
Streets, cities, ZIP codes and schools are built once from the same data with a fixed seed:
the "state" is the same whatever seed a run uses; the run's seed only decides who lives
where. Everything is cached: :func:`vocabulary` is cheap after its first call.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
from faker.providers.address.en_US import Provider as AddressProvider
from faker.providers.person.en_US import Provider as UsPersonProvider
from faker.providers.person.es_MX import Provider as MxPersonProvider
from nicknames import NickNamer

#: The vocabulary's own seed: the state's streets and towns do not change between runs.
_VOCAB_SEED = 20_040_307

#: Accented given names seen in US records beyond the Spanish ones: (name, sex 1=M/2=F).
ACCENTED_GIVEN_NAMES: tuple[tuple[str, int], ...] = (
    ("Zoë", 2), ("Chloë", 2), ("Renée", 2), ("Noémie", 2), ("Anaïs", 2), ("Inès", 2),
    ("Zoé", 2), ("Chloé", 2), ("Héloïse", 2), ("Noël", 1), ("André", 1), ("René", 1),
    ("Jérôme", 1), ("Björn", 1), ("Jürgen", 1), ("François", 1),
)  # fmt: skip

#: USPS Publication 28 C1 abbreviations for the street suffixes used, with a relative
#: frequency (Street, Road and Drive dominate real address lists). Only suffixes that are
#: also in Faker's ``street_suffixes`` are used.
STREET_SUFFIXES: dict[str, tuple[str, float]] = {
    "Street": ("ST", 20), "Road": ("RD", 15), "Drive": ("DR", 15), "Avenue": ("AVE", 10),
    "Lane": ("LN", 10), "Court": ("CT", 8), "Way": ("WAY", 5), "Place": ("PL", 4),
    "Circle": ("CIR", 4), "Trail": ("TRL", 3), "Terrace": ("TER", 2), "Boulevard": ("BLVD", 2),
    "Ridge": ("RDG", 1), "Parkway": ("PKWY", 1), "Crossing": ("XING", 1), "Hill": ("HL", 1),
    "Landing": ("LNDG", 1), "Run": ("RUN", 1), "Square": ("SQ", 0.5), "Highway": ("HWY", 0.5),
}  # fmt: skip

#: Town-name prefixes: Faker's, plus the ones agencies abbreviate (Mount/Mt., Fort/Ft.).
CITY_PREFIXES: tuple[str, ...] = (*AddressProvider.city_prefixes, "Mount", "Fort", "Saint")

N_STREETS = 4000
N_CITIES = 320
#: Virginia's ZIP range (Faker's ``states_postcode['VA']``).
ZIP_RANGE: tuple[int, int] = AddressProvider.states_postcode["VA"]


@dataclass(frozen=True)
class Vocabulary:
    """Arrays the generator samples indices into. Names are stored as Python ``str`` in
    ``object`` arrays so fancy indexing yields ready-to-write values."""

    given: np.ndarray  # every given name (title case, may be accented)
    given_pools: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]  # (sex, pool) → (idx, p)
    nick_start: np.ndarray  # per given name: offset into nick_flat
    nick_count: np.ndarray  # per given name: number of nicknames (0 = none)
    nick_flat: np.ndarray  # nicknames, title case
    surname_us: tuple[np.ndarray, np.ndarray]  # (names, p)
    surname_mx: np.ndarray  # uniform
    street_name: np.ndarray  # "Jefferson" (without suffix)
    street_suffix: np.ndarray  # index into suffix_full/suffix_abbr per street
    suffix_full: np.ndarray
    suffix_abbr: np.ndarray
    city: np.ndarray
    city_p: np.ndarray
    city_zip_start: np.ndarray  # per city: offset into zips
    city_zip_count: np.ndarray
    zips: np.ndarray  # int
    school_elementary: np.ndarray  # (N_CITIES, 2) names
    school_middle: np.ndarray  # (N_CITIES,)
    school_high: np.ndarray  # (N_CITIES,)


def _weighted(mapping: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    names = np.array(list(mapping), dtype=object)
    weights = np.array(list(mapping.values()), dtype=float)
    return names, weights / weights.sum()


def _clean(name: str) -> str:
    return " ".join(name.split())


def _nicknames(given: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    namer = NickNamer()
    start = np.zeros(len(given), dtype=np.int64)
    count = np.zeros(len(given), dtype=np.int64)
    flat: list[str] = []
    for i, name in enumerate(given):
        nicks = sorted(
            n.title()
            for n in namer.nicknames_of(name.lower())
            if n.isalpha() and len(n) >= 2 and n != name.lower()
        )
        start[i], count[i] = len(flat), len(nicks)
        flat.extend(nicks)
    return start, count, np.array(flat, dtype=object)


def _given_names() -> tuple[np.ndarray, dict[tuple[int, str], tuple[np.ndarray, np.ndarray]]]:
    names: list[str] = []
    index: dict[str, int] = {}

    def ids(seq: list[str]) -> np.ndarray:
        for name in seq:
            if name not in index:
                index[name] = len(names)
                names.append(name)
        return np.array([index[n] for n in seq], dtype=np.int64)

    pools: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = {}
    for sex, us, mx in (
        (1, UsPersonProvider.first_names_male, MxPersonProvider.first_names_male),
        (2, UsPersonProvider.first_names_female, MxPersonProvider.first_names_female),
    ):
        us_names, us_p = _weighted(dict(us))
        pools[(sex, "us")] = (ids(list(us_names)), us_p)
        mx_names = sorted({_clean(n) for n in mx})
        pools[(sex, "mx")] = (ids(mx_names), np.full(len(mx_names), 1 / len(mx_names)))
        extra = [n for n, s in ACCENTED_GIVEN_NAMES if s == sex]
        pools[(sex, "accented")] = (ids(extra), np.full(len(extra), 1 / len(extra)))
    return np.array(names, dtype=object), pools


def _cities(rng: np.random.Generator) -> np.ndarray:
    first = list(UsPersonProvider.first_names)
    last = list(UsPersonProvider.last_names)
    suffixes = AddressProvider.city_suffixes
    seen: set[str] = set()
    cities: list[str] = []
    while len(cities) < N_CITIES:
        form = rng.integers(4)
        if form == 0:
            name = f"{rng.choice(CITY_PREFIXES)} {rng.choice(first)}{rng.choice(suffixes)}"
        elif form == 1:
            name = f"{rng.choice(CITY_PREFIXES)} {rng.choice(last)}"
        elif form == 2:
            name = f"{rng.choice(first)}{rng.choice(suffixes)}"
        else:
            name = f"{rng.choice(last)}{rng.choice(suffixes)}"
        if name not in seen:
            seen.add(name)
            cities.append(name)
    return np.array(cities, dtype=object)


def _zips(rng: np.random.Generator, city_p: np.ndarray) -> tuple[np.ndarray, ...]:
    lo, hi = ZIP_RANGE
    pool = rng.permutation(np.arange(lo, hi + 1))
    # Bigger towns have more ZIP codes; every town has at least one.
    count = np.clip(np.round(city_p * 0.45 * len(pool)), 1, 40).astype(np.int64)
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    return start, count, pool[: count.sum()]


@functools.cache
def vocabulary() -> Vocabulary:
    """The vocabularies, built once per process (deterministic)."""
    rng = np.random.default_rng(_VOCAB_SEED)
    given, pools = _given_names()
    nick_start, nick_count, nick_flat = _nicknames(given)

    surname_us = _weighted(dict(UsPersonProvider.last_names))
    surname_mx = np.array(sorted({_clean(n) for n in MxPersonProvider.last_names}), dtype=object)

    suffixes = [s for s in STREET_SUFFIXES if s in AddressProvider.street_suffixes]
    suffix_p = np.array([STREET_SUFFIXES[s][1] for s in suffixes])
    stems = np.concatenate(
        (
            rng.choice(surname_us[0], size=N_STREETS * 7 // 10, p=surname_us[1]),
            rng.choice(np.array(list(UsPersonProvider.first_names)), size=N_STREETS * 3 // 10),
        )
    ).astype(object)
    street_suffix = rng.choice(len(suffixes), size=len(stems), p=suffix_p / suffix_p.sum())

    city = _cities(rng)
    ranks = np.arange(1, N_CITIES + 1)
    city_p = 1.0 / ranks  # Zipf: a few cities hold much of the population
    city_p /= city_p.sum()
    zip_start, zip_count, zips = _zips(rng, city_p)

    school_stems = rng.choice(surname_us[0], size=(N_CITIES, 2), p=surname_us[1])
    elementary = np.char.add(school_stems.astype(str), " Elementary School").astype(object)
    return Vocabulary(
        given=given,
        given_pools=pools,
        nick_start=nick_start,
        nick_count=nick_count,
        nick_flat=nick_flat,
        surname_us=surname_us,
        surname_mx=surname_mx,
        street_name=stems,
        street_suffix=street_suffix,
        suffix_full=np.array(suffixes, dtype=object),
        suffix_abbr=np.array([STREET_SUFFIXES[s][0].title() for s in suffixes], dtype=object),
        city=city,
        city_p=city_p,
        city_zip_start=zip_start,
        city_zip_count=zip_count,
        zips=zips,
        school_elementary=elementary,
        school_middle=(city + " Middle School").astype(object),
        school_high=(city + " High School").astype(object),
    )
