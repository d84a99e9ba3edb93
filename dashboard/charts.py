"""Chart geometry for the dashboard's server-rendered SVG (no queries).

The charts mix units on purpose: x and widths are percentages of the chart's
width and y and heights are pixels, so one SVG without a viewBox fills a
phone or a desktop column while its text keeps the page's font size.
"""

from datetime import date

STATUS_ROW_HEIGHT = 30
STATUS_BAR_HEIGHT = 18
STATUS_LABEL_PCT = 40  # the label column; bars use the rest but a margin for the count
STATUS_BAR_PCT = 48

TREND_TOP = 22  # room for the scale's label
TREND_PLOT_HEIGHT = 150
TREND_AXIS_HEIGHT = 22
# Each day's bars, left to right: (series, left edge as a fraction of the day's slot).
TREND_SERIES = (("new_leads", 0.08), ("updates", 0.38), ("calls", 0.68))


def _pct(value):
    return f"{value:.3f}".rstrip("0").rstrip(".")


def status_chart(status_counts):
    """Horizontal bars, one per status in the order given: {"rows", "height", "total"}."""
    largest = max(status_counts.values(), default=0) or 1
    rows = []
    for index, (status, count) in enumerate(status_counts.items()):
        # A negative count (counters out of step) draws no bar rather than an invalid one.
        width = STATUS_BAR_PCT * max(count, 0) / max(largest, 1)
        top = index * STATUS_ROW_HEIGHT
        rows.append({
            "status": status,
            "count": count,
            "bar_x": _pct(STATUS_LABEL_PCT),
            "bar_width": _pct(width),
            "count_x": _pct(STATUS_LABEL_PCT + width),
            "bar_y": top + (STATUS_ROW_HEIGHT - STATUS_BAR_HEIGHT) // 2,
            "bar_height": STATUS_BAR_HEIGHT,
            "text_y": top + STATUS_ROW_HEIGHT // 2 + 5,
        })
    return {
        "rows": rows,
        "height": STATUS_ROW_HEIGHT * len(rows),
        "total": sum(status_counts.values()),
    }


def trend_chart(trend):
    """Grouped vertical bars per day (new leads, follow-up updates, calls), oldest
    day first: {"days", "max", "height", "plot_top", "plot_bottom", "label_y"}."""
    largest = max((max(day[series] for series, _ in TREND_SERIES) for day in trend), default=0)
    scale = largest or 1
    slot = 100 / len(trend) if trend else 100
    bar = slot * 0.26
    bottom = TREND_TOP + TREND_PLOT_HEIGHT
    days = []
    for index, day in enumerate(trend):
        left = index * slot
        bars = []
        for series, offset in TREND_SERIES:
            height = round(TREND_PLOT_HEIGHT * day[series] / scale, 1)
            bars.append({
                "series": series,
                "count": day[series],
                "x": _pct(left + slot * offset),
                "width": _pct(bar),
                "y": round(bottom - height, 1),
                "height": height,
            })
        on = date.fromisoformat(day["date"])
        days.append({
            "date": day["date"],
            "long_label": on.strftime("%a %d %b"),
            "day_label": on.day,
            "label_x": _pct(left + slot / 2),
            "bars": bars,
            "new_leads": day["new_leads"],
            "updates": day["updates"],
            "calls": day["calls"],
        })
    return {
        "days": days,
        "max": largest,
        "height": bottom + TREND_AXIS_HEIGHT,
        "plot_top": TREND_TOP,
        "plot_bottom": bottom,
        "label_y": bottom + 16,
        "first": days[0]["long_label"] if days else "",
        "last": days[-1]["long_label"] if days else "",
    }
