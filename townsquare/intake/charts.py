"""The burn-down chart, drawn server-side as SVG geometry (no JavaScript chart library)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from townsquare.core.quarters import Quarter, quarter_end, quarter_start
from townsquare.intake.selectors import BurnPoint

WIDTH, HEIGHT = 680, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 30


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True)
class BurnDownChart:
    width: int
    height: int
    actual_path: str
    ideal_path: str
    today_x: float | None
    zero_y: float
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    last_x: float
    last_y: float
    last_value: int
    summary: str


def _nice_step(span: int) -> int:
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000):
        if span / step <= 5:
            return step
    return max(1, span // 5)


def burn_down_chart(*, quarter: Quarter, allowance: int, points: list[BurnPoint], today: dt.date) -> BurnDownChart:
    start, end = quarter_start(quarter), quarter_end(quarter)
    days = (end - start).days + 1
    values = [p.available for p in points] + [allowance, 0]
    low, high = min(values), max(max(values), 1)
    step = _nice_step(high - low)
    low = (low // step) * step
    high = -(-high // step) * step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: dt.date) -> float:
        return round(LEFT + plot_w * min(max((day - start).days, 0), days) / days, 1)

    def y(value: int) -> float:
        return round(TOP + plot_h * (high - value) / (high - low), 1)

    path = f"M{x(points[0].day)},{y(points[0].available)}"
    for point in points[1:]:
        path += f" H{x(point.day)} V{y(point.available)}"
    end_x = x(min(today, end) + dt.timedelta(days=1)) if start <= today else x(start)
    path += f" H{end_x}"
    ideal = f"M{x(start)},{y(allowance)} L{round(LEFT + plot_w, 1)},{y(0)}"
    x_ticks = []
    month = start
    while month <= end:
        x_ticks.append(Tick(x(month), month.strftime("%b %-d")))
        month = (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    x_ticks.append(Tick(round(LEFT + plot_w, 1), end.strftime("%b %-d")))
    y_ticks = [Tick(y(v), str(v)) for v in range(low, high + 1, step)]
    last = points[-1]
    summary = (
        f"Burn-down for {quarter.label}: {allowance} points at the start, {last.available} available on "
        f"{min(today, end):%d %b}."
        if start <= today
        else f"{quarter.label} has not started yet."
    )
    return BurnDownChart(
        width=WIDTH,
        height=HEIGHT,
        actual_path=path,
        ideal_path=ideal,
        today_x=x(today) if start <= today <= end else None,
        zero_y=y(0),
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=HEIGHT - BOTTOM,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        last_x=end_x,
        last_y=y(last.available),
        last_value=last.available,
        summary=summary,
    )
