"""Overtime charts show uploaded names as text: plotly renders a subset of HTML (links, bold) in tick labels and
hover text, so a name such as ``<a href="http://x">y</a>`` must arrive escaped."""

from __future__ import annotations

import pandas as pd

from src.ui import charts_overtime as charts

EVIL = '<a href="http://evil.example">Eve</a>'


def test_fairness_bars_escape_names():
    per = pd.DataFrame({"staff_id": ["S1", "S2"], "name": [EVIL, "Ben"], "value": [10.0, 5.0],
                        "over_utilised": [True, False], "under_utilised": [False, True], "hours_worked": [8.0, 4.0],
                        "hours_charged": [10.0, 5.0], "contract_hours": [40.0, 40.0]})
    fig = charts.fairness_bars(per, 7.5)
    labels = list(fig.data[0].x)
    assert labels == ['&lt;a href="http://evil.example"&gt;Eve&lt;/a&gt; (S1)', "Ben (S2)"]


def test_score_breakdown_escapes_names_and_factor_labels():
    rows = [{"rank": 1, "staff_id": "S1", "name": EVIL, "factor": f, "value": 0.5, "weight": 0.2, "points": 10.0,
             "label": "prefers <b>Haus</b>", "is_prior": False} for f in charts.FACTOR_LABELS]
    fig = charts.score_breakdown(pd.DataFrame(rows))
    assert all(list(t.y) == ["1. &lt;a href=\"http://evil.example\"&gt;Eve&lt;/a&gt;"] for t in fig.data)
    assert fig.data[0].customdata[0][0] == "prefers &lt;b&gt;Haus&lt;/b&gt;"
    assert list(fig.layout.yaxis.categoryarray) == list(fig.data[0].y)
