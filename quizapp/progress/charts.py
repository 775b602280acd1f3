"""Geometry for the server-rendered SVG charts: numbers in, coordinates and words out; templates draw them.

No styles here: the templates put coordinates in SVG attributes (which the strict CSP allows) and classes from
progress.css on the shapes. Every chart gets a title and a description that say what it shows in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.template.defaultfilters import date as date_filter
from django.utils import timezone


@dataclass
class Point:
    x: float
    y: float
    label: str
    above: bool  # at or above the pass mark: drawn filled, below it hollow (not colour alone)
    url: str = ""

    @property
    def corner_x(self):  # a drill's square marker is drawn from its corner
        return round(self.x - 4, 1)

    @property
    def corner_y(self):
        return round(self.y - 4, 1)


@dataclass
class Chart:
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    points: list[Point] = field(default_factory=list)
    line: str = ""
    pass_y: float | None = None
    pass_label: str = ""
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    x_labels: list[tuple[float, str, str]] = field(default_factory=list)  # (x, text, text-anchor)
    title: str = ""
    desc: str = ""

    @property
    def pass_label_x(self):
        return self.right + 4

    @property
    def tick_x(self):
        return self.left - 4

    @property
    def label_y(self):
        return self.bottom + 16


def _y(value: float, top: float, bottom: float) -> float:
    return round(bottom - (bottom - top) * max(0.0, min(100.0, value)) / 100, 1)


def _xs(count: int, left: float, right: float) -> list[float]:
    if count == 1:
        return [round((left + right) / 2, 1)]
    step = (right - left) / (count - 1)
    return [round(left + i * step, 1) for i in range(count)]


def _short_day(moment) -> str:
    return date_filter(timezone.localtime(moment), "j M")


def score_chart(points, *, pass_mark: int, what: str, url_for=None) -> Chart:
    """Score per attempt in time order, with the pass-mark line; `what` names the series ("timed attempt")."""
    chart = Chart(width=400, height=220, left=36, top=12, right=356, bottom=190)
    ticks = sorted({0, 25, 50, 100, pass_mark})
    chart.y_ticks = [(_y(v, chart.top, chart.bottom), f"{v}%") for v in ticks]
    chart.pass_y = _y(pass_mark, chart.top, chart.bottom)
    chart.pass_label = "Pass"  # in the right margin, level with the line; the 75% tick is on the left
    xs = _xs(len(points), chart.left + 8, chart.right - 8)
    for x, point in zip(xs, points, strict=True):
        label = f"{point.title}, {_short_day(point.finished_at)}: {point.percent:g}%"
        chart.points.append(
            Point(
                x=x,
                y=_y(point.percent, chart.top, chart.bottom),
                label=label,
                above=point.passed,
                url=url_for(point) if url_for else "",
            )
        )
    chart.line = " ".join(f"{p.x},{p.y}" for p in chart.points)
    if points:
        chart.x_labels = [(xs[0], _short_day(points[0].finished_at), "start")]
        if len(points) > 1:
            chart.x_labels.append((xs[-1], _short_day(points[-1].finished_at), "end"))
    n = len(points)
    chart.title = f"Score per {what}, {n} attempt{'s' if n != 1 else ''}"
    chart.desc = describe_scores(points, pass_mark=pass_mark)
    return chart


def describe_scores(points, *, pass_mark: int) -> str:
    if not points:
        return "No attempts yet."
    first, last = points[0], points[-1]
    best = max(p.percent for p in points)
    passed = sum(p.passed for p in points)
    words = [
        f"From {_short_day(first.finished_at)} to {_short_day(last.finished_at)}.",
        f"Latest {last.percent:g}%, best {best:g}%;",
        f"{passed} of {len(points)} at or above the {pass_mark}% pass mark.",
    ]
    if len(points) > 1:
        change = last.percent - first.percent
        direction = "up" if change > 0 else "down" if change < 0 else "level"
        words.append(f"Trend: {direction} {abs(change):g} points since the first shown.")
    return " ".join(words)


def trend_chart(stat, *, pass_mark: int) -> Chart:
    """One domain's weekly accuracy (a small multiple); weeks without answers leave a gap in the points."""
    chart = Chart(width=160, height=70, left=4, top=6, right=156, bottom=62)
    chart.pass_y = _y(pass_mark, chart.top, chart.bottom)
    xs = _xs(len(stat.weekly), chart.left + 4, chart.right - 4)
    weeks_with_data = []
    for x, (start, correct, total) in zip(xs, stat.weekly, strict=True):
        if not total:
            continue
        value = 100 * correct / total
        label = f"Week of {date_filter(start, 'j M')}: {round(value)}% of {total}"
        chart.points.append(Point(x=x, y=_y(value, chart.top, chart.bottom), label=label, above=value >= pass_mark))
        weeks_with_data.append(round(value))
    chart.line = " ".join(f"{p.x},{p.y}" for p in chart.points)
    chart.title = f"Domain {stat.number} weekly accuracy"
    if not weeks_with_data:
        chart.desc = f"No answers in the last {len(stat.weekly)} weeks."
    else:
        chart.desc = (
            f"{len(weeks_with_data)} of the last {len(stat.weekly)} weeks with answers; "
            f"first {weeks_with_data[0]}%, latest {weeks_with_data[-1]}%, pass mark {pass_mark}%."
        )
    return chart
