"""Statistical disclosure control: pure functions, no I/O (docs/extracts.md).

* :mod:`hub.disclosure.kanon` — k-anonymity on declared quasi-identifiers, with
  generalisation (:mod:`hub.disclosure.generalise`), local suppression or a block;
* :mod:`hub.disclosure.cells` — small-cell and complementary suppression of counts and
  means by group;
* :mod:`hub.disclosure.outputs` — the same checks on a researcher's output tables (airlock);
* :mod:`hub.disclosure.public_use` — the disclosure risk of a record-level file measured on
  every column (sample and special uniques, risk per record), and
  :mod:`hub.disclosure.public_use_methods` — recoding, top-coding, noise and local
  suppression until it passes (docs/public-use-files.md).
"""

from hub.disclosure.cells import (
    DEFAULT_THRESHOLD,
    Suppression,
    bridges,
    protect_counts,
    protect_means,
    protect_table,
)
from hub.disclosure.kanon import DEFAULT_K, POLICIES, KAnonymityResult, k_anonymise
from hub.disclosure.outputs import OUTPUT_KINDS, OutputCheck, OutputFormatError, check_output

__all__ = [
    "DEFAULT_K",
    "DEFAULT_THRESHOLD",
    "OUTPUT_KINDS",
    "POLICIES",
    "KAnonymityResult",
    "OutputCheck",
    "OutputFormatError",
    "Suppression",
    "bridges",
    "check_output",
    "k_anonymise",
    "protect_counts",
    "protect_means",
    "protect_table",
]
