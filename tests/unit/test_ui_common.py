"""UI helpers without a Streamlit run: what-if deltas and the daily staffing chart."""

from __future__ import annotations

import pandas as pd

from src.ui.charts_staffing import MAX_DAILY_SERIES, daily_chart, erlang_curve
from src.ui.common import metric_delta


def test_metric_delta_is_a_plain_zero_when_nothing_changes():
    # st.metric draws exactly "0" grey without an arrow; "+0" got a (red, inverse) up-arrow
    assert metric_delta(0.0, "{:+,.0f}") == "0"
    assert metric_delta(0.3, "{:+,.0f}") == "0"
    assert metric_delta(-0.04, "{:+.1f} pts") == "0"
    assert metric_delta(203.0, "{:+,.0f}") == "+203"
    assert metric_delta(-1234.0, "{:+,.0f}") == "-1,234"
    assert metric_delta(0.3, "{:+.1f} pts") == "+0.3 pts"
    assert metric_delta(float("nan"), "{:+.0f}") is None


def test_daily_chart_stacks_care_units_per_site_when_there_are_many():
    days = pd.date_range("2026-11-02", periods=3, freq="D")
    units = [f"Haus {h} · Station {u}" for h in "ABCD" for u in range(10)]  # 40 care units, like the demo
    daily = pd.DataFrame([{"queue": q, "date": d, "agents_total": 3} for q in units for d in days])
    fig = daily_chart(daily, value="agents_total")
    assert [t.name for t in fig.data] == ["Haus A", "Haus B", "Haus C", "Haus D"]
    assert list(fig.data[0].y) == [30, 30, 30]  # ten units of 3 staff per day
    few = daily[daily["queue"].isin(units[:3])]
    assert [t.name for t in daily_chart(few, value="agents_total").data] == units[:3]  # one bar per queue as before
    many_sites = daily.assign(queue=[q.replace(" · ", "-") for q in daily["queue"]])  # no site prefix to group by
    names = [t.name for t in daily_chart(many_sites, value="agents_total").data]
    assert len(names) == MAX_DAILY_SERIES and "other" in names


def test_erlang_curve_names_the_target_in_the_legend_not_on_the_tallest_bar():
    """The 'target 80%' label was an annotation at the right end of the target line, i.e. over the tallest bar
    (service level grows with agents), and unreadable. The target is now a dashed line named in the legend."""
    table = pd.DataFrame({"agents": range(10, 18), "service_level": [0.3, 0.5, 0.66, 0.78, 0.86, 0.92, 0.95, 0.97],
                          "asa_seconds": [90.0, 45.0, 25.0, 14.0, 8.0, 5.0, 3.0, 2.0]})
    fig = erlang_curve(table, sl_target=0.8, required=14)
    assert not fig.layout.annotations, "no text drawn inside the plot over the bars"
    target = next(t for t in fig.data if t.name == "target 80%")
    assert list(target.y) == [0.8, 0.8] and target.line.dash == "dash"
    assert target.x[0] < 10 and target.x[1] > 17, "the line spans every bar"
    assert target.showlegend is not False and fig.layout.showlegend is not False
    assert [t.name for t in erlang_curve(table, sl_target=None, required=14).data] == ["service level", "ASA (s)"]
