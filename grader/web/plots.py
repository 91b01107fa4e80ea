"""Small server-side SVG charts, so that plots show without JavaScript."""
from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT, PAD = 560, 260, 48
COLORS = ("#1f5fbf", "#c2410c", "#15803d", "#7e22ce")


def line_chart(title: str, series: dict[str, list[tuple[float, float]]], *, x_label: str, y_label: str,
               log_y: bool = False) -> str:
    """A line chart of (x, y) series; log_y plots log10(y) (non-positive values are dropped)."""
    def ty(y):
        return math.log10(y) if log_y else y
    points = {name: [(x, ty(y)) for x, y in data if not log_y or y > 0] for name, data in series.items()}
    xs = [x for data in points.values() for x, _ in data] or [0, 1]
    ys = [y for data in points.values() for _, y in data] or [0, 1]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    x1, y1 = (x1 if x1 > x0 else x0 + 1), (y1 if y1 > y0 else y0 + 1)

    def sx(x):
        return PAD + (x - x0) / (x1 - x0) * (WIDTH - 2 * PAD)

    def sy(y):
        return HEIGHT - PAD - (y - y0) / (y1 - y0) * (HEIGHT - 2 * PAD)
    parts = [_frame(title, x_label, y_label + (" (log scale)" if log_y else ""))]
    for tick in (y0, (y0 + y1) / 2, y1):
        label = f"1e{tick:.1f}" if log_y else f"{tick:.3g}"
        parts.append(f'<text x="{PAD - 6}" y="{sy(tick) + 4:.1f}" text-anchor="end" class="tick">{label}</text>')
    for tick in sorted({x0, x1}):
        parts.append(f'<text x="{sx(tick):.1f}" y="{HEIGHT - PAD + 16}" text-anchor="middle" class="tick">{tick:g}</text>')
    for k, (name, data) in enumerate(points.items()):
        color = COLORS[k % len(COLORS)]
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in data)
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        parts += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{color}"/>' for x, y in data]
        parts.append(f'<text x="{WIDTH - PAD}" y="{PAD - 20 + 14 * k}" text-anchor="end" fill="{color}" '
                     f'class="legend">{escape(name)}</text>')
    return _svg(title, parts)


def bar_chart(title: str, bars: list[tuple[str, float]], *, x_label: str) -> str:
    """Horizontal bars, longest first as given."""
    height = PAD + 28 * max(len(bars), 1) + 20
    top = max((value for _, value in bars), default=1) or 1
    parts = [f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" class="title">{escape(title)}</text>']
    for k, (label, value) in enumerate(bars):
        y = PAD + 28 * k
        width = (value / top) * (WIDTH - 260)
        parts.append(f'<text x="200" y="{y + 14}" text-anchor="end" class="tick">{escape(label)}</text>')
        parts.append(f'<rect x="208" y="{y}" width="{width:.1f}" height="18" fill="{COLORS[0]}"/>')
        parts.append(f'<text x="{214 + width:.1f}" y="{y + 14}" class="tick">{value:g}</text>')
    parts.append(f'<text x="{WIDTH / 2}" y="{height - 4}" text-anchor="middle" class="tick">{escape(x_label)}</text>')
    return _svg(title, parts, height)


def _frame(title, x_label, y_label):
    return (f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" class="title">{escape(title)}</text>'
            f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#555"/>'
            f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#555"/>'
            f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle" class="tick">{escape(x_label)}</text>'
            f'<text x="14" y="{HEIGHT / 2}" text-anchor="middle" class="tick" '
            f'transform="rotate(-90 14 {HEIGHT / 2})">{escape(y_label)}</text>')


def _svg(title, parts, height=HEIGHT):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" class="chart" '
            f'viewBox="0 0 {WIDTH} {height}" width="100%">' + "".join(parts) + "</svg>")
