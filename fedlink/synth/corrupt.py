"""Vectorised building blocks for formatting values and injecting errors.

Strings live in numpy ``object`` arrays. Transformations that depend only on the value
(case, accent stripping) run once per *distinct* value (:func:`map_unique`), which is what
makes a million rows cheap: a million surnames hold a few thousand distinct values.
Errors are injected into a masked subset only; the per-string work (typos) loops in
Python over that subset, a few percent of the rows.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

import numpy as np
import pandas as pd

_QWERTY_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
#: Keys next to each letter on a QWERTY keyboard: substitution typos hit a neighbour.
_NEIGHBOURS: dict[str, str] = {}
for _r, _row in enumerate(_QWERTY_ROWS):
    for _c, _key in enumerate(_row):
        _near = [_row[j] for j in (_c - 1, _c + 1) if 0 <= j < len(_row)]
        for _other in (_r - 1, _r + 1):
            if 0 <= _other < len(_QWERTY_ROWS):
                _near += [
                    _QWERTY_ROWS[_other][j]
                    for j in (_c - 1, _c, _c + 1)
                    if 0 <= j < len(_QWERTY_ROWS[_other])
                ]
        _NEIGHBOURS[_key] = "".join(_near)


def chance(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """A boolean mask of ``n`` rows, each true with probability ``rate``."""
    return rng.random(n) < rate


def map_unique(values: np.ndarray, func: Callable[[str], str]) -> np.ndarray:
    """Apply ``func`` to each distinct non-missing value once; ``None`` stays ``None``."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))  # None → code -1
    mapped = np.array([func(u) for u in uniques] + [None], dtype=object)
    out: np.ndarray = mapped[codes]  # -1 picks the trailing None
    return out


def strip_accents(text: str) -> str:
    """``García-López`` → ``Garcia-Lopez`` (NFKD, combining marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def title_case(text: str) -> str:
    """Title case as registrars' systems apply it: ``de la Rosa`` → ``De La Rosa``."""
    return text.title()


def apply_case(values: np.ndarray, style: np.ndarray) -> np.ndarray:
    """Per-row case: ``style`` holds ``"upper"``, ``"title"``, ``"lower"`` or ``"keep"``."""
    out = np.array(values, dtype=object, copy=True)
    funcs = {"upper": str.upper, "title": title_case, "lower": str.lower}
    for name, func in funcs.items():
        mask = style == name
        if mask.any():
            out[mask] = map_unique(out[mask], func)
    return out


def _typo(text: str, op: int, pos_u: float, letter_u: float) -> str:
    n = len(text)
    if n < 2:
        return text
    pos = min(int(pos_u * n), n - 1)
    char = text[pos]
    if op == 0:  # insertion of a neighbouring key (or any letter)
        pool = _NEIGHBOURS.get(char.lower(), "abcdefghijklmnopqrstuvwxyz")
        new = pool[int(letter_u * len(pool))]
        return text[: pos + 1] + (new.upper() if text.isupper() else new) + text[pos + 1 :]
    if op == 1 and n > 2:  # deletion
        return text[:pos] + text[pos + 1 :]
    if op == 2:  # substitution by a neighbouring key
        pool = _NEIGHBOURS.get(char.lower(), "abcdefghijklmnopqrstuvwxyz")
        new = pool[int(letter_u * len(pool))]
        return text[:pos] + (new.upper() if char.isupper() else new) + text[pos + 1 :]
    # transposition of two adjacent characters (the last pair when pos is at the end)
    pos = min(pos, n - 2)
    if text[pos] == text[pos + 1]:
        return text[:pos] + text[pos + 1 :]  # "ll" → "l": the visible form of the slip
    return text[:pos] + text[pos + 1] + text[pos] + text[pos + 2 :]


def inject_typos(values: np.ndarray, mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One keyboard typo (insert, delete, substitute or transpose, equally likely) in each
    masked non-missing value. Returns a new array; the typo always changes the value."""
    out = np.array(values, dtype=object, copy=True)
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return out
    ops = rng.integers(0, 4, rows.size)
    pos_u = rng.random(rows.size)
    letter_u = rng.random(rows.size)
    for k, row in enumerate(rows):
        value = out[row]
        if value:
            out[row] = _typo(value, int(ops[k]), float(pos_u[k]), float(letter_u[k]))
    return out


def zero_pad(numbers: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded decimal strings (``object`` array), fast:
    digits are computed arithmetically and viewed as fixed-width bytes."""
    nums = np.asarray(numbers, dtype=np.int64)
    if nums.size > 1000:
        uniques, inverse = np.unique(nums, return_inverse=True)
        if uniques.size * 4 < nums.size:  # few distinct values: format each once
            return zero_pad(uniques, width)[inverse.ravel()]
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = ((nums[:, None] // powers) % 10 + 48).astype(np.uint8)
    return np.ascontiguousarray(digits).view(f"S{width}").ravel().astype(f"U{width}").astype(object)


def int_str(numbers: np.ndarray) -> np.ndarray:
    """Integers as decimal strings (``object`` array), formatting each distinct value once."""
    uniques, inverse = np.unique(np.asarray(numbers, dtype=np.int64), return_inverse=True)
    return np.array([str(u) for u in uniques.tolist()], dtype=object)[inverse.ravel()]


def join(*parts: np.ndarray | str) -> np.ndarray:
    """Element-wise string concatenation of ``object`` arrays and constants."""
    out = np.asarray(parts[0], dtype=object)
    for part in parts[1:]:
        out = np.add(out, part)
    return np.asarray(out, dtype=object)


def swap_adjacent_digits(
    numbers: np.ndarray, width: int, mask: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Transpose two adjacent, different digits of each masked number (``123456789`` →
    ``123546789``), the commonest keying error in SSNs."""
    out = np.asarray(numbers, dtype=np.int64).copy()
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return out
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    digits = (out[rows, None] // powers) % 10
    pos = rng.integers(0, width - 1, rows.size)
    for _ in range(width):  # move to the next position where the two digits differ
        same = digits[np.arange(rows.size), pos] == digits[np.arange(rows.size), pos + 1]
        if not same.any():
            break
        pos[same] = (pos[same] + 1) % (width - 1)
    idx = np.arange(rows.size)
    a, b = digits[idx, pos].copy(), digits[idx, pos + 1].copy()
    digits[idx, pos], digits[idx, pos + 1] = b, a
    out[rows] = (digits * powers).sum(axis=1)
    return out


def replace_digit(
    numbers: np.ndarray, width: int, mask: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Replace one digit of each masked number by a different digit."""
    out = np.asarray(numbers, dtype=np.int64).copy()
    rows = np.flatnonzero(mask)
    if rows.size == 0:
        return out
    pos = rng.integers(0, width, rows.size)
    power = 10 ** (width - 1 - pos)
    old = (out[rows] // power) % 10
    new = (old + rng.integers(1, 10, rows.size)) % 10
    out[rows] += (new - old) * power
    return out
