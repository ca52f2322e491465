"""Chart builders: pure functions returning plotly figures (tested on ``fig.data``; pages only draw them)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go


def daily_volume(daily: pd.DataFrame, title: str) -> go.Figure:
    """Lines of volume per day, one per queue. ``daily`` has columns date, queue, volume."""
    fig = go.Figure()
    for queue, grp in daily.groupby("queue", sort=True):
        fig.add_trace(go.Scatter(x=grp["date"], y=grp["volume"], mode="lines", name=str(queue)))
    fig.update_layout(title=title, height=340, margin=dict(l=10, r=10, t=50, b=10),
                      legend=dict(orientation="h", y=-0.2), yaxis_title="contacts per day")
    return fig


def issue_counts(report_frame: pd.DataFrame) -> go.Figure:
    """Bar chart of validation problems per column and severity (where the file needs fixing)."""
    fig = go.Figure()
    report_frame = report_frame[report_frame["severity"] != "info"] if len(report_frame) else report_frame  # notes
    if len(report_frame):
        counts = (report_frame.assign(column=report_frame["column"].fillna("(file)"))
                  .groupby(["severity", "column"]).size().reset_index(name="n"))
        for sev, grp in counts.groupby("severity"):
            fig.add_trace(go.Bar(x=grp["column"], y=grp["n"], name=str(sev),
                                 marker_color={"error": "#d62728", "warning": "#ff7f0e"}.get(str(sev), "#1f77b4")))
    fig.update_layout(title="Problems per column", barmode="stack", height=280, margin=dict(l=10, r=10, t=40, b=10))
    # counts: whole-number ticks (plotly labelled 0, 0.5, 1, 1.5 … for a handful of problems)
    most = int(report_frame.assign(column=report_frame["column"].fillna("(file)")).groupby("column").size().max()) \
        if len(report_frame) else 0
    fig.update_yaxes(tickformat=",d", rangemode="tozero", dtick=1 if most <= 10 else None, title="problems")
    return fig
