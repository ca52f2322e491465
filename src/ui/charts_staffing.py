"""Chart builders of the Staffing page: pure functions returning plotly figures (tested on ``fig.data``)."""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

REQUIRED = "#1f4e79"
PLANNED = "#2ca02c"
BASE = "#9aa5b1"
SL = "#d62728"
TARGET = "#ff7f0e"


def _on_grid(frame: pd.DataFrame, interval_seconds: float) -> pd.DataFrame:
    """Frame re-indexed on a regular time grid so closed hours show as gaps instead of sloped lines."""
    if frame.empty:
        return frame
    f = frame.sort_values("ds").drop_duplicates("ds").set_index("ds")
    grid = pd.date_range(f.index.min(), f.index.max(), freq=pd.Timedelta(seconds=float(interval_seconds)))
    if len(grid) > 20_000:  # a very long horizon: draw the points as they are
        return f.reset_index()
    return f.reindex(f.index.union(grid)).rename_axis("ds").reset_index()


def requirement_chart(
    intervals: pd.DataFrame,
    *,
    interval_seconds: float,
    planned: pd.DataFrame | None = None,
    base: pd.DataFrame | None = None,
    sl_target: float | None = None,
    title: str = "Required vs planned agents",
    people: str = "agents",
) -> go.Figure:
    """Required agents (after shrinkage) per interval as a step line, the shift plan's people when given, the
    requirement before the what-if when given, and the achieved service level on a secondary axis.

    ``intervals``: one queue's plan rows (ds, agents, service_level). ``planned``: shift-plan rows (ds, planned,
    service_level). ``base``: the plan rows without what-if changes (ds, agents). Closed intervals (no volume)
    have no service level: the SL line has a gap there. ``people="staff"`` labels a care unit's staff per day.
    ``title`` is shown as text (plotly would render HTML in it, and it holds queue names).
    """
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    iv = _on_grid(intervals[["ds", "agents", "service_level"]], interval_seconds)
    required = "Staff to schedule" if people == "staff" else "Required agents (after shrinkage)"
    if base is not None:
        b = _on_grid(base[["ds", "agents"]], interval_seconds)
        fig.add_trace(go.Scatter(x=b["ds"], y=b["agents"], name="Required as planned (before what-if)",
                                 mode="lines", line=dict(color=BASE, dash="dot", shape="hv")), secondary_y=False)
    fig.add_trace(go.Scatter(x=iv["ds"], y=iv["agents"], name=required, mode="lines",
                             line=dict(color=REQUIRED, width=2, shape="hv")), secondary_y=False)
    sl_frame, sl_name = iv, "Achieved SL (required agents)"
    if planned is not None and len(planned):
        p = _on_grid(planned[["ds", "planned", "service_level"]], interval_seconds)
        fig.add_trace(go.Scatter(x=p["ds"], y=p["planned"], name="Planned people (shift plan)", mode="lines",
                                 line=dict(color=PLANNED, width=2, shape="hv")), secondary_y=False)
        sl_frame, sl_name = p, "Achieved SL (planned people)"
    if sl_frame["service_level"].notna().any():
        fig.add_trace(go.Scatter(x=sl_frame["ds"], y=sl_frame["service_level"], name=sl_name, mode="lines+markers",
                                 marker=dict(size=4), line=dict(color=SL, width=1.5)), secondary_y=True)
        if sl_target is not None:
            fig.add_trace(go.Scatter(x=[iv["ds"].min(), iv["ds"].max()], y=[sl_target, sl_target],
                                     name=f"SL target {sl_target:.0%}", mode="lines",
                                     line=dict(color=TARGET, dash="dash")), secondary_y=True)
        fig.update_yaxes(title_text="service level", tickformat=".0%", range=[0, 1.02], secondary_y=True,
                         showgrid=False, tickvals=[0, 0.2, 0.4, 0.6, 0.8, 1.0], zeroline=False)
    fig.update_yaxes(title_text=people, rangemode="tozero", secondary_y=False)
    fig.update_layout(title=html.escape(title), height=420, margin=dict(l=10, r=10, t=50, b=10), hovermode="x unified",
                      legend=dict(orientation="h", y=-0.18))
    return fig


#: more stacked series than this and the legend (below the plot) took the chart's whole height
MAX_DAILY_SERIES = 12


def daily_chart(daily: pd.DataFrame, *, value: str = "agent_hours",
                title: str = "Scheduled hours per day") -> go.Figure:
    """Stacked bars of ``value`` per day, one colour per queue (``daily``: queue, date, value).

    With more than :data:`MAX_DAILY_SERIES` queues (the 40 care units of the demo) the bars are stacked per site
    instead — the part of a care unit's name before " · " — and, if there are still too many, the largest ones
    with the rest as "other"; the table under the chart keeps every queue.
    """
    fig = go.Figure()
    group = daily["queue"].astype(str)
    if group.nunique() > MAX_DAILY_SERIES:
        group = group.str.split(" · ", n=1).str[0]
    if group.nunique() > MAX_DAILY_SERIES:
        largest = daily.groupby(group)[value].sum().nlargest(MAX_DAILY_SERIES - 1).index
        group = group.where(group.isin(largest), "other")
    summed = daily.assign(_series=group).groupby(["_series", "date"], sort=True)[value].sum(min_count=1).reset_index()
    for name, grp in summed.groupby("_series", sort=True):
        fig.add_trace(go.Bar(x=grp["date"], y=grp[value], name=html.escape(str(name))))  # a name, not HTML
    label = {"agent_hours": "agent hours (after shrinkage)", "peak_agents": "peak agents",
             "agents_total": "staff"}.get(value, value)
    fig.update_layout(title=title, barmode="stack", height=340, margin=dict(l=10, r=10, t=50, b=10),
                      legend=dict(orientation="h", y=-0.2), yaxis_title=label)
    fig.update_xaxes(tickformat="%a %d %b")
    return fig


def over_under_chart(shift_intervals: pd.DataFrame, *,
                     title: str = "Over- and under-staffing per interval") -> go.Figure:
    """Bars of people above (positive) and below (negative) the requirement per interval."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=shift_intervals["ds"], y=shift_intervals["over"], name="over", marker_color=BASE))
    fig.add_trace(go.Bar(x=shift_intervals["ds"], y=-shift_intervals["under"], name="under", marker_color=SL))
    fig.update_layout(title=title, barmode="relative", height=260, margin=dict(l=10, r=10, t=50, b=10),
                      legend=dict(orientation="h", y=-0.25), yaxis_title="agents")
    return fig


def erlang_curve(table: pd.DataFrame, *, sl_target: float | None, required: int) -> go.Figure:
    """Service level (bars) and ASA (line, secondary axis) for a range of agent counts around the requirement."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    colors = np.where(table["agents"] >= required, PLANNED, BASE)
    fig.add_trace(go.Bar(x=table["agents"], y=table["service_level"], name="service level", marker_color=colors),
                  secondary_y=False)
    fig.add_trace(go.Scatter(x=table["agents"], y=table["asa_seconds"], name="ASA (s)", mode="lines+markers",
                             line=dict(color=REQUIRED)), secondary_y=True)
    if sl_target is not None and len(table):
        # The target is a dashed line named in the legend. Its label used to be an annotation at the line's right
        # end, i.e. on the tallest bar (service level grows with agents), where it could not be read.
        lo, hi = float(table["agents"].min()) - 0.5, float(table["agents"].max()) + 0.5
        fig.add_trace(go.Scatter(x=[lo, hi], y=[sl_target, sl_target], mode="lines", name=f"target {sl_target:.0%}",
                                 line=dict(color=TARGET, dash="dash"), hoverinfo="skip"), secondary_y=False)
    fig.update_yaxes(title_text="service level", tickformat=".0%", range=[0, 1.02], secondary_y=False)
    fig.update_yaxes(title_text="ASA seconds", rangemode="tozero", secondary_y=True, showgrid=False, tickmode="auto")
    fig.update_xaxes(title_text="productive agents", dtick=1)
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h", y=-0.3))
    return fig
