"""Small HTML pieces for the rich displays in Jupyter (`_repr_html_`): tables, inline SVG curves, text.

Plain HTML and SVG, no JavaScript and no matplotlib, so a display costs microseconds and survives being
saved in the notebook, exported, or rendered on GitHub.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence

_TABLE = "border-collapse:collapse;font-family:monospace;font-size:12px;margin:4px 0"
_CELL = "padding:2px 8px;border-bottom:1px solid #ddd;text-align:right"
_MARKED = "background:#fde2e1;font-weight:bold"
#: colours of successive curves (matplotlib's default cycle, so a plot and a display agree)
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")


def escape(value: object) -> str:
    return html.escape(str(value), quote=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[object]], marked: Iterable[int] = (),
          caption: str | None = None) -> str:
    """An HTML table; the rows whose index is in `marked` are highlighted (flagged parameters)."""
    marked = set(marked)
    head = "".join(f'<th style="{_CELL}">{escape(h)}</th>' for h in headers)
    body = []
    for i, row in enumerate(rows):
        style = f' style="{_MARKED}" class="gw-marked"' if i in marked else ""
        body.append(f"<tr{style}>" + "".join(f'<td style="{_CELL}">{escape(c)}</td>' for c in row) + "</tr>")
    cap = f"<caption style='text-align:left'>{escape(caption)}</caption>" if caption else ""
    return f'<table style="{_TABLE}">{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def text(lines: str) -> str:
    """Preformatted text (the plain `str` of an object) inside the display."""
    return f'<pre style="font-size:12px;margin:4px 0">{escape(lines)}</pre>'


def heading(title: str, colour: str = "#333") -> str:
    return f'<div style="font-weight:bold;color:{colour};margin:4px 0">{escape(title)}</div>'


def curves(series: dict[str, Sequence[float]], title: str, width: int = 320, height: int = 180) -> str:
    """Line plot of each series against its index (epoch), as inline SVG; non-finite points are skipped."""
    finite = [v for values in series.values() for v in values if math.isfinite(v)]
    n = max((len(v) for v in series.values()), default=0)
    if not finite or n == 0:
        return ""
    low, high = min(finite), max(finite)
    span = (high - low) or 1.0
    pad = 28

    def point(i: int, v: float) -> str:
        x = pad + (width - pad - 8) * (i / max(n - 1, 1))
        y = 8 + (height - pad - 8) * (1 - (v - low) / span)
        return f"{x:.1f},{y:.1f}"

    lines, legend = [], []
    for k, (name, values) in enumerate(series.items()):
        colour = COLOURS[k % len(COLOURS)]
        pts = " ".join(point(i, v) for i, v in enumerate(values) if math.isfinite(v))
        lines.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{pts}"/>')
        legend.append(f'<tspan fill="{colour}">{escape(name)}</tspan>')
    axes = (f'<text x="{pad}" y="{height - 10}" font-size="10">epoch 1</text>'
            f'<text x="{width - 8}" y="{height - 10}" font-size="10" text-anchor="end">{n}</text>'
            f'<text x="2" y="14" font-size="10">{high:.3g}</text>'
            f'<text x="2" y="{height - pad}" font-size="10">{low:.3g}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 14}" '
            f'style="margin:2px 8px 2px 0"><text x="{pad}" y="{height + 10}" font-size="11">{escape(title)}: '
            f'{" ".join(legend)}</text>{axes}{"".join(lines)}</svg>')
