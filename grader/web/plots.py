"""Small server-side SVG charts, so that plots show without JavaScript. Sized to stay readable when a
phone scales them down: a narrow canvas, large type, log axes labelled at whole decades only, and
tick labels kept clear of the axis titles."""
from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT = 420, 260
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 58, 52  # the plot area's margins: room for ticks and titles
COLORS = ("#1f5fbf", "#c2410c", "#15803d", "#7e22ce")
BAR_ROW = 44  # a bar's label on one line, the bar below it


def line_chart(title: str, series: dict[str, list[tuple[float, float]]], *, x_label: str, y_label: str,
               log_y: bool = False) -> str:
    """A line chart of (x, y) series; log_y plots log10(y) (non-positive values are dropped) and
    labels the whole decades the data spans."""
    points = {name: [(x, math.log10(y) if log_y else y) for x, y in data if not log_y or y > 0]
              for name, data in series.items()}
    xs = [x for data in points.values() for x, _ in data] or [0, 1]
    ys = [y for data in points.values() for _, y in data] or [0, 1]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(ys), max(ys)
    if log_y:
        y0, y1 = math.floor(y0), math.ceil(y1)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)

    def sx(x):
        return LEFT + (x - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT)

    def sy(y):
        return HEIGHT - BOTTOM - (y - y0) / (y1 - y0) * (HEIGHT - TOP - BOTTOM)
    parts = [_frame(title, x_label, y_label + (" (log scale)" if log_y else ""))]
    for tick in (_decades(y0, y1) if log_y else (y0, (y0 + y1) / 2, y1)):
        label = f'10<tspan dy="-6" class="exp">{str(tick).replace("-", "−")}</tspan>' if log_y else f"{tick:.3g}"
        parts.append(f'<text x="{LEFT - 8}" y="{sy(tick) + 5:.1f}" text-anchor="end" class="tick">{label}</text>')
    for tick in _x_ticks(x0, x1):
        parts.append(f'<text x="{sx(tick):.1f}" y="{HEIGHT - BOTTOM + 20}" text-anchor="middle" '
                     f'class="tick">{tick:g}</text>')
    legend_x = LEFT
    for k, (name, data) in enumerate(points.items()):
        color = COLORS[k % len(COLORS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in data)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        parts += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{color}"/>' for x, y in data]
        parts.append(f'<text x="{legend_x}" y="{TOP - 16}" fill="{color}" class="legend">● {escape(name)}</text>')
        legend_x += 24 + 8 * len(name)  # one line under the title, side by side
    return _svg(title, parts)


def _decades(y0: int, y1: int) -> list[int]:
    """Whole decades from y0 to y1, thinned to at most six labels."""
    step = max(1, math.ceil((y1 - y0) / 5))
    return list(range(int(y0), int(y1) + 1, step))


def _x_ticks(x0: float, x1: float) -> list[float]:
    if float(x0).is_integer() and float(x1).is_integer() and x1 - x0 <= 12:
        step = 1 if x1 - x0 <= 6 else 2
        return list(range(int(x0), int(x1) + 1, step))
    return sorted({x0, x1})


def bar_chart(title: str, bars: list[tuple[str, float]], *, x_label: str) -> str:
    """Horizontal bars, in the order given, each under its own label (long labels need no margin)."""
    height = TOP + BAR_ROW * max(len(bars), 1) + 28
    top = max((value for _, value in bars), default=1) or 1
    parts = [f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" class="title">{escape(title)}</text>']
    for k, (label, value) in enumerate(bars):
        y = TOP + BAR_ROW * k
        width = (value / top) * (WIDTH - 80)
        text = label if len(label) <= 52 else label[:50] + "…"
        parts.append(f'<text x="4" y="{y + 12}" class="tick">{escape(text)}<title>{escape(label)}</title></text>')
        parts.append(f'<rect x="4" y="{y + 18}" width="{max(width, 1):.1f}" height="16" fill="{COLORS[0]}"/>')
        parts.append(f'<text x="{10 + width:.1f}" y="{y + 31}" class="tick">{value:g}</text>')
    parts.append(f'<text x="{WIDTH / 2}" y="{height - 6}" text-anchor="middle" class="tick">{escape(x_label)}</text>')
    return _svg(title, parts, height)


def _frame(title, x_label, y_label):
    return (f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" class="title">{escape(title)}</text>'
            f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" stroke="#555"/>'
            f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#555"/>'
            f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 8}" text-anchor="middle" class="axis-title">'
            f'{escape(x_label)}</text>'
            f'<text x="16" y="{(TOP + HEIGHT - BOTTOM) / 2}" text-anchor="middle" class="axis-title" '
            f'transform="rotate(-90 16 {(TOP + HEIGHT - BOTTOM) / 2})">{escape(y_label)}</text>')


def _svg(title, parts, height=HEIGHT):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" class="chart" '
            f'viewBox="0 0 {WIDTH} {height}" width="100%">' + "".join(parts) + "</svg>")
