"""The match-key and blocking-key rule tables: which parts each token is made of.

:mod:`protocol.tokens` computes the tokens; this module only says what they hold, so the
hub's linkage engine can read the same tables (``hub.linkage.features`` turns rule
agreements into field evidence from them). The reason for every rule, and the measured
effect of each, is in ``docs/tokens-and-bloom-filters.md``.

A part is a name form (``first``, ``first_initial``, ``first_prefix``, ``first_phonetic``
(NYSIIS), ``first_soundex``, the same for ``last``), a date form (``dob``,
``birth_month``, ``birth_year``), ``sex``, ``ssn`` or ``postal_code``. Every rule is
*compound* and includes a part derived from a name or from the SSN, so a low-entropy value
(sex, birth year, ZIP, even a full date of birth) never becomes a token on its own
(docs/trust-model.md, rule 7) — with one exception decided by the lead engineer: the full date
of birth *together with* the 5-digit ZIP (:data:`NAME_FREE_RULE_PARTS`), as specific as a
person and keyed like every token. :func:`meets_trust_rule_7` is the check; the tests
apply it to this table.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final, NamedTuple

from protocol.errors import EncodingError

MAX_TOKENS_PER_RULE: Final = 12
#: A middle name shorter than this is an initial: too weak to stand in for a first name.
MIN_MIDDLE_NAME_AS_FIRST: Final = 2

#: The forms a name part can take, suffixed to ``first`` / ``last``.
NAME_CODES: Final = ("", "_initial", "_prefix", "_phonetic", "_soundex", "_prefix3")


class Rule(NamedTuple):
    """A token rule.

    ``parts``: the values in MAC order. ``varied``: the parts that also emit variants
    (nicknames and the middle name for a first name, compound-surname parts for a last
    name, the day/month swap for a date). ``unordered``: the rule holds one first-name
    and one last-name part of the same form, framed in a canonical order, so the token
    is the same whichever field holds which name (first/last swaps) — one token, not a
    second "swapped" variant. ``swap``: the rule also emits the token with every
    first-name part taken from the last name and every last-name part from the first
    name (for rules whose two name parts differ in form); its agreement then says that
    *one* of the names agrees, not which.
    """

    parts: tuple[str, ...]
    varied: tuple[str, ...] = ()
    unordered: bool = False
    swap: bool = False


MATCH_KEY_SPECS: Final = MappingProxyType(
    {
        "name_dob_sex": Rule(("first", "last", "dob", "sex"), varied=("first", "last", "dob")),
        "phonetic_name_dob": Rule(
            ("first_phonetic", "last_phonetic", "dob"),
            varied=("first_phonetic", "last_phonetic"),
            unordered=True,
        ),
        "ssn_dob": Rule(("ssn", "dob"), varied=("dob",)),
        "ssn_initial_last": Rule(("ssn", "first_initial", "last")),
    }
)
#: ``ssn`` alone is the one single-part rule: an SSN is high-entropy, unlike the values
#: trust rule 7 is about.
BLOCKING_KEY_SPECS: Final = MappingProxyType(
    {
        "prefix_names_birth_month": Rule(("first_prefix", "last_prefix", "birth_month")),
        "ssn": Rule(("ssn",)),
        "name_prefix_dob": Rule(("first_prefix", "dob"), swap=True),
        "initial_street_zip": Rule(("first_initial", "street_prefix3", "postal_code"), swap=True),
        "prefixes_house": Rule(("first_prefix3", "last_prefix3", "house_number"), unordered=True),
        # The one name-free rule (trust rule 7's exception, NAME_FREE_RULE_PARTS): pairs
        # whose both names were replaced still meet through the birth date and ZIP.
        "dob_zip5": Rule(("dob", "postal_code")),
    }
)
MATCH_KEY_RULES: Final[tuple[str, ...]] = tuple(MATCH_KEY_SPECS)
BLOCKING_KEY_RULES: Final[tuple[str, ...]] = tuple(BLOCKING_KEY_SPECS)

#: Parts derived from a name or the SSN; every rule must contain one, or the full date of
#: birth and ZIP5 (:func:`meets_trust_rule_7`; tests enforce it).
IDENTIFYING_PARTS: Final = frozenset(
    {"ssn", *(f"first{s}" for s in NAME_CODES), *(f"last{s}" for s in NAME_CODES)}
)


#: The part sets a rule without a name or SSN part must contain: the full date of birth
#: with the 5-digit ZIP (``postal_code`` is the ZIP5 under the default ``us`` postal
#: format). Together they are about as specific as a person (Sweeney 2000: date of birth
#: and ZIP5, with sex, single out most US residents) — more so than the allowed
#: initial-and-date tokens — and, keyed with the project key the hub never holds, they tell
#: the hub only that two records share both. Any other name-free combination (sex, birth
#: year or month, ZIP, a ZIP prefix, house number, city, the date of birth alone, or several
#: of them without the full pair) is still forbidden.
NAME_FREE_RULE_PARTS: Final = frozenset({frozenset({"dob", "postal_code"})})


def meets_trust_rule_7(parts: tuple[str, ...]) -> bool:
    """Whether a rule of ``parts`` may be a token (docs/trust-model.md, rule 7): it is compound
    and holds a name or SSN part, or all of an allowed name-free set
    (:data:`NAME_FREE_RULE_PARTS`: the full date of birth and the ZIP5); ``ssn`` alone is
    the one single-part rule."""
    if parts == ("ssn",):
        return True
    held = set(parts)
    if len(parts) < 2 or len(held) != len(parts):
        return False
    return bool(held & IDENTIFYING_PARTS) or any(s <= held for s in NAME_FREE_RULE_PARTS)


def swapped_part(part: str) -> str:
    """The same form of the other name: ``first_initial`` ↔ ``last_initial``."""
    if part.startswith("first"):
        return "last" + part.removeprefix("first")
    if part.startswith("last"):
        return "first" + part.removeprefix("last")
    return part


def unordered_pair(rule: Rule) -> tuple[int, int]:
    """Positions of the first-name and last-name parts an unordered rule sorts."""
    firsts = [i for i, p in enumerate(rule.parts) if p.startswith("first")]
    lasts = [i for i, p in enumerate(rule.parts) if p.startswith("last")]
    if len(firsts) != 1 or len(lasts) != 1:
        raise EncodingError("an unordered rule holds exactly one first-name and one last-name part")
    first, last = firsts[0], lasts[0]
    if rule.parts[first].removeprefix("first") != rule.parts[last].removeprefix("last"):
        raise EncodingError("an unordered rule's two name parts must be of the same form")
    return first, last
