"""The name lists a node ships (agency_node/ingest/name_lists.txt) are Faker's en_US and
es_MX given names and surnames, folded as :mod:`agency_node.ingest.detect` folds values.

They are shipped as package data so that a production node needs no Faker (the ``node``
extra has none, tests/test_packaging.py). This test regenerates them from the installed
Faker and compares; if a Faker upgrade changes its lists, rewrite the file with
``.venv/bin/python tests/agency_node/ingest/test_name_lists.py`` and review the diff (the
lists decide which columns ``fedlink node init`` treats as names).
"""

from __future__ import annotations

import sys
from pathlib import Path

import agency_node.ingest.detect as detect

SHIPPED = Path(detect.__file__).with_name("name_lists.txt")

_HEADER = """\
# Given names and surnames that agency_node.ingest.detect counts as evidence that a column
# holds names (with protocol.normalize._name_ranks' SSA given names). Folded to A-Z.
# Generated from Faker {version}'s en_US and es_MX person providers by
# tests/agency_node/ingest/test_name_lists.py; shipped so that a node needs no Faker.
#
# Faker: Copyright (c) 2012 Daniele Faraglia
#
# Permission is hereby granted, free of charge, to any person obtaining a copy
# of this software and associated documentation files (the "Software"), to deal
# in the Software without restriction, including without limitation the rights
# to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
# copies of the Software, and to permit persons to whom the Software is
# furnished to do so, subject to the following conditions:
#
# The above copyright notice and this permission notice shall be included in
# all copies or substantial portions of the Software.
#
# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
# IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
# FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
# AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
# LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
# OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN
# THE SOFTWARE.
"""


def _folded(names: object) -> list[str]:
    return sorted({detect._letters(n) for n in names} - {""})  # type: ignore[attr-defined]


def expected_text() -> str:
    """The file's content generated from the installed Faker."""
    import faker
    from faker.providers.person.en_US import Provider as UsPersonProvider
    from faker.providers.person.es_MX import Provider as MxPersonProvider

    given = _folded([*UsPersonProvider.first_names, *MxPersonProvider.first_names])
    family = _folded([*UsPersonProvider.last_names, *MxPersonProvider.last_names])
    return "".join([_HEADER.format(version=faker.VERSION), "[given]\n",
                    *(f"{n}\n" for n in given), "[surname]\n", *(f"{n}\n" for n in family)])


def test_shipped_lists_are_fakers_lists_folded() -> None:
    shipped = SHIPPED.read_text(encoding="utf-8")
    # The Faker version in the header may differ; the names must not.
    assert shipped.split("[given]\n", 1)[1] == expected_text().split("[given]\n", 1)[1], (
        "regenerate: .venv/bin/python tests/agency_node/ingest/test_name_lists.py")


def test_detect_reads_the_shipped_lists_without_faker(monkeypatch) -> None:
    # Faker unimportable: the lists still load (a node installs no Faker).
    monkeypatch.setitem(sys.modules, "faker", None)
    detect.given_names.cache_clear()
    detect.surnames.cache_clear()
    try:
        given, family = detect.given_names(), detect.surnames()
    finally:
        detect.given_names.cache_clear()
        detect.surnames.cache_clear()
    assert {"JENNIFER", "GUADALUPE", "MARY"} <= given  # Faker en_US, es_MX; SSA
    assert {"SMITH", "HERNANDEZ"} <= family and "JENNIFER" not in family


if __name__ == "__main__":
    SHIPPED.write_text(expected_text(), encoding="utf-8")
    print(f"wrote {SHIPPED}")
