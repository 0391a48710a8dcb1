"""``fedlink bench``: Fedlink measured next to its peers, in one run on one machine.

- :mod:`~fedlink.bench.datasets` writes the data every system links (synthetic state,
  FEBRL4; raw values for Fedlink's node path, normalised clear text for the peers) and the
  one-file deduplication sets (FEBRL3, FEBRL2: Fedlink and Splink only, tabled by
  :mod:`~fedlink.bench.dedup_report`);
- one runner per system: :mod:`~fedlink.bench.fedlink_runner` (node encoding + hub
  engine), :mod:`~fedlink.bench.splink_runner`, :mod:`~fedlink.bench.recordlinkage_runner`,
  :mod:`~fedlink.bench.anonlink_runner` (+ :mod:`~fedlink.bench.anonlink_worker`, run in
  its own environment) and :mod:`~fedlink.bench.scale` (the hub at 1M × 1M);
- :mod:`~fedlink.bench.metrics` scores peers' links with the engine's own
  :class:`hub.linkage.evaluate.PairScore`;
- :mod:`~fedlink.bench.harness` runs each heavy step in a child process
  (:mod:`~fedlink.bench.steps`, :mod:`~fedlink.bench.worker`) for its own time and peak
  RSS; :mod:`~fedlink.bench.report` renders the tables.
"""
