"""One agency's view of its people's identity fields: formatted its way, with its errors.

:func:`identity_columns` takes the people an agency covers and the year of each record,
and returns the ten canonical identity columns (:data:`protocol.identity.IDENTITY_FIELDS`)
as ``object`` arrays of ``str`` or ``None`` (missing). What differs between agencies is
entirely in their :class:`~fedlink.synth.profiles.AgencyProfile`.
"""

from __future__ import annotations

import numpy as np

from fedlink.synth.corrupt import (
    apply_case,
    chance,
    inject_typos,
    int_str,
    join,
    map_unique,
    replace_digit,
    strip_accents,
    swap_adjacent_digits,
    zero_pad,
)
from fedlink.synth.population import Population
from fedlink.synth.profiles import AgencyProfile
from fedlink.synth.vocab import Vocabulary

_CITY_ABBREVIATIONS = {"Mount ": "Mt. ", "Fort ": "Ft. ", "Saint ": "St. "}


def _abbreviate_city(city: str) -> str:
    for long, short in _CITY_ABBREVIATIONS.items():
        if city.startswith(long):
            return short + city[len(long) :]
    return city


def _names(
    pop: Population,
    vocab: Vocabulary,
    rows: np.ndarray,
    age: np.ndarray,
    p: AgencyProfile,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    n = len(rows)
    given_idx = pop.given[rows]
    first = vocab.given[given_idx].copy()
    counts = vocab.nick_count[given_idx]
    nick = chance(rng, n, p.nickname) & (counts > 0)
    pick = (rng.random(int(nick.sum())) * counts[nick]).astype(np.int64)
    first[nick] = vocab.nick_flat[vocab.nick_start[given_idx[nick]] + pick]

    middle_idx = pop.middle[rows]
    has_middle = middle_idx >= 0
    middle = np.full(n, None, dtype=object)
    middle[has_middle] = vocab.given[middle_idx[has_middle]]
    # People known by their middle name get it recorded as their first name.
    swap = chance(rng, n, p.given_middle_swap) & has_middle
    first[swap], middle[swap] = middle[swap].copy(), first[swap].copy()
    dropped = chance(rng, n, p.middle_missing) & has_middle
    middle[dropped] = None
    initial = chance(rng, n, p.middle_initial_only) & has_middle & ~dropped
    middle[initial] = map_unique(middle[initial], lambda s: s[0])

    married = age >= pop.marriage_age[rows]
    last = np.where(married, pop.married_last[rows], pop.last[rows]).astype(object)
    spaced = chance(rng, n, p.hyphen_to_space)
    last[spaced] = map_unique(last[spaced], lambda s: s.replace("-", " "))

    code = pop.suffix[rows]
    has_suffix = code != ""
    suffix = np.full(n, None, dtype=object)
    suffix[has_suffix] = map_unique(code[has_suffix], p.suffix_spelling.__getitem__)
    has_suffix &= ~chance(rng, n, p.suffix_missing)
    suffix[~has_suffix] = None
    inside = chance(rng, n, p.suffix_in_surname) & has_suffix
    last[inside] = join(last[inside], " ", suffix[inside])
    suffix[inside] = None

    first = inject_typos(first, chance(rng, n, p.given_typo), rng)
    middle = inject_typos(middle, chance(rng, n, p.middle_typo), rng)
    last = inject_typos(last, chance(rng, n, p.surname_typo), rng)
    return {"first_name": first, "middle_name": middle, "last_name": last, "name_suffix": suffix}


def _dob(
    pop: Population, rows: np.ndarray, p: AgencyProfile, rng: np.random.Generator
) -> np.ndarray:
    n = len(rows)
    dob = pop.dob[rows].copy()
    off = chance(rng, n, p.dob_day_off_by_one)
    dob[off] += np.where(rng.random(int(off.sum())) < 0.5, -1, 1).astype("timedelta64[D]")
    year = dob.astype("datetime64[Y]").astype(np.int64) + 1970
    month = dob.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (dob - dob.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    typo = chance(rng, n, p.dob_year_typo)
    year = np.where(typo, year - year % 10 + replace_digit(year % 10, 1, typo, rng), year)
    swap = chance(rng, n, p.dob_day_month_swap) & (day <= 12) & (day != month)
    month, day = np.where(swap, day, month), np.where(swap, month, day)

    key = year * 10_000 + month * 100 + day
    uniques, inverse = np.unique(key, return_inverse=True)
    formats = {
        "iso": "{:04d}-{:02d}-{:02d}",
        "mdy": "{1:02d}/{2:02d}/{0:04d}",
        "compact": "{:04d}{:02d}{:02d}",
    }
    fmt = formats[p.dob_format]
    text = np.array(
        [fmt.format(int(k) // 10_000, int(k) // 100 % 100, int(k) % 100) for k in uniques],
        dtype=object,
    )[inverse]
    text[chance(rng, n, p.dob_missing)] = None
    return text


def _sex(
    pop: Population, rows: np.ndarray, p: AgencyProfile, rng: np.random.Generator
) -> np.ndarray:
    n = len(rows)
    sex = pop.sex[rows]
    sex = np.where(chance(rng, n, p.sex_wrong), 3 - sex, sex)
    male, female = p.sex_codes
    out = np.where(sex == 1, male, female).astype(object)
    out[chance(rng, n, p.sex_unknown)] = p.sex_unknown_code
    return out


def _ssn(
    pop: Population, rows: np.ndarray, p: AgencyProfile, rng: np.random.Generator
) -> np.ndarray:
    n = len(rows)
    if p.ssn_format is None:
        return np.full(n, None, dtype=object)
    ssn = swap_adjacent_digits(pop.ssn[rows], 9, chance(rng, n, p.ssn_transposed), rng)
    ssn = replace_digit(ssn, 9, chance(rng, n, p.ssn_digit_typo), rng)
    if p.ssn_format == "dashed":
        out = join(
            zero_pad(ssn // 1_000_000, 3),
            "-",
            zero_pad(ssn // 10_000 % 100, 2),
            "-",
            zero_pad(ssn % 10_000, 4),
        )
    else:
        out = zero_pad(ssn, 9)
    out[~chance(rng, n, p.ssn_present)] = None
    return out


def _address(
    pop: Population,
    vocab: Vocabulary,
    rows: np.ndarray,
    p: AgencyProfile,
    rng: np.random.Generator,
    slot: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    n = len(rows)
    if slot is None:  # one record per person: which address the agency holds is chance
        slot = rng.choice(len(p.address_slot), size=n, p=p.address_slot)
    street = pop.street[rows, slot]
    suffix_idx = vocab.street_suffix[street]
    suffix = np.where(
        chance(rng, n, p.street_abbreviated),
        vocab.suffix_abbr[suffix_idx],
        vocab.suffix_full[suffix_idx],
    )
    name = inject_typos(vocab.street_name[street], chance(rng, n, p.street_typo), rng)
    address = join(int_str(pop.house[rows, slot]), " ", name, " ", suffix)
    unit = pop.unit[rows, slot]
    unit_fmt = rng.integers(0, len(p.unit_formats), n)
    for k, fmt in enumerate(p.unit_formats):
        mask = (unit > 0) & (unit_fmt == k)
        address[mask] = join(address[mask], " ", map_unique(int_str(unit[mask]), fmt.format))

    city = vocab.city[pop.city[rows, slot]]
    short = chance(rng, n, p.city_abbreviated)
    city[short] = map_unique(city[short], _abbreviate_city)
    city = inject_typos(city, chance(rng, n, p.city_typo), rng)

    postal = zero_pad(pop.zip5[rows, slot], 5)
    plus4 = chance(rng, n, p.zip4)
    bare = plus4 & chance(rng, n, p.zip4_without_dash)
    dashed = plus4 & ~bare
    zip4 = zero_pad(pop.zip4[rows, slot], 4)
    postal[dashed] = join(postal[dashed], "-", zip4[dashed])
    postal[bare] = join(postal[bare], zip4[bare])
    return {"postal_code": postal, "street_address": address, "city": city}


def identity_columns(
    pop: Population,
    vocab: Vocabulary,
    rows: np.ndarray,
    year: np.ndarray,
    profile: AgencyProfile,
    rng: np.random.Generator,
    slot: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """The canonical identity columns of the people ``rows`` as ``profile``'s agency
    records them in ``year`` (their age then decides whether a married surname shows).
    ``slot`` is the address each row holds (0–2, the person's moves); None draws it from
    the profile's ``address_slot`` shares."""
    n = len(rows)
    age = year - pop.birth_year[rows]
    names = _names(pop, vocab, rows, age, profile, rng)
    address = _address(pop, vocab, rows, profile, rng, slot)

    styles = np.array(list(profile.name_case), dtype=object)
    style = styles[rng.choice(len(styles), size=n, p=list(profile.name_case.values()))]
    plain = chance(rng, n, profile.strip_accents)
    for key in ("first_name", "middle_name", "last_name", "name_suffix"):
        values = names[key]
        values[plain] = map_unique(values[plain], strip_accents)
        names[key] = apply_case(values, style)
    for key in ("street_address", "city"):
        address[key] = apply_case(address[key], style)
    return {
        **names,
        "dob": _dob(pop, rows, profile, rng),
        "sex": _sex(pop, rows, profile, rng),
        "ssn": _ssn(pop, rows, profile, rng),
        **address,
    }
