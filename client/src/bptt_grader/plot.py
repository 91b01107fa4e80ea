"""A small inline SVG of the relative error per time step (log scale), for the HTML report."""
from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT, PAD = 420, 180, 40
COLORS = ("#1f5fbf", "#c2410c", "#15803d", "#7e22ce", "#b45309", "#0f766e", "#be123c")


def step_plot(steps: dict[str, list[list[float]]]) -> str:
    """One polyline per part: x the time step, y log10 of its relative error (zeros drawn at the floor)."""
    series = {name: [(t, math.log10(e) if e > 0 else None) for t, e in points] for name, points in steps.items() if points}
    ys = [y for points in series.values() for _, y in points if y is not None]
    xs = [t for points in series.values() for t, _ in points]
    if not xs:
        return ""
    y0, y1 = (min(ys), max(ys)) if ys else (-16.0, 0.0)
    y0, y1 = (y0 - 0.5, y1 + 0.5) if y1 - y0 < 1 else (y0, y1)
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1

    def sx(x):
        return PAD + (x - x0) / (x1 - x0) * (WIDTH - 2 * PAD)

    def sy(y):
        return HEIGHT - PAD - ((y0 if y is None else y) - y0) / (y1 - y0) * (HEIGHT - 2 * PAD)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" role="img" '
           f'aria-label="relative error per time step" style="font:11px sans-serif">',
           f'<text x="{WIDTH / 2}" y="14" text-anchor="middle">relative error per time step (log10)</text>',
           f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
           f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
           f'<text x="{PAD - 4}" y="{sy(y1) + 4:.1f}" text-anchor="end">{y1:.1f}</text>',
           f'<text x="{PAD - 4}" y="{sy(y0) + 4:.1f}" text-anchor="end">{y0:.1f}</text>',
           f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle">time step t</text>']
    for k, (name, points) in enumerate(series.items()):
        color = COLORS[k % len(COLORS)]
        line = " ".join(f"{sx(t):.1f},{sy(y):.1f}" for t, y in points)
        out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{line}"/>')
        out.append(f'<text x="{WIDTH - PAD}" y="{PAD + 12 * k}" text-anchor="end" fill="{color}">{escape(name)}</text>')
    out.append("</svg>")
    return "".join(out)
