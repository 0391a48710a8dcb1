"""People who share an address: the fields a household shares are not independent of it.

Fellegi–Sunter multiplies the features' ``u`` as if independent among non-matches. For
the surname and the birth date given a shared address that is far from true: two
*different* people at one address (spouses, parent and child, siblings, twins) share the
surname far more often than two random people, and twins share the birth date too. The
chain rule says what the non-match likelihood of such a pair is:
``u(address) · u(surname | address) · u(date | address, surname) · …``. The model
multiplied ``u(address) · u(surname) · u(date)`` instead, about 18 bits too small for
twins at one address: they scored p = 1.0 against each other, and did not show only
because one-to-one let each twin's own record win (docs/linkage.md).

:func:`coresident` states it for the **twin profile** — another first name, the surname
at its top band and the birth date the same: at one address (Dice ≥ 0.85), the ``u`` of
the surname and the date *among people sharing an address*
(:data:`SAME_SURNAME_AT_ONE_ADDRESS`, :data:`SAME_DATE_AT_ONE_ADDRESS`); elsewhere (one
twin moved), the date's ``u`` among people sharing a surname (:func:`twin_date_u`). The
EM and the scoring use these for such pairs (:class:`hub.linkage.em.Conditional`); the
engine applies them only where an agency may hold duplicates, since between one-to-one
agencies the twin's own record competes through one-to-one. The matches' ``m`` is
unchanged: a person's two records agree on the address and the surname for reasons (no
move, no marriage) that hardly depend on each other.
"""

from __future__ import annotations

import numpy as np

from hub.linkage.compare import FeatureSpec
from hub.linkage.em import Conditional
from hub.linkage.salts import SHARED_DATE_DAYS, SHARED_SALT_U, is_salted

#: Share of pairs of two different people living at one address who share the surname.
#: Most people at one address are a family: US households are 64 % family households, and
#: children take a parent's surname and most spouses share one. The value errs low (a
#: low ``u`` keeps more weight on a surname agreement, so fewer true pairs are lost).
SAME_SURNAME_AT_ONE_ADDRESS = 0.5
#: Share of pairs of two different people at one address (and one surname, other first
#: names) born the same day: twins. About 3 % of US births are twins, and a twin's
#: co-residents are mostly parents and other siblings, so twins are at most a few in a
#: hundred such pairs; 1/50 errs high (a higher ``u`` weighs the shared date less: +3.6
#: bits at one address instead of +15).
SAME_DATE_AT_ONE_ADDRESS = 0.02
#: Share of people who are a twin: about 3 % of US births (CDC, 2019: 32 twin births in
#: 1,000), so 1.5 twin pairs per 100 people.
TWIN_SHARE = 0.03
#: The address's Dice bands that mean "one address": ≥ 0.85 (the same, or one typo away).
ONE_ADDRESS_DICE = 0.85
#: The first name's Dice bands that mean "another first name": below 0.7 (a typo of one
#: name scores above it; ≥ 0.5 alone weighs about nothing either way).
ANOTHER_FIRST_NAME_DICE = 0.7


def coresident(specs: list[FeatureSpec], n_records: int = 0) -> tuple[Conditional, ...]:
    """The twin profile's ``u`` (:class:`~hub.linkage.em.Conditional`): for pairs with
    another first name (Dice < 0.7), the surname at its top band and the birth date the
    same — at one address (:data:`SAME_SURNAME_AT_ONE_ADDRESS`,
    :data:`SAME_DATE_AT_ONE_ADDRESS`), and elsewhere, given ``n_records``, the share of
    twins among the pairs sharing a surname (:func:`twin_date_u`). ``()`` when the field
    features are not all there (``features="rules"``, no address filter)."""
    index = {s.name: k for k, s in enumerate(specs) if s.kind == "field"}
    if not {"first_name", "last_name", "address", "dob"} <= index.keys():
        return ()
    first, last, address, dob = (index[f] for f in ("first_name", "last_name", "address", "dob"))
    bands = SHARED_SALT_U["last_name"]
    if not is_salted(specs[last]) or specs[last].n_levels != 2 + len(bands):
        return ()
    one_address = _bands(specs[address], ONE_ADDRESS_DICE, 1.0)
    twin = {
        first: _bands(specs[first], 0.0, ANOTHER_FIRST_NAME_DICE),
        last: (specs[last].n_levels - 1,),
        dob: tuple(range(2, specs[dob].n_levels)),  # every level after "differs": equal
    }
    # Only the twin profile itself (the surname at its top band *and* the date the same):
    # the rest of a household's dependence (same surname and address, other first name
    # and date) is left to the date and, between agencies, to one-to-one — weighing it
    # too lost 27 FEBRL4 pairs whose first name and date were replaced (docs/linkage.md).
    rest = np.asarray(bands[:-1]) / sum(bands[:-1]) * (1 - SAME_SURNAME_AT_ONE_ADDRESS)
    out = [Conditional(
        {**twin, address: one_address},
        {last: np.r_[np.nan, 1e-9, rest, SAME_SURNAME_AT_ONE_ADDRESS],
         dob: _date_u(specs[dob], SAME_DATE_AT_ONE_ADDRESS)},
    )]
    elsewhere = twin_date_u(n_records)
    if elsewhere > 1.0 / SHARED_DATE_DAYS:
        other = tuple(k for k in range(specs[address].n_levels) if k not in one_address)
        out.append(Conditional({**twin, address: other}, {dob: _date_u(specs[dob], elsewhere)}))
    return tuple(out)


def twin_date_u(n_records: int) -> float:
    """``u`` of "same birth date" among pairs of different people sharing a surname with
    other first names, in a population of ``n_records``: twin pairs (``n·t/2``, ``t`` =
    :data:`TWIN_SHARE`) over surname-sharing pairs (``n²/2 · u(surname)``). At 20,000
    records that is 1 in 2,300 (the independent model: 1 in 36,525); from about 300,000
    records on it is below the date's own floor and changes nothing."""
    if n_records <= 0:
        return 0.0
    return TWIN_SHARE / (n_records * SHARED_SALT_U["last_name"][-1])


def _date_u(spec: FeatureSpec, same_total: float) -> np.ndarray:
    n_same = spec.n_levels - 2
    return np.r_[np.nan, 1 - same_total, np.full(n_same, same_total / n_same)]


def _bands(spec: FeatureSpec, low: float, high: float) -> tuple[int, ...]:
    """The levels of a Dice feature whose band lies in ``[low, high]`` (``dice<t`` is the
    band from 0 to ``t``; ``dice≥t`` from ``t`` to the next threshold)."""
    labels = spec.levels
    lows = [0.0 if lab.startswith("dice<") else float(lab.removeprefix("dice≥"))
            for lab in labels if lab.startswith("dice")]
    first = labels.index(next(lab for lab in labels if lab.startswith("dice")))
    highs = [*lows[1:], 1.0]
    return tuple(first + i for i, (a, b) in enumerate(zip(lows, highs, strict=True))
                 if a >= low and b <= high)
