"""The README's benchmark section, rewritten by every ``fedlink bench`` run.

The README shows the headline figures (targets, accuracy per pair, encoding speed, hub
scale) with the date and machine they were measured on; ``docs/benchmarks.md`` keeps the
whole report. The section lives between two HTML comments so a run replaces exactly it
and nothing else; a README without them is left alone (and the caller says so).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fedlink.bench.report import (
    accuracy_tables,
    header,
    scale_table,
    table_markdown,
    target_table,
    throughput_table,
)

START = "<!-- fedlink bench: start -->"
END = "<!-- fedlink bench: end -->"


def readme_section(results: dict[str, Any], *, details: str) -> str:
    """The section's Markdown, markers included; ``details`` links the whole report."""
    lines = [START, "", *(f"{line}  " for line in header(results)), ""]
    from fedlink.bench.dedup_report import dedup_table
    from fedlink.bench.load import load_table
    from fedlink.bench.privacy_report import privacy_tables

    headline = [target_table(results), *accuracy_tables(results)[:1], dedup_table(results),
                throughput_table(results), scale_table(results), *privacy_tables(results),
                load_table(results)]
    for t in headline:
        if t is not None and t.rows:
            lines += table_markdown(t, level="####")
    lines += [f"The whole report, with how each system is run: [{details}]({details}).", "",
              END]
    return "\n".join(lines)


def replace_section(text: str, section: str) -> str | None:
    """``text`` with its marked section replaced by ``section``; None without markers."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        return None
    return text[:start] + section + text[end + len(END):]


def has_section(path: Path) -> bool:
    """Whether ``path`` is a readable file with the marked section."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return replace_section(text, "") is not None


def update_readme(path: Path, results: dict[str, Any], *, details: str) -> bool:
    """Rewrite the benchmark section of the README at ``path``; False if it has none."""
    if not path.is_file():
        return False
    updated = replace_section(path.read_text(encoding="utf-8"),
                              readme_section(results, details=details))
    if updated is None:
        return False
    path.write_text(updated, encoding="utf-8")
    return True
