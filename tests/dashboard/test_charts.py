from dashboard import charts
from leads.models import LeadStatus


def _trend(*numbers):
    """Days from (new leads, updates) or (new leads, updates, calls)."""
    return [{"date": f"2024-05-{day:02d}", "new_leads": new, "updates": updates,
             "calls": (calls or [0])[0]}
            for day, (new, updates, *calls) in enumerate(numbers, start=1)]


def test_status_chart_scales_bars_to_the_largest_count():
    counts = dict.fromkeys(LeadStatus.values, 0) | {"confirmed": 4, "open": 2}
    chart = charts.status_chart(counts)
    widths = {row["status"]: row["bar_width"] for row in chart["rows"]}
    assert widths == {"did_not_pick_up": "0", "needs_followup": "0", "confirmed": "48",
                      "open": "24", "completed": "0", "feedback": "0", "lost": "0"}
    assert (chart["total"], chart["height"]) == (6, 7 * charts.STATUS_ROW_HEIGHT)
    assert chart["rows"][2]["count_x"] == "88"  # the count sits after its bar


def test_status_chart_of_nothing_or_a_negative_count_draws_no_bar():
    chart = charts.status_chart({"open": 0, "confirmed": -1})
    assert [row["bar_width"] for row in chart["rows"]] == ["0", "0"]


def test_trend_chart_groups_bars_per_day_on_one_scale():
    chart = charts.trend_chart(_trend((0, 0, 0), (2, 4, 1)))
    assert chart["max"] == 4
    first, second = chart["days"]
    assert [bar["series"] for bar in first["bars"]] == ["new_leads", "updates", "calls"]
    assert [bar["height"] for bar in first["bars"] + second["bars"]] == [
        0, 0, 0, charts.TREND_PLOT_HEIGHT / 2, charts.TREND_PLOT_HEIGHT,
        charts.TREND_PLOT_HEIGHT / 4]
    assert [bar["x"] for bar in first["bars"]] == ["4", "19", "34"]
    assert second["bars"][1]["y"] == charts.TREND_TOP
    assert (second["long_label"], second["day_label"], second["label_x"]) == (
        "Thu 02 May", 2, "75")


def test_trend_chart_of_empty_days_keeps_a_scale_of_one():
    chart = charts.trend_chart(_trend(*[(0, 0)] * 14))
    assert (chart["max"], len(chart["days"])) == (0, 14)
    assert {bar["height"] for day in chart["days"] for bar in day["bars"]} == {0}


def test_trend_chart_scales_to_the_calls_when_they_are_the_largest():
    chart = charts.trend_chart(_trend((1, 2, 8)))
    assert chart["max"] == 8
    assert [bar["height"] for bar in chart["days"][0]["bars"]] == [
        round(charts.TREND_PLOT_HEIGHT / 8, 1), charts.TREND_PLOT_HEIGHT / 4,
        charts.TREND_PLOT_HEIGHT]
    assert chart["days"][0]["calls"] == 8
