"""Charts drawn on the server as inline SVG (no script, no external library)."""

from __future__ import annotations

from markupsafe import Markup, escape

PALETTE = ("#3b6ea8", "#d08c2e", "#5b9e5b", "#b84a4a", "#7d5ba6", "#3a9a9a", "#a67d5b", "#777")


def _ticks(top: int) -> list[int]:
    """Round tick values from 0 to the first tick at or above ``top``: at most six of them."""
    if top <= 0:
        return [0, 1]
    power = 1
    while True:
        for m in (1, 2, 5):
            step = m * power
            if top / step <= 5:
                return list(range(0, -(-top // step) * step + 1, step))
        power *= 10


def stacked_bars(
    series: dict[str, dict[str, int]], keys: list[str], *, width: int = 960, height: int = 280,
    title: str = "", y_label: str = "", x_label: str = "week starting",
    empty: str = "No data in this window.",
) -> Markup:
    """Stacked columns across the page: one per x label (a week), one colour per key (a
    category), with a labelled y axis, gridlines, each column's total and a legend, so a trend
    reads at a glance and every value can be read off."""
    labels = list(series)
    totals = [sum(series[x].values()) for x in labels]
    if not labels or not any(totals):
        return Markup(f'<p class="empty">{escape(empty)}</p>')
    ticks = _ticks(max(totals))
    top = ticks[-1]
    legend_h = 22 * ((len(keys) + 5) // 6)
    pad_l, pad_r, pad_t, pad_b = 56, 12, 14 + legend_h, 52
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    slot = plot_w / len(labels)
    bw = min(slot * 0.7, 64.0)
    base = pad_t + plot_h
    parts = [f'<svg class="chart wide" role="img" viewBox="0 0 {width} {height}" '
             f'preserveAspectRatio="xMinYMin meet"><title>{escape(title)}</title>']
    for k, key in enumerate(keys):  # legend, in rows of six above the plot
        lx, ly = pad_l + (k % 6) * 150, 14 + (k // 6) * 22
        parts.append(f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" '
                     f'fill="{PALETTE[k % len(PALETTE)]}"/>')
        parts.append(f'<text x="{lx + 18}" y="{ly}" class="axis">{escape(key)}</text>')
    for t in ticks:
        ty = base - plot_h * t / top
        parts.append(f'<line x1="{pad_l}" y1="{ty:.1f}" x2="{pad_l + plot_w}" y2="{ty:.1f}" '
                     f'class="{"axisline" if t == 0 else "gridline"}"/>')
        parts.append(f'<text x="{pad_l - 6}" y="{ty + 4:.1f}" class="axis" '
                     f'text-anchor="end">{t}</text>')
    if y_label:
        parts.append(f'<text x="14" y="{pad_t + plot_h / 2:.1f}" class="axis label" '
                     f'text-anchor="middle" transform="rotate(-90 14 {pad_t + plot_h / 2:.1f})">'
                     f"{escape(y_label)}</text>")
    every = max(1, -(-len(labels) // 14))  # at most 14 x labels
    for i, (x, total) in enumerate(zip(labels, totals, strict=True)):
        cx = pad_l + i * slot + slot / 2
        y: float = base
        for k, key in enumerate(keys):
            n = series[x].get(key, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            parts.append(
                f'<rect x="{cx - bw / 2:.1f}" y="{y:.1f}" width="{bw:.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(x)} {escape(key)}: {n}'
                "</title></rect>"
            )
        if total:
            parts.append(f'<text x="{cx:.1f}" y="{y - 4:.1f}" class="axis total" '
                         f'text-anchor="middle">{total}</text>')
        if i % every == 0:
            parts.append(f'<text x="{cx:.1f}" y="{base + 16}" class="axis" '
                         f'text-anchor="middle">{escape(x[5:])}</text>')
    parts.append(f'<text x="{pad_l + plot_w / 2:.1f}" y="{height - 8}" class="axis label" '
                 f'text-anchor="middle">{escape(x_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def hbars(values: list[tuple[str, float]], *, width: int = 960, unit: str = "",
          top: float | None = None, empty: str = "No data in this window.") -> Markup:
    """Horizontal bars with labels, for per-rule figures; ``top`` fixes the scale (1 for a
    precision) so bars compare across reports."""
    if not values:
        return Markup(f'<p class="empty">{escape(empty)}</p>')
    top = top or max(v for _, v in values) or 1
    row, label_w = 22, 340
    height = row * len(values) + 24
    bar_w = width - label_w - 60
    parts = [f'<svg class="chart wide" role="img" viewBox="0 0 {width} {height}" '
             f'preserveAspectRatio="xMinYMin meet">']
    for i, (label, v) in enumerate(values):
        y = 3 + i * row
        w = bar_w * v / top
        parts.append(f'<text x="0" y="{y + 14}" class="axis">{escape(label[:52])}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" '
                     f'fill="{PALETTE[0]}"><title>{escape(label)}: {v:g}{unit}</title></rect>')
        parts.append(f'<text x="{label_w + 4 + w:.1f}" y="{y + 14}" class="axis">{v:g}{unit}</text>')
    base = 3 + len(values) * row
    parts.append(f'<line x1="{label_w}" y1="{base}" x2="{label_w + bar_w}" y2="{base}" '
                 'class="axisline"/>')
    for frac in (0, 0.5, 1):
        parts.append(f'<text x="{label_w + bar_w * frac:.1f}" y="{base + 16}" class="axis" '
                     f'text-anchor="middle">{top * frac:g}{unit}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
