"""The quality report as one self-contained HTML page a data steward can read.

Charts are inline SVG drawn here (no JavaScript, no external CSS or fonts, nothing fetched),
so the page can be mailed, archived with the run or opened on an air-gapped machine. The
page layout is ``report.html.j2`` (Jinja2, autoescaped); the SVG fragments are built from
numbers and escaped labels only.
"""

from __future__ import annotations

import math
from html import escape
from importlib import resources
from typing import Any

from jinja2 import Environment
from markupsafe import Markup

_BAR = "#2b6cb0"
_BAR_LIGHT = "#cbd5e0"
_ACCENT = "#c05621"


def _trusted(markup: str) -> Markup:
    """Mark SVG built here as safe: it holds only numbers formatted here, constant
    markup and labels passed through :func:`html.escape`."""
    return Markup(markup)  # noqa: S704 - see the docstring: nothing unescaped gets in


def _fmt(x: float | None, pct: bool = False) -> str:
    if x is None:
        return "–"
    return f"{100 * x:.2f} %" if pct else f"{x:,.4g}"


def weight_histogram_svg(weights: dict[str, Any], threshold_weight: float) -> Markup:
    """Bars of candidate pairs per match-weight bin (log scale), links highlighted, with
    the threshold as a vertical line."""
    edges, cand, links = weights["bin_edges"], weights["candidates"], weights["links"]
    if not cand:
        return _trusted("<p>No candidate pairs.</p>")
    width, height, pad_l, pad_b, pad_t = 760, 260, 56, 36, 12
    plot_w, plot_h = width - pad_l - 12, height - pad_b - pad_t
    top = math.log10(max(cand) + 1)
    bar_w = plot_w / len(cand)

    def y(count: int) -> float:
        return plot_h * math.log10(count + 1) / top if top > 0 else 0.0

    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" class="chart">']
    parts.append(
        f"<title>Match weight of candidate pairs (grey) and final links (blue); "
        f"threshold {threshold_weight:.1f} bits</title>"
    )
    for i, (c, k) in enumerate(zip(cand, links, strict=True)):
        x = pad_l + i * bar_w
        for count, colour in ((c, _BAR_LIGHT), (k, _BAR)):
            if count:
                h = y(count)
                parts.append(
                    f'<rect x="{x:.1f}" y="{pad_t + plot_h - h:.1f}" '
                    f'width="{max(bar_w - 1, 1):.1f}" height="{h:.1f}" fill="{colour}">'
                    f"<title>{edges[i]:g} to {edges[i + 1]:g} bits: {count:,}</title></rect>"
                )
    lo, hi = edges[0], edges[-1]
    if lo <= threshold_weight <= hi:
        tx = pad_l + plot_w * (threshold_weight - lo) / (hi - lo)
        parts.append(
            f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{pad_t}" y2="{pad_t + plot_h}" '
            f'stroke="{_ACCENT}" stroke-width="2" stroke-dasharray="4 3"/>'
            f'<text x="{tx + 4:.1f}" y="{pad_t + 12}" fill="{_ACCENT}">threshold</text>'
        )
    base = pad_t + plot_h
    parts.append(
        f'<line x1="{pad_l}" x2="{pad_l + plot_w}" y1="{base}" y2="{base}" stroke="#444"/>'
    )
    ticks = 8
    for t in range(ticks + 1):
        value = lo + (hi - lo) * t / ticks
        x = pad_l + plot_w * t / ticks
        parts.append(f'<text x="{x:.1f}" y="{base + 16}" text-anchor="middle">{value:.0f}</text>')
    for power in range(int(top) + 1):
        yy = base - plot_h * power / top if top > 0 else base
        parts.append(
            f'<text x="{pad_l - 6}" y="{yy + 4:.1f}" text-anchor="end">{10**power:,}</text>'
        )
    parts.append(
        f'<text x="{pad_l + plot_w / 2}" y="{height - 2}" text-anchor="middle">'
        "match weight (bits)</text></svg>"
    )
    return _trusted("".join(parts))


def share_bars_svg(rows: list[tuple[str, float | None]], label_width: int = 230) -> Markup:
    """Horizontal bars of shares in [0, 1], one per labelled row."""
    row_h, width = 22, 760
    plot_w = width - label_width - 70
    parts = [f'<svg viewBox="0 0 {width} {row_h * len(rows) + 6}" class="chart" role="img">']
    for i, (label, share) in enumerate(rows):
        y = i * row_h + 3
        value = share or 0.0
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 14}" text-anchor="end">{escape(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{plot_w}" height="{row_h - 6}" '
            f'fill="#edf2f7"/><rect x="{label_width}" y="{y}" width="{plot_w * value:.1f}" '
            f'height="{row_h - 6}" fill="{_BAR}"/>'
            f'<text x="{label_width + plot_w + 6}" y="{y + 14}">{_fmt(share, pct=True)}</text>'
        )
    parts.append("</svg>")
    return _trusted("".join(parts))


def mu_bars_svg(level: dict[str, Any]) -> Markup:
    """Two small bars (m above, u below) for one comparison level."""
    m, u = level["m"], level["u"]
    if m is None or u is None:
        return _trusted('<span class="muted">ignored</span>')
    return _trusted(
        '<svg viewBox="0 0 120 18" class="mu" role="img">'
        f'<title>m = {m:.4f}, u = {u:.4f}</title>'
        f'<rect x="0" y="1" width="{120 * m:.1f}" height="7" fill="{_BAR}"/>'
        f'<rect x="0" y="10" width="{120 * u:.1f}" height="7" fill="{_ACCENT}"/></svg>'
    )


def _template_source() -> str:
    return resources.files("hub.linkage").joinpath("report.html.j2").read_text("utf-8")


def render_html(report: dict[str, Any], title: str = "Linkage quality report") -> str:
    """The report (from :func:`hub.linkage.link`) as a self-contained HTML page."""
    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["pct"] = lambda x: _fmt(x, pct=True)
    env.globals["mu_bars"] = mu_bars_svg
    threshold = report["config"]["threshold"]
    threshold_weight = math.log2(threshold / (1 - threshold)) if 0 < threshold < 1 else 0.0
    completeness_rows = []
    for agency in report["agencies"]:
        for column, share in agency["completeness"].items():
            completeness_rows.append((f"{agency['name']} · {column}", share))
    charts = {
        "weights": weight_histogram_svg(report["weights"], threshold_weight),
        "agency_rates": share_bars_svg(
            [(a["name"], a["match_rate"]) for a in report["agencies"]]
        ),
        "pair_rates": share_bars_svg(
            [
                (f"{p['left']} → {p['right']}", p["match_rate"][0])
                for p in report["pairs"]
            ]
            + [
                (f"{p['right']} → {p['left']}", p["match_rate"][1])
                for p in report["pairs"]
            ]
        ),
        "completeness": share_bars_svg(completeness_rows, label_width=330),
    }
    return env.from_string(_template_source()).render(
        title=title, report=report, charts=charts, threshold_weight=threshold_weight
    )
