"""Which attribute columns ``fedlink node init`` proposes ``restricted``
(docs/classification.md).

The guidance asks agencies to protect more sensitive data more strictly: special education,
disability, health, benefits (free/reduced lunch, SNAP, TANF, …), discipline, immigration or
English-learner status and the like. Init proposes ``restricted`` for a column when its
*name* says so (``sped_flag``, ``iep_status``, ``snap_benefit``) **or** its *values* do (a
column called ``program`` whose codes include ``IEP`` or ``SNAP``): a name alone is a guess,
and an export with generic column names must not slip through. The steward confirms or
changes the proposal in node.toml; :func:`propose` only says what and why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from agency_node.ingest.columns import squeeze

#: Category → name fragments (matched against the squeezed column name's ``_`` parts, or
#: the whole name for multi-part fragments).
NAME_HINTS: Final[dict[str, tuple[str, ...]]] = {
    "special education": ("sped", "special_ed", "special_education", "iep", "idea",
                          "section_504", "504"),
    "disability": ("disability", "disabled", "disab", "handicap", "impairment"),
    "health": ("health", "medical", "diagnosis", "dx", "icd", "medicaid", "mental",
               "hiv", "pregnan", "substance", "immuniz", "vaccin"),
    "benefits": ("frl", "frpl", "free_lunch", "reduced_lunch", "lunch", "snap", "tanf",
                 "wic", "ssi", "ssdi", "welfare", "benefit", "benefits", "food_stamp",
                 "econ_disadv", "economically_disadvantaged", "low_income"),
    "discipline": ("discipline", "disciplinary", "suspension", "suspended", "expulsion",
                   "expelled", "incident", "arrest", "offense", "juvenile", "detention"),
    "immigration or language status": ("immigra", "immigrant", "citizenship", "citizen",
                                       "visa", "refugee", "asylum", "undocumented", "ell",
                                       "lep", "esl", "english_learner", "migrant"),
}
#: Category → cell values (compared upper-cased, stripped) that show the content.
VALUE_HINTS: Final[dict[str, tuple[str, ...]]] = {
    "special education": ("IEP", "504", "SPED", "SPECIAL EDUCATION", "SPECIAL ED"),
    "disability": ("AUTISM", "DEAF", "BLIND", "INTELLECTUAL DISABILITY",
                   "EMOTIONAL DISTURBANCE", "SPECIFIC LEARNING DISABILITY", "SLD",
                   "DISABLED"),
    "health": ("DIABETES", "ASTHMA", "HIV", "DEPRESSION", "MEDICAID", "PREGNANT"),
    "benefits": ("SNAP", "TANF", "WIC", "SSI", "SSDI", "FREE", "REDUCED", "FRL",
                 "FREE LUNCH", "REDUCED LUNCH", "FREE/REDUCED"),
    "discipline": ("SUSPENDED", "SUSPENSION", "EXPELLED", "EXPULSION", "OSS", "ISS",
                   "ARREST"),
    "immigration or language status": ("ELL", "LEP", "EL", "REFUGEE", "ASYLEE",
                                       "UNDOCUMENTED", "NON-CITIZEN", "IMMIGRANT"),
}
#: Values from VALUE_HINTS that are also everyday codes (``FREE``, ``EL``): a column must
#: show at least one other hint value, or be named like the category, to be proposed.
_WEAK_VALUES: Final = frozenset({"FREE", "REDUCED", "EL", "OSS", "ISS", "504"})


@dataclass(frozen=True, slots=True)
class Proposal:
    """``restricted`` is proposed for a column, because of ``categories`` seen in its
    name and/or values (``reason`` says which, for the steward)."""

    column: str
    categories: tuple[str, ...]
    reason: str


def _name_categories(column: str) -> list[str]:
    name = squeeze(column)
    parts = set(name.split("_"))
    found = []
    for category, hints in NAME_HINTS.items():
        for hint in hints:
            # Parts, not substrings: "mental" must not find "environmental".
            if ("_" in hint and hint in name) or hint in parts or (
                    len(hint) >= 4 and any(p.startswith(hint) for p in parts)):
                found.append(category)
                break
    return found


def _value_categories(values: Iterable[str]) -> tuple[list[str], list[str]]:
    seen = {str(v).strip().upper() for v in values if str(v).strip()}
    found, matched = [], []
    for category, hints in VALUE_HINTS.items():
        hits = sorted(seen.intersection(hints))
        if hits and (len(hits) > 1 or hits[0] not in _WEAK_VALUES):
            found.append(category)
            matched += hits
    return found, matched


def propose(column: str, values: Iterable[str]) -> Proposal | None:
    """The proposal for one attribute column from its name and a sample of its values,
    or None when neither suggests a sensitive category."""
    by_name = _name_categories(column)
    by_value, matched = _value_categories(values)
    categories = tuple(dict.fromkeys([*by_name, *by_value]))
    if not categories:
        return None
    parts = []
    if by_name:
        parts.append(f"name suggests {', '.join(by_name)}")
    if by_value:
        parts.append(f"values {', '.join(matched[:5])} suggest {', '.join(by_value)}")
    return Proposal(column=column, categories=categories,
                    reason="; ".join(parts) + " — confirm or change in node.toml")
