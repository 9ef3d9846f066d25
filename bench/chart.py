"""A latency-over-time chart as a hand-written SVG: p50 and p95 per second, for each kind of request."""
from __future__ import annotations

import math
from collections import defaultdict
from html import escape

WIDTH, HEIGHT = 900, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 170, 40, 50
COLOURS = {"module page": "#7f7f7f", "start": "#d62728", "quiz page": "#1f77b4", "autosave": "#2ca02c",
           "submit": "#9467bd", "sign-in": "#ff7f0e"}


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of `values` (not empty)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


def per_second(samples: list, kind: str) -> list[tuple[int, float, float]]:
    """(second, p50 ms, p95 ms) of the requests of `kind` that started in each second."""
    buckets: dict[int, list[float]] = defaultdict(list)
    for started, sample_kind, latency_ms, _status in samples:
        if sample_kind == kind:
            buckets[int(started)].append(latency_ms)
    return [(second, percentile(v, 0.5), percentile(v, 0.95)) for second, v in sorted(buckets.items())]


def latency_svg(samples: list, title: str, kill_at: float | None = None) -> str:
    """The chart: time since the spike began across, latency (log scale) up; solid p95, dashed p50."""
    if not samples:
        return f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="80"><text x="10" y="40">' \
               f'{escape(title)}: no requests</text></svg>\n'
    seconds = max(1, math.ceil(max(s[0] for s in samples)))
    highest = max(s[2] for s in samples)
    decades = range(0, max(1, math.ceil(math.log10(max(highest, 10)))) + 1)  # 1 ms .. 10^k ms
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(second: float) -> float:
        return LEFT + plot_w * second / seconds

    def y(ms: float) -> float:
        return TOP + plot_h * (1 - math.log10(max(ms, 1)) / decades[-1])

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{escape(title)}</text>']
    for d in decades:
        label = f"{10 ** d:g} ms" if d < 3 else f"{10 ** (d - 3):g} s"
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(10 ** d):.1f}" y2="{y(10 ** d):.1f}" '
                   f'stroke="#ddd"/><text x="{LEFT - 6}" y="{y(10 ** d) + 4:.1f}" text-anchor="end">{label}</text>')
    step = max(1, round(seconds / 10 / 5) * 5) if seconds > 10 else 1
    for second in range(0, seconds + 1, step):
        out.append(f'<text x="{x(second):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{second}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 10}" text-anchor="middle">seconds since the spike '
               f'began (requests by the second they started in)</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#888"/>')
    if kill_at is not None:
        out.append(f'<line x1="{x(kill_at):.1f}" x2="{x(kill_at):.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
                   f'stroke="black" stroke-dasharray="2 3"/><text x="{x(kill_at) + 4:.1f}" y="{TOP + 12}">'
                   f'worker killed</text>')
    kinds = [k for k in COLOURS if any(s[1] == k for s in samples)]
    for row, kind in enumerate(kinds):
        points = per_second(samples, kind)
        colour = COLOURS[kind]
        for index, dash in ((2, ""), (1, ' stroke-dasharray="4 3"')):
            path = " ".join(f"{x(p[0] + 0.5):.1f},{y(p[index]):.1f}" for p in points)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="1.5"{dash}/>')
        legend_y = TOP + 10 + row * 20
        out.append(f'<line x1="{WIDTH - RIGHT + 12}" x2="{WIDTH - RIGHT + 32}" y1="{legend_y}" y2="{legend_y}" '
                   f'stroke="{colour}" stroke-width="2"/><text x="{WIDTH - RIGHT + 38}" y="{legend_y + 4}">'
                   f'{escape(kind)}</text>')
    legend_y = TOP + 20 + len(kinds) * 20
    out.append(f'<text x="{WIDTH - RIGHT + 12}" y="{legend_y}">solid: p95</text>'
               f'<text x="{WIDTH - RIGHT + 12}" y="{legend_y + 16}">dashed: p50</text>')
    out.append("</svg>\n")
    return "\n".join(out)
