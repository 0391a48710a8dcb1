"""Geometry of the quality-report charts on the project page, drawn as inline SVG.

No script and no inline style (the pages' Content-Security-Policy forbids both): the
templates draw rectangles from these numbers and colour them with CSS classes. Every chart
also comes with its numbers as a table for screen readers and for anyone who prefers them.
Charts are built only from a run's stored report (:mod:`hub.linkage.report`, version 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 8, 10, 40


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    candidates: int
    links: int
    link_y: float
    link_height: float


def weight_histogram(report: dict[str, Any]) -> dict[str, Any] | None:
    """Bars of candidate pairs and accepted links per match-weight bin, on a logarithmic
    count scale (non-matches outnumber matches by orders of magnitude)."""
    weights = report.get("weights") or {}
    edges, candidates = weights.get("bin_edges") or [], weights.get("candidates") or []
    links = weights.get("links") or [0] * len(candidates)
    if not candidates or len(edges) != len(candidates) + 1 or len(links) != len(candidates):
        return None
    top = max(candidates)
    if top <= 0:
        return None
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    scale = plot_h / math.log10(top + 1)
    step = plot_w / len(candidates)
    bars = []
    for i, (count, linked) in enumerate(zip(candidates, links, strict=True)):
        height = math.log10(count + 1) * scale
        link_height = math.log10(linked + 1) * scale
        bars.append(Bar(
            x=round(LEFT + i * step, 2), y=round(TOP + plot_h - height, 2),
            width=round(max(step - 1, 1), 2), height=round(height, 2),
            label=f"{edges[i]:g} to {edges[i + 1]:g}", candidates=int(count),
            links=int(linked), link_y=round(TOP + plot_h - link_height, 2),
            link_height=round(link_height, 2),
        ))
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "top": TOP,
            "bottom": TOP + plot_h, "right": WIDTH - RIGHT, "bars": bars,
            "max": int(top), "first_edge": edges[0], "last_edge": edges[-1]}


def match_rates(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per agency: records, linked records and the share linked (a horizontal bar each)."""
    rows = []
    for agency in report.get("agencies") or []:
        rate = agency.get("match_rate")
        rows.append({
            "name": str(agency.get("name", "")), "records": agency.get("records"),
            "linked": agency.get("linked_records"), "rate": rate,
            "bar": round(max(0.0, min(1.0, float(rate))) * (WIDTH - 200), 2)
            if isinstance(rate, int | float) else 0.0,
        })
    return rows
