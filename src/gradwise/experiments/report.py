"""The reproduction report: `report.md` (plots linked by relative path) and `report.html` (one self-contained
page, plots embedded as base64 PNG), rendered from the experiments' `Section`s.

Both lead with a summary of every check (the seeds' claim or number beside ours, ✓ / ✗), then one part per
experiment: the lesson, the protocol, tables, plots, checks and notes.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import os
import re
from collections.abc import Sequence
from pathlib import Path

from .._atomic import write_text
from .._version import __version__
from ._common import Section, Settings, verdict

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1180px;margin:2em auto;
padding:0 1.2em;color:#1d1d1f;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em} h2{margin-top:2.2em;border-bottom:2px solid #ddd;padding-bottom:.2em}
h3{font-size:1.05em;margin:1.4em 0 .4em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.88em}
th,td{border:1px solid #ccc;padding:.3em .55em;text-align:left;vertical-align:top}
th{background:#f3f3f5} tr:nth-child(even) td{background:#fafafa} tr.group td{border-top:2px solid #888}
td.pass{color:#137333;font-weight:600} td.fail{color:#b3261e;font-weight:700} td.skip{color:#777}
figure{margin:1em 0 1.6em} figure img{max-width:100%;border:1px solid #e3e3e3}
figcaption{font-size:.88em;color:#444;margin-top:.3em}
code{background:#f2f2f4;padding:0 .25em;border-radius:3px;font-size:.92em}
.meta{color:#555;font-size:.92em} .lesson{background:#f6f8fb;border-left:4px solid #5b8def;padding:.6em .9em}
.quick{background:#fff4e5;border-left:4px solid #f0a020;padding:.6em .9em}
nav ol{columns:2;column-gap:3em;font-size:.95em;list-style:none;padding-left:0}nav li{break-inside:avoid}
"""


def _header(settings: Settings, elapsed: float) -> tuple[str, list[str]]:
    when = _dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    meta = (f"gradwise {__version__}, {when}; {elapsed:.1f} s on {settings.workers} worker process(es); "
            f"statistics over {settings.seeds} fresh seed(s) ({', '.join(map(str, settings.fresh_seeds()))}), "
            "mean and 95% t-interval.")
    warnings = []
    if settings.quick:
        warnings.append("QUICK run: every experiment ran at a fraction of its iterations. Its numbers are not "
                        "the course's, and the comparisons with the seeds' printed numbers are not checked.")
    if settings.seeds < 2:
        warnings.append("One fresh seed only: no confidence interval can be given.")
    return meta, warnings


# ------------------------------------------------------------------------------------------ markdown


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(_md_cell(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return lines


def render_markdown(sections: Sequence[Section], settings: Settings, elapsed: float) -> str:
    meta, warnings = _header(settings, elapsed)
    lines = ["# gradwise reproduce: the experiments of the seeds", "", meta, ""]
    lines += [f"> **{w}**" for w in warnings] + ([""] if warnings else [])
    lines += ["## Summary", ""]
    lines += _md_table(["experiment", "claim", "seeds", "ours", "verdict"],
                       [[s.title if i == 0 else "", c.claim, c.seeds, c.ours, verdict(c.passed)]
                        for s in sections for i, c in enumerate(s.checks)])
    for s in sections:
        lines += ["", f"## {s.title}", "", s.lesson, "", "**Protocol**", ""]
        lines += [f"- {p}" for p in s.protocol]
        for t in s.tables:
            lines += ["", f"### {t.caption}", ""] + _md_table(t.headers, t.rows)
        for f in s.figures:
            lines += ["", f"![{f.caption}]({f.path})", "", f"*{f.caption}*"]
        if s.checks:
            lines += ["", "**Checks**", ""]
            lines += _md_table(["claim", "seeds", "ours", "verdict"],
                               [[c.claim, c.seeds, c.ours, verdict(c.passed)] for c in s.checks])
        if s.notes:
            lines += [""] + [f"- {n}" for n in s.notes]
        lines += ["", f"<sub>plots and tables built in {s.seconds:.1f} s</sub>"]
    return "\n".join(lines) + "\n"


def write_markdown(path: str | os.PathLike, sections: Sequence[Section], settings: Settings,
                   elapsed: float) -> Path:
    write_text(path, render_markdown(sections, settings, elapsed))
    return Path(path)


# ---------------------------------------------------------------------------------------------- html


def _inline(text: str) -> str:
    """Escape, then render `code` spans (the only markup the sections use)."""
    escaped = html.escape(str(text), quote=False)
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)


def _verdict_cell(passed: bool | None) -> str:
    cls = "skip" if passed is None else ("pass" if passed else "fail")
    return f'<td class="{cls}">{html.escape(verdict(passed))}</td>'


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[str]], verdicts: Sequence[bool | None] | None = None,
                group_starts: Sequence[bool] | None = None) -> list[str]:
    out = ["<table>"]
    out.append("<thead><tr>" + "".join(f"<th>{_inline(h)}</th>" for h in headers) + "</tr></thead><tbody>")
    for i, row in enumerate(rows):
        cells = []
        for c in row:
            text = str(c)
            cls = ' class="pass"' if text == "✓" else (' class="fail"' if text == "✗" else "")
            cells.append(f"<td{cls}>{_inline(text)}</td>")
        if verdicts is not None:
            cells.append(_verdict_cell(verdicts[i]))
        start = ' class="group"' if group_starts is not None and group_starts[i] and i else ""
        out.append(f"<tr{start}>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return out


def _image(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render_html(sections: Sequence[Section], settings: Settings, elapsed: float, base: str | os.PathLike) -> str:
    """The page; `base` is the directory the sections' figure paths are relative to (their PNGs are embedded)."""
    base = Path(base)
    meta, warnings = _header(settings, elapsed)
    body = ["<h1>gradwise reproduce: the experiments of the seeds</h1>", f'<p class="meta">{_inline(meta)}</p>']
    body += [f'<p class="quick"><strong>{_inline(w)}</strong></p>' for w in warnings]
    body.append("<nav><ol>" + "".join(f'<li><a href="#{s.key}">{_inline(s.title)}</a></li>' for s in sections)
                + "</ol></nav>")
    body.append('<h2 id="summary">Summary</h2>')
    checks = [(s, i, c) for s in sections for i, c in enumerate(s.checks)]
    body += _html_table(["experiment", "claim", "seeds", "ours", "verdict"],
                        [[s.title if i == 0 else "", c.claim, c.seeds, c.ours] for s, i, c in checks],
                        [c.passed for *_, c in checks], [i == 0 for _, i, _ in checks])
    for s in sections:
        body.append(f'<h2 id="{s.key}">{_inline(s.title)}</h2>')
        body.append(f'<p class="lesson">{_inline(s.lesson)}</p>')
        body.append("<h3>Protocol</h3><ul>" + "".join(f"<li>{_inline(p)}</li>" for p in s.protocol) + "</ul>")
        for t in s.tables:
            body.append(f"<h3>{_inline(t.caption)}</h3>")
            body += _html_table(t.headers, t.rows)
        for f in s.figures:
            body.append(f'<figure><img src="{_image(base / f.path)}" alt="{html.escape(f.caption)}">'
                        f"<figcaption>{_inline(f.caption)}</figcaption></figure>")
        if s.checks:
            body.append("<h3>Checks</h3>")
            body += _html_table(["claim", "seeds", "ours", "verdict"], [[c.claim, c.seeds, c.ours] for c in s.checks],
                                [c.passed for c in s.checks])
        if s.notes:
            body.append("<ul>" + "".join(f"<li>{_inline(n)}</li>" for n in s.notes) + "</ul>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>gradwise reproduce</title><style>{_CSS}</style></head><body>\n"
            + "\n".join(body) + "\n</body></html>\n")


def write_html(path: str | os.PathLike, sections: Sequence[Section], settings: Settings, elapsed: float,
               base: str | os.PathLike) -> Path:
    write_text(path, render_html(sections, settings, elapsed, base))
    return Path(path)


__all__ = ["render_markdown", "render_html", "write_markdown", "write_html"]
