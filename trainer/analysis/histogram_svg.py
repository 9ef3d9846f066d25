"""A small server-rendered SVG bar chart of a score distribution, readable by screen readers."""
from __future__ import annotations

from html import escape

BAR_WIDTH = 36
BAR_GAP = 8
PLOT_HEIGHT = 160
MARGIN_LEFT = 12
MARGIN_RIGHT = 12
MARGIN_TOP = 40  # room for the title and the counts above the tallest bar
MARGIN_BOTTOM = 32  # room for the bucket labels
BAR_COLOUR = "#2b6cb0"
TEXT_COLOUR = "#1a202c"
AXIS_COLOUR = "#4a5568"


def score_histogram_svg(buckets: list[int], labels: list[str], title: str) -> str:
    """Return an SVG bar chart with one bar per bucket, heights proportional to the counts."""
    if len(buckets) != len(labels):
        raise ValueError(f"{len(buckets)} buckets but {len(labels)} labels")
    if any(count < 0 for count in buckets):
        raise ValueError("bucket counts cannot be negative")
    plot_width = len(buckets) * BAR_WIDTH + max(len(buckets) - 1, 0) * BAR_GAP
    width = MARGIN_LEFT + plot_width + MARGIN_RIGHT
    height = MARGIN_TOP + PLOT_HEIGHT + MARGIN_BOTTOM
    baseline = MARGIN_TOP + PLOT_HEIGHT
    tallest = max(buckets, default=0)
    summary = _summary(buckets, labels, title)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label={_attr(summary)}>',
        f"<title>{escape(title)}</title>",
        f'<text x="{MARGIN_LEFT}" y="16" font-size="13" font-weight="bold" fill="{TEXT_COLOUR}" '
        f'aria-hidden="true">{escape(title)}</text>',
    ]
    for index, (count, label) in enumerate(zip(buckets, labels, strict=True)):
        x = MARGIN_LEFT + index * (BAR_WIDTH + BAR_GAP)
        # An empty chart (every count 0) draws no bars rather than dividing by zero.
        bar_height = PLOT_HEIGHT * count / tallest if tallest else 0
        centre = x + BAR_WIDTH / 2
        parts += [
            f'<rect class="bar" x="{x}" y="{_number(baseline - bar_height)}" width="{BAR_WIDTH}" '
            f'height="{_number(bar_height)}" fill="{BAR_COLOUR}" data-count="{count}">'
            f"<title>{escape(label)}: {_attempts(count)}</title></rect>",
            f'<text class="count" x="{_number(centre)}" y="{_number(baseline - bar_height - 4)}" '
            f'font-size="11" text-anchor="middle" fill="{TEXT_COLOUR}" aria-hidden="true">'
            f"{count}</text>",
            f'<text class="label" x="{_number(centre)}" y="{baseline + 16}" font-size="10" '
            f'text-anchor="middle" fill="{TEXT_COLOUR}" aria-hidden="true">{escape(label)}</text>',
        ]
    parts += [
        f'<line x1="{MARGIN_LEFT}" y1="{baseline}" x2="{width - MARGIN_RIGHT}" y2="{baseline}" '
        f'stroke="{AXIS_COLOUR}" stroke-width="1"/>',
        "</svg>",
    ]
    return "\n".join(parts)


def _summary(buckets: list[int], labels: list[str], title: str) -> str:
    """Say in words what the bars show, for screen readers."""
    if not any(buckets):
        return f"{title}: no attempts yet."
    counts = ", ".join(f"{label}: {count}" for label, count in zip(labels, buckets, strict=True))
    return f"{title}. Attempts per score range: {counts}."


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def _attr(value: str) -> str:
    """Return a double-quoted, escaped attribute value."""
    return f'"{escape(value, quote=True)}"'


def _number(value: float) -> str:
    # Two decimals are plenty on screen and keep the markup short and stable.
    return f"{value:.2f}".rstrip("0").rstrip(".")


def status_bars_svg(counts: list[tuple[str, int]], title: str) -> str:
    """Horizontal bars with their labels on the left: for a few named counts (people by status)."""
    label_width, bar_space, row_height = 110, 200, 24
    tallest = max((count for _, count in counts), default=0)
    height = 28 + row_height * len(counts)
    width = label_width + bar_space + 40
    summary = f"{title}: " + ", ".join(f"{label} {count}" for label, count in counts)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label={_attr(summary)}>',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="13" font-weight="bold" fill="{TEXT_COLOUR}" aria-hidden="true">'
        f"{escape(title)}</text>",
    ]
    for index, (label, count) in enumerate(counts):
        y = 28 + index * row_height
        length = bar_space * count / tallest if tallest else 0
        parts += [
            f'<text x="{label_width - 8}" y="{y + 15}" font-size="12" text-anchor="end" fill="{TEXT_COLOUR}" '
            f'aria-hidden="true">{escape(label)}</text>',
            f'<rect class="bar" x="{label_width}" y="{y + 3}" width="{_number(length)}" height="{row_height - 8}" '
            f'fill="{BAR_COLOUR}" data-count="{count}"><title>{escape(label)}: {count}</title></rect>',
            f'<text x="{_number(label_width + length + 6)}" y="{y + 15}" font-size="12" fill="{TEXT_COLOUR}" '
            f'aria-hidden="true">{count}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)
