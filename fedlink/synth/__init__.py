"""Synthetic benchmark data: one state population seen by three agencies.

:func:`generate` draws a population (names with US frequency weights, Hispanic and
accented names, twins, marriages, moves) and renders it as the K-12, higher-education and
workforce agencies would each hold it — their own record ids, formats, coverage and
errors — with a ``truth_id`` column for evaluation. :func:`write` saves the frames as
CSV. ``docs/synthetic-data.md`` documents every rate.
"""

from fedlink.synth.agencies import COLUMNS
from fedlink.synth.dataset import AGENCY_FILES, STEPS, generate, output_paths, write

__all__ = ["AGENCY_FILES", "COLUMNS", "STEPS", "generate", "output_paths", "write"]
