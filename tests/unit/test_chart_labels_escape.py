"""Names from uploads in plotly labels are text: plotly renders <a href>, <b>, <br> in titles, ticks and legends."""

from __future__ import annotations

import pandas as pd

from src.ui import charts_people as ch
from src.ui.text import plain

EVIL = "<a href='http://x'>Ann</a>"


def test_plain_escapes_markup_only():
    assert plain(EVIL) == "&lt;a href='http://x'&gt;Ann&lt;/a&gt;"
    assert plain("Haus Lindenhof & Co") == "Haus Lindenhof &amp; Co"
    assert plain(None) == ""


def _no_live_markup(*texts: object) -> None:
    for text in texts:
        assert "<a" not in str(text) and "&lt;a" in str(text), text


def test_people_charts_show_names_as_text():
    rules = pd.DataFrame({"staff_id": ["A", "A"], "factor": ["skill", "workload"], "value": [1, 0.5],
                          "weight": [0.4, 0.2], "contribution": [0.4, 0.1]})
    fig = ch.rule_breakdown(rules, ["A"], {"A": EVIL})
    _no_live_markup(*fig.data[0].y)
    util = pd.DataFrame({"staff_id": ["A"], "name": [EVIL], "site": [EVIL], "tasks": [2], "assigned_hours": [3.0],
                         "capacity_hours": [10.0], "utilisation": [0.3]})
    fig = ch.utilisation_bars(util)
    _no_live_markup(fig.data[0].x[0], fig.data[0].name)
    model_long = pd.DataFrame({"staff_id": [EVIL] * 2, "feature": ["site", "hour"], "value": [EVIL, 9.0],
                               "contribution": [0.8, -0.2]})
    fig = ch.model_contributions(model_long, EVIL)
    _no_live_markup(fig.layout.title.text, fig.data[0].y[-1])
