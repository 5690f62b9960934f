"""Server-rendered SVG charts and their CSV twins: no chart library, nothing for the browser to run.

A Chart is a table (categories x series); `svg()` draws grouped bars, `csv()` writes the same
numbers. Labels may come from payloads (an agent's name), so every text is escaped.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape


@dataclass(frozen=True)
class Chart:
    name: str  # the CSV file name and the element id
    title: str
    category: str  # the header of the first column
    categories: list[str]
    series: list[tuple[str, list[float]]]
    unit: str = ""

    def csv(self) -> str:
        rows: list[list[str | float]] = [[self.category, *(name for name, _ in self.series)]]
        rows += [[cat, *(values[i] for _, values in self.series)] for i, cat in enumerate(self.categories)]
        return csv_text(rows)

    def svg(self, width: int = 560, height: int = 220) -> Markup:
        left, right, top, bottom = 44, 8, 10, 42
        plot_w, plot_h = width - left - right, height - top - bottom
        peak = max((v for _, values in self.series for v in values), default=0.0) or 1.0
        n = max(1, len(self.categories))
        group = plot_w / n
        bar = max(1.0, (group * 0.8) / max(1, len(self.series)))
        parts = [
            f'<svg class="chart-svg" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(self.title)}"'
            ' xmlns="http://www.w3.org/2000/svg">',
            f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}"/>',
            f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
        ]
        for frac in (0.0, 0.5, 1.0):
            y = top + plot_h * (1 - frac)
            parts.append(f'<text class="label" x="{left - 4}" y="{y + 3:.1f}" text-anchor="end">'
                         f"{escape(_number(peak * frac))}{escape(self.unit)}</text>")
        widest = max((len(_short(c)) for c in self.categories), default=1)
        every = max(1, math.ceil(n * (widest * 6 + 8) / plot_w))  # labels that do not overlap
        for i, cat in enumerate(self.categories):
            x0 = left + i * group + group * 0.1
            for s, (name, values) in enumerate(self.series):
                v = values[i]
                h = plot_h * (v / peak)
                parts.append(
                    f'<rect class="s{s % 5}" x="{x0 + s * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}"'
                    f' height="{h:.1f}"><title>{escape(cat)} · {escape(name)}: {escape(_number(v))}'
                    f"{escape(self.unit)}</title></rect>"
                )
            if i % every == 0:
                parts.append(f'<text class="label" x="{left + i * group + group / 2:.1f}" y="{top + plot_h + 14}"'
                             f' text-anchor="middle">{escape(_short(cat))}</text>')
        parts.append("</svg>")
        return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def _number(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.1f}"


def _short(label: str, size: int = 14) -> str:
    if re.fullmatch(r"\d{4}-\d\d-\d\d", label):
        return label[5:]  # a day: the year is in the period
    return label if len(label) <= size else label[: size - 1] + "…"


def csv_text(rows: Iterable[Sequence[str | float]]) -> str:
    """CSV for spreadsheets, the one writer of the dashboard's CSV: every cell formula-guarded, and
    CRLF line ends (RFC 4180), with which the csv module quotes a cell holding a CR or an LF (with
    "\n" line ends it leaves a bare CR unquoted, and a spreadsheet starts a new row there).
    Numbers are written as numbers (a negative one is no formula)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([_cell(c) if isinstance(c, str) else _number(c) for c in row] for row in rows)
    return out.getvalue()


def _cell(text: str) -> str:
    """A spreadsheet must not run a payload's text as a formula (=, +, -, @ lead a formula)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") else text
