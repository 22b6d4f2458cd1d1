"""Charts drawn on the server as inline SVG (no script, no external library)."""

from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ("#3b6ea8", "#d08c2e", "#5b9e5b", "#b84a4a", "#7d5ba6", "#3a9a9a", "#a67d5b", "#777")


def stacked_bars(
    series: dict[str, dict[str, int]], keys: list[str], *, width: int = 720, height: int = 220,
    title: str = "",
) -> Markup:
    """Stacked columns: one per x label (e.g. week), one colour per key (e.g. category)."""
    labels = list(series)
    if not labels:
        return Markup('<p class="empty">No data in this window.</p>')
    top = max(sum(series[x].values()) for x in labels) or 1
    pad_l, pad_b, pad_t = 40, 40, 10
    plot_w, plot_h = width - pad_l - 150, height - pad_b - pad_t
    bw = min(plot_w / len(labels), 60.0)
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}"><title>{escape(title)}</title>']
    parts.append(f'<text x="4" y="{pad_t + 10}" class="axis">{top}</text>')
    parts.append(f'<line x1="{pad_l}" y1="{pad_t + plot_h}" x2="{pad_l + plot_w}" '
                 f'y2="{pad_t + plot_h}" class="axisline"/>')
    for i, x in enumerate(labels):
        y: float = pad_t + plot_h
        for k, key in enumerate(keys):
            n = series[x].get(key, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            parts.append(
                f'<rect x="{pad_l + i * bw + 2:.1f}" y="{y:.1f}" width="{max(bw - 4, 1):.1f}" '
                f'height="{h:.1f}" fill="{PALETTE[k % len(PALETTE)]}">'
                f"<title>{escape(x)} {escape(key)}: {n}</title></rect>"
            )
        if len(labels) <= 16 or i % max(1, len(labels) // 8) == 0:
            parts.append(f'<text x="{pad_l + i * bw + bw / 2:.1f}" y="{height - 22}" '
                         f'class="axis" text-anchor="middle">{escape(x[5:])}</text>')
    for k, key in enumerate(keys):
        y = pad_t + 14 + k * 18
        parts.append(f'<rect x="{width - 140}" y="{y - 10}" width="12" height="12" '
                     f'fill="{PALETTE[k % len(PALETTE)]}"/>')
        parts.append(f'<text x="{width - 122}" y="{y}" class="axis">{escape(key)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(values: list[tuple[str, float]], *, width: int = 520, unit: str = "") -> Markup:
    """Horizontal bars with labels, for per-rule figures."""
    if not values:
        return Markup('<p class="empty">No data in this window.</p>')
    top = max(v for _, v in values) or 1
    row = 22
    height = row * len(values) + 6
    parts = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}">']
    for i, (label, v) in enumerate(values):
        y = 3 + i * row
        w = (width - 260) * v / top
        parts.append(f'<text x="0" y="{y + 14}" class="axis">{escape(label[:36])}</text>')
        parts.append(f'<rect x="220" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
                     f'fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{224 + w:.1f}" y="{y + 14}" class="axis">{v:g}{unit}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
