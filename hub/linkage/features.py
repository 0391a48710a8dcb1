"""Field-level comparison features derived from rule agreements and Bloom similarities.

Match-key and blocking-key rules are compounds of the same few fields (first and last
name, birth date, SSN, sex, ZIP), so their agreements are strongly correlated: a birth-date
typo makes every date-bearing rule disagree at once. Fed to a Fellegi–Sunter model as if
independent, one error would be counted five times. The hub never sees the fields, but it
knows each rule's parts and which parts emit variants (``protocol.tokens.MATCH_KEY_SPECS``
/ ``BLOCKING_KEY_SPECS``), so each field gets one feature and its evidence counts once:

- ``first_name`` / ``last_name``: the Bloom Dice level, raised to the top level when a rule
  holding the exact name agreed (``BILL`` ~ ``WILLIAM`` through a nickname variant); where
  the two names compare better *across* fields (the node's first name under the last-name
  key against the other side's last name: ``compare.SWAP_FEATURES``) they were written in
  each other's field, and the cross levels are used instead;
- ``address``: the Bloom Dice level; ``bf_middle_name`` stays a raw Dice feature;
- ``dob``, ``ssn``, ``sex``, ``postal_code``: same / differs / unknown, read from the rules
  that hold the field; ``dob`` is first read from the rules holding a name or the SSN, and
  the nameless ``dob_zip5`` rule (date of birth and ZIP5) adds "same with the ZIP" only
  where those left it unknown or "differs" (:func:`_dob_levels`);
- ``birth_month`` (and ``birth_year`` when a rule holds it): same / differs / unknown,
  only when the birth dates differ — a day typo keeps the month;
- ``postal_code`` is also unknown whenever both address filters are present (the address
  string already holds the ZIP; counting it twice would count one move twice).

A rule tells the value of a field only when it is *informative*: both records emitted it
and all its other parts are known to agree from *independent* evidence — a name's Bloom
level at the top (Dice ≥ the highest threshold) or the agreement of a rule that does not
involve the field at all. Then the rule agreeing means the field is the same, and the rule
disagreeing means it differs. Requiring independent evidence keeps "unknown" (level 0,
no weight) independent of the field's value: if a field could only be seen when it agrees,
the model would learn that it always agrees. Parts a rule varies (nickname, compound
surname part, day/month swap) need only agree through a variant; the others must agree on
their primary value. Rules that agree whichever field holds which name (``unordered`` and
``swap`` rules) count names known to agree across fields too; a ``swap`` rule (its name
parts differ in form, e.g. a first-name prefix or a last-name prefix with the birth date)
only says that *one* name agrees, so its agreement implies no name and never makes a
field "same" on its own — it is read where informative (a name known to agree: the token
of that orientation decides). Key columns whose rule is not in the protocol's tables stay
raw features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hub.linkage.compare import FeatureSpec
from hub.linkage.config import BLOCKING_KEY_PREFIX, MATCH_KEY_PREFIX
from hub.linkage.salts import is_salted, salt_levels, with_salt_level
from protocol import tokens as protocol_tokens
from protocol.token_rules import IDENTIFYING_PARTS

#: Rule part → (field, granularity). "exact" parts are the field itself; the others are
#: functions of it (an initial, a phonetic code, the birth month), implied by it.
PART_FIELDS: dict[str, tuple[str, str]] = {
    "first": ("first_name", "exact"),
    "first_phonetic": ("first_name", "partial"),
    "first_initial": ("first_name", "partial"),
    "first_prefix": ("first_name", "partial"),
    "first_soundex": ("first_name", "partial"),
    "first_prefix3": ("first_name", "partial"),
    "last": ("last_name", "exact"),
    "last_phonetic": ("last_name", "partial"),
    "last_soundex": ("last_name", "partial"),
    "last_prefix": ("last_name", "partial"),
    "last_initial": ("last_name", "partial"),
    "last_prefix3": ("last_name", "partial"),
    "dob": ("dob", "exact"),
    "birth_month": ("dob", "partial"),
    "birth_year": ("dob", "partial"),
    "ssn": ("ssn", "exact"),
    "sex": ("sex", "exact"),
    "postal_code": ("postal_code", "exact"),
    # Part of the address, which is compared through its Bloom filter: no feature of its own.
    "house_number": ("house_number", "exact"),
    "street_prefix3": ("street_prefix3", "exact"),
}
NAME_BLOOMS = {"first_name": "bf_first_name", "last_name": "bf_last_name"}
#: The cross comparisons that show the same two names written in each other's field.
SWAPPED_NAMES = {"first_name": "swap:first_last", "last_name": "swap:last_first"}
ADDRESS_BLOOM = "bf_address"
EXACT_LEVELS = ("unknown", "differs", "same")
#: The birth date seen only through an either-name rule (a name prefix and the date in
#: common, neither name known to agree) is its own level: such a rule can show "same" but
#: never "differs", so mixing it into "same" would inflate u(same) for every pair. It is
#: split by whether either name is at least *similar* (Bloom level above the lowest band,
#: within or across fields): then the shared prefix is most likely that misspelt name's
#: and the date a real agreement (FEBRL4 candidates: 238 matches / 6 non-matches), not a
#: coincidental two-letter prefix of unrelated names (6 / 23). One pooled level gave both
#: the same +8 bits and left misspelt-name, same-date matches below the threshold.
DOB_LEVELS = (
    "unknown",
    "differs",
    "same through one name",
    "same through a similar name",
    "same with the ZIP",
    "same",
)
#: Fields read from rules, in feature order; partial date parts only when dates differ.
RULE_FIELDS = ("dob", "birth_month", "birth_year", "ssn", "sex", "postal_code")
DATE_PARTS = ("birth_month", "birth_year")


@dataclass(frozen=True, slots=True)
class RulePlan:
    """A rule's parts, and the parts for which it also emits variant tokens.

    ``either_name``: the rule also emits its token with the two names exchanged and its
    name parts differ in form (``protocol.tokens`` ``swap``), so its agreement says that
    one of the names agrees, not which: it implies no name. ``order_free``: the rule
    agrees whichever field holds which name (``unordered`` or ``swap``), so names known
    to agree across fields (first/last swapped) count for it.
    """

    parts: tuple[str, ...]
    varied: frozenset[str]
    either_name: bool = False
    order_free: bool = False

    @property
    def nameless(self) -> bool:
        """No part comes from a name or the SSN (the birth date and ZIP5 rule)."""
        return IDENTIFYING_PARTS.isdisjoint(self.parts)


def _protocol_rules() -> dict[str, RulePlan]:
    """Key column → plan, from ``protocol.tokens`` (``*_KEY_SPECS`` of ``Rule(parts,
    varied)``). Missing tables mean no derivation: the engine falls back to raw rules."""
    plans: dict[str, RulePlan] = {}
    for prefix, table_name in (
        (MATCH_KEY_PREFIX, "MATCH_KEY_SPECS"),
        (BLOCKING_KEY_PREFIX, "BLOCKING_KEY_SPECS"),
    ):
        table = getattr(protocol_tokens, table_name, None) or {}
        for rule, spec in table.items():
            parts = tuple(getattr(spec, "parts", ()))
            varied = frozenset(getattr(spec, "varied", ()))
            either_name = bool(getattr(spec, "swap", False))
            order_free = either_name or bool(getattr(spec, "unordered", False))
            if order_free:
                # Agreement may come from the names written in each other's field.
                varied |= {p for p in parts if p.startswith(("first", "last"))}
            if parts and all(p in PART_FIELDS for p in parts):
                plans[prefix + rule] = RulePlan(parts, varied, either_name, order_free)
    return plans


RULES: dict[str, RulePlan] = _protocol_rules()


def rule_plan(column: str) -> RulePlan | None:
    """The plan of the rule behind key column ``column``, or None if it is not known."""
    return RULES.get(column)


@dataclass(frozen=True, slots=True)
class FieldFeatures:
    """How to turn raw comparison levels (rules and Bloom fields) into field features."""

    raw: tuple[FeatureSpec, ...]
    specs: tuple[FeatureSpec, ...]

    def derive(self, raw_levels: np.ndarray, *, random_pairs: bool = False) -> np.ndarray:
        """Raw levels ``(n, len(raw))`` → field levels ``(n, len(specs))``; see
        :func:`derive_levels` for ``random_pairs``."""
        return derive_levels(raw_levels, self.raw, self.specs, random_pairs=random_pairs)


def field_features(raw: list[FeatureSpec]) -> FieldFeatures:
    """The field features that ``raw`` comparison features support."""
    parts_seen: set[str] = set()
    passthrough: list[FeatureSpec] = []
    for spec in raw:
        if spec.kind in ("bloom", "bloom_cross"):
            continue
        plan = rule_plan(spec.name)
        if plan is None:
            passthrough.append(spec)
        else:
            parts_seen.update(plan.parts)
    blooms = {s.name: s for s in raw if s.kind == "bloom"}
    specs: list[FeatureSpec] = []
    for field, column in NAME_BLOOMS.items():
        if column in blooms:
            specs.append(FeatureSpec(field, "field", with_salt_level(blooms[column].levels)))
    if ADDRESS_BLOOM in blooms:
        specs.append(
            FeatureSpec("address", "field", with_salt_level(blooms[ADDRESS_BLOOM].levels))
        )
    for name, spec in blooms.items():
        if name not in (*NAME_BLOOMS.values(), ADDRESS_BLOOM):
            passthrough.append(FeatureSpec(name, "bloom", with_salt_level(spec.levels)))
    for field in RULE_FIELDS:
        if field in parts_seen and (field not in DATE_PARTS or "dob" in parts_seen):
            levels = EXACT_LEVELS
            if field == "dob" and any(p.either_name and "dob" in p.parts for p in RULES.values()):
                levels = DOB_LEVELS
            specs.append(FeatureSpec(field, "field", levels))
    return FieldFeatures(tuple(raw), tuple(specs + passthrough))


def _field(part: str) -> str:
    return PART_FIELDS[part][0]


def _swapped(part: str) -> str:
    """The same form of the other name (``first_prefix`` ↔ ``last_prefix``)."""
    if part.startswith("first"):
        return "last" + part.removeprefix("first")
    return "first" + part.removeprefix("last")


def _exact(field: str) -> str:
    return next(p for p, (f, g) in PART_FIELDS.items() if f == field and g == "exact")


class _Evidence:
    """What the rule agreements of a batch of pairs say about fields and parts."""

    def __init__(self, col: dict[str, np.ndarray], raw: tuple[FeatureSpec, ...]) -> None:
        self.n = len(next(iter(col.values()))) if col else 0
        rules = {s.name: rule_plan(s.name) for s in raw if s.kind not in ("bloom", "bloom_cross")}
        self.rules = {k: v for k, v in rules.items() if v is not None}
        self.agree = {name: col[name] == 2 for name in self.rules}
        self.emitted = {name: col[name] > 0 for name in self.rules}
        self.top: dict[str, np.ndarray] = {}
        #: The name's top level across fields (its value in the other side's other field).
        self.top_across: dict[str, np.ndarray] = {}
        for field, column in NAME_BLOOMS.items():
            if column in col:
                top = _top_level(raw, column)
                self.top[field] = col[column] == top
                if SWAPPED_NAMES[field] in col:
                    self.top_across[field] = col[SWAPPED_NAMES[field]] == top
        self._cache: dict[tuple[str, str, bool, bool], np.ndarray] = {}

    def emitted_any(self, field: str) -> np.ndarray:
        """Both records emitted some rule holding the whole field."""
        return self._any(self.emitted, field)

    def agree_any(self, field: str) -> np.ndarray:
        """Some rule holding the whole field agreed (through any name form)."""
        return self._any(self.agree, field)

    def _any(self, flags: dict[str, np.ndarray], field: str) -> np.ndarray:
        exact = _exact(field)
        out = np.zeros(self.n, dtype=bool)
        for name, plan in self.rules.items():
            if exact in plan.parts:
                out |= flags[name]
        return out

    def same_any(self, field: str, named_only: bool = False) -> np.ndarray:
        """A rule holding the whole field agreed (possibly through a variant); with
        ``named_only``, a rule holding a name or the SSN."""
        exact = _exact(field)
        out = np.zeros(self.n, dtype=bool)
        for name, plan in self.rules.items():
            # An either-name rule agrees on a weak name form (a prefix) in any field: its
            # agreement would show many non-matches as "same" with no way to show them
            # "differs"; it is read only where informative.
            if exact in plan.parts and not plan.either_name and not (named_only and plan.nameless):
                out |= self.agree[name]
        return out

    def same_through_one_name(self, field: str) -> np.ndarray:
        """An either-name rule holding the whole field agreed."""
        exact = _exact(field)
        out = np.zeros(self.n, dtype=bool)
        for name, plan in self.rules.items():
            if exact in plan.parts and plan.either_name:
                out |= self.agree[name]
        return out

    def known(
        self, part: str, blind_to: str, via_variant: bool, order_free: bool = False
    ) -> np.ndarray:
        """``part`` known to agree — on its primary value, or (``via_variant``) at least
        through a variant — from evidence that says nothing about field ``blind_to``: the
        Bloom top level of a name, or a rule agreeing that holds no part of ``blind_to``."""
        key = (part, blind_to, via_variant, order_free)
        if key in self._cache:
            return self._cache[key]
        field = _field(part)
        out = self.top.get(field, np.zeros(self.n, dtype=bool)).copy()
        if order_free and field in self.top_across:
            out |= self.top_across[field]
        for name, plan in self.rules.items():
            if any(_field(p) == blind_to for p in plan.parts):
                continue
            if plan.either_name and field in NAME_BLOOMS:
                continue  # which name agreed is not known
            for p in plan.parts:
                # A rule agreeing on the whole field (or on this very part) implies the
                # part, without variants unless a variant is enough here.
                implied = _field(p) == field and p in (part, _exact(field))
                if implied and (via_variant or p not in plan.varied):
                    out |= self.agree[name]
        self._cache[key] = out
        return out

    def informative(self, name: str, part: str) -> np.ndarray:
        """Rule ``name`` both emitted, every part but ``part`` known independently."""
        plan = self.rules[name]
        out = self.emitted[name].copy()
        blind_to = _field(part)
        for p in plan.parts:
            if p != part:
                known = self.known(p, blind_to, p in plan.varied, plan.order_free)
                if plan.either_name and p.startswith(("first", "last")):
                    # Either name agreeing makes the token of that orientation decide.
                    known = known | self.known(_swapped(p), blind_to, True, True)
                out &= known
        return out

    def read(
        self,
        part: str,
        same: np.ndarray | None = None,
        within: np.ndarray | None = None,
        named_only: bool = False,
    ) -> np.ndarray:
        """Levels of ``part`` (0 unknown, 1 differs, 2 same) from its informative rules
        (with ``named_only``, those holding a name or the SSN), ``same`` also where given
        (see :func:`derive_levels`), only ``within`` if given."""
        seen = np.zeros(self.n, dtype=bool) if same is None else same.copy()
        same = seen.copy()
        for name, plan in self.rules.items():
            if part in plan.parts and not (named_only and plan.nameless):
                informative = self.informative(name, part)
                seen |= informative
                same |= informative & self.agree[name]
        level = np.where(same, 2, np.where(seen, 1, 0)).astype(np.int8)
        if within is not None:
            level[~within] = 0
        return level


def derive_levels(
    raw_levels: np.ndarray,
    raw: tuple[FeatureSpec, ...],
    specs: tuple[FeatureSpec, ...],
    *,
    random_pairs: bool = False,
) -> np.ndarray:
    """Raw levels ``(n, len(raw))`` → field levels ``(n, len(specs))`` (module docstring).

    A whole field (birth date, SSN, sex, ZIP) is also "same" when *any* rule holding it
    agreed, informative or not: a phonetic-name-and-birth-date token in common is strong
    evidence even when both names are misspelt, and ignoring it would lose exactly the
    hard matches. The asymmetry this admits (the "differs" of such a pair stays unknown)
    is small and errs towards smaller weights; partial dates, whose only rule is narrow,
    are read from informative rules alone.

    ``random_pairs``: the pairs are the uniform sample that teaches the model ``u``. A
    birth-date rule is informative only where a name is known to agree independently, and
    salted name filters agree only under a shared salt, which random pairs almost never
    have; so their birth date would almost always be unknown, and ``u`` of "same" would be
    learnt from candidates alone (where most non-matches share the date). For them, a
    birth-date rule that both records emitted and that disagrees says "differs".
    """
    col = {s.name: raw_levels[:, i] for i, s in enumerate(raw)}
    ev = _Evidence(col, raw)
    result = np.zeros((len(raw_levels), len(specs)), dtype=np.int8)
    dob = ev.read("dob", ev.same_any("dob")) if any(s.name == "dob" for s in specs) else None
    shared = _shared_salts(col, ev)
    names = _name_levels(col, ev, specs)
    for k, spec in enumerate(specs):
        if spec.kind == "bloom":
            result[:, k] = salt_levels(col[spec.name], shared)
        elif spec.kind != "field":
            result[:, k] = col[spec.name]
        elif spec.name in NAME_BLOOMS:
            result[:, k] = salt_levels(names[spec.name], shared)
        elif spec.name == "address":
            result[:, k] = salt_levels(col[ADDRESS_BLOOM], shared)
        elif spec.name == "dob":
            level = _dob_levels(ev, dob, names) if spec.levels == DOB_LEVELS else dob.copy()
            if random_pairs:
                level[(level == 0) & ev.emitted_any("dob") & ~ev.agree_any("dob")] = 1
            result[:, k] = level
        elif spec.name in DATE_PARTS:
            result[:, k] = ev.read(spec.name, within=dob == 1)
        else:
            level = ev.read(spec.name, ev.same_any(spec.name))
            if spec.name == "postal_code" and ADDRESS_BLOOM in col:
                level[col[ADDRESS_BLOOM] > 0] = 0
            result[:, k] = level
    return result


def _shared_salts(col: dict[str, np.ndarray], ev: _Evidence) -> np.ndarray:
    """Pairs known, from the rules that agreed, to share a salt of the name and address
    filters (``protocol.salts``).

    A rule holding the whole birth date agreed (through any name form): the dates are
    equal up to a day/month swap, which the salt ignores. ``initial_street_zip`` agreed:
    same ZIP and street prefix (the street salt). ``prefixes_house`` agreed and a rule
    holding the ZIP agreed: same ZIP and house number (the house salt). Name salts also
    hold the name's initial: a low score where only the initial differs reads as
    "dissimilar", which it is.
    """
    shared = ev.agree_any("dob")
    house = col.get(BLOCKING_KEY_PREFIX + "prefixes_house")
    if house is not None:
        shared |= (house == 2) & ev.same_any("postal_code")
    street = col.get(BLOCKING_KEY_PREFIX + "initial_street_zip")
    if street is not None:
        shared |= street == 2
    return shared


def _dob_levels(ev: _Evidence, dob: np.ndarray, names: dict[str, np.ndarray]) -> np.ndarray:
    """The ``DOB_LEVELS`` of each pair. The levels are first read from the rules holding a
    name or the SSN, as if the nameless birth-date-and-ZIP5 rule did not exist; that rule's
    agreement then makes "same" only the pairs they left unknown or "differs" (``dob``,
    read from every rule, is "same"): both names replaced, the date and ZIP kept. Letting it
    also lift "same through (a similar) name" pairs to "same" would empty those levels of
    the matches that did not move, leaving there mostly the movers: the levels would then
    say "ZIP differs" too, evidence the address filter already counts."""
    named = ev.read("dob", ev.same_any("dob", named_only=True), named_only=True)
    level = np.where(named == 2, len(DOB_LEVELS) - 1, named).astype(np.int8)
    one_name = (named == 0) & ev.same_through_one_name("dob")
    level[one_name] = 2
    level[one_name & _similar_name(names)] = 3
    level[(dob == 2) & (named != 2) & ~one_name] = DOB_LEVELS.index("same with the ZIP")
    return level


def _name_levels(
    col: dict[str, np.ndarray], ev: _Evidence, specs: tuple[FeatureSpec, ...]
) -> dict[str, np.ndarray]:
    """First- and last-name levels: the Bloom level of each field, raised to the top when a
    rule holding the exact name agreed; then, where the two names compare better across
    fields than within them (first/last swapped), the cross levels instead."""
    levels: dict[str, np.ndarray] = {}
    for spec in specs:
        if spec.kind == "field" and spec.name in NAME_BLOOMS:
            level = col[NAME_BLOOMS[spec.name]].copy()
            # The raw Dice level's top (the field spec also has the unsalted level).
            level[ev.same_any(spec.name)] = spec.n_levels - 1 - is_salted(spec)
            levels[spec.name] = level
    if len(levels) == len(NAME_BLOOMS) and all(c in col for c in SWAPPED_NAMES.values()):
        first, last = (col[SWAPPED_NAMES[f]] for f in ("first_name", "last_name"))
        straight = levels["first_name"].astype(np.int16) + levels["last_name"]
        swapped = (first > 0) & (last > 0) & (first.astype(np.int16) + last > straight)
        levels["first_name"] = np.where(swapped, first, levels["first_name"])
        levels["last_name"] = np.where(swapped, last, levels["last_name"])
    return levels


def _similar_name(names: dict[str, np.ndarray]) -> np.ndarray:
    """Either name at least at the lowest Dice band above "dissimilar" (level ≥ 2; the
    name levels already hold the cross comparison where names were swapped)."""
    similar = [level >= 2 for level in names.values()]
    return np.logical_or.reduce(similar) if similar else np.bool_(False)


def _top_level(raw: tuple[FeatureSpec, ...], column: str) -> int:
    return next(s.n_levels - 1 for s in raw if s.name == column)
