"""Overtime chart builders: pure functions returning plotly figures (pages only draw them)."""

from __future__ import annotations

import html

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

FACTOR_LABELS = {"availability": "Availability", "acceptance": "Acceptance", "fairness": "Fairness",
                 "site_preference": "Site preference", "reliability": "Reliability"}
FACTOR_COLOURS = {"availability": "#1f77b4", "acceptance": "#2ca02c", "fairness": "#9467bd",
                  "site_preference": "#ff7f0e", "reliability": "#17becf"}
_MARGIN = dict(l=10, r=10, t=50, b=10)


def _plain(value: object) -> str:
    """User text (names, sites) for plotly labels: plotly renders a subset of HTML (``<a href>``, ``<b>``) in tick
    labels and hover text, so a staff name from an upload must not be able to become a link."""
    return html.escape(str(value), quote=False)


def score_breakdown(breakdown: pd.DataFrame, title: str = "Score breakdown per candidate", top: int = 15
                    ) -> go.Figure:
    """Horizontal stacked bars: each candidate's points per factor (sum = total out of 100), best on top.

    ``breakdown`` is ``RankingResult.breakdown_frame()`` (rank, staff_id, name, factor, value, weight, points,
    label, is_prior). Factors that fell back to a prior are hatched.
    """
    fig = go.Figure()
    b = breakdown.loc[breakdown["rank"] <= top] if len(breakdown) else breakdown
    ranks = sorted(b["rank"].unique()) if len(b) else []
    for factor, label in FACTOR_LABELS.items():
        g = b.loc[b["factor"] == factor].sort_values("rank")
        if g.empty:
            continue
        fig.add_trace(go.Bar(
            y=[f"{r}. {_plain(n)}" for r, n in zip(g["rank"], g["name"], strict=True)], x=g["points"],
            orientation="h",
            name=f"{label} ({g['weight'].iloc[0]:.0%})", marker_color=FACTOR_COLOURS[factor],
            marker_pattern_shape=["/" if p else "" for p in g["is_prior"]],
            customdata=list(zip([_plain(x) for x in g["label"]], g["value"], strict=True)),
            hovertemplate="%{y}<br>" + label + ": %{x:.1f} points (value %{customdata[1]:.2f})<br>"
                          "%{customdata[0]}<extra></extra>",
        ))
    height = max(260, 34 * len(ranks) + 120)
    fig.update_layout(title=title, barmode="stack", height=height, margin=_MARGIN,
                      legend=dict(orientation="h", y=-0.12 if len(ranks) > 6 else -0.3, traceorder="normal"),
                      xaxis=dict(title="points (out of 100)", range=[0, 100]))
    fig.update_yaxes(autorange="reversed", categoryorder="array",
                     categoryarray=[f"{r}. {_plain(n)}" for r, n in
                                    b.drop_duplicates("rank").sort_values("rank")[["rank", "name"]].itertuples(
                                        index=False)] if len(b) else [])
    return fig


def fairness_bars(per_person: pd.DataFrame, average: float, *, over_factor: float = 1.5,
                  title: str = "Overtime hours per person (per 40 contract hours)") -> go.Figure:
    """One bar per person (``value``), coloured over-utilised / under-utilised / around average, with the average
    line and the over-utilisation threshold."""
    p = per_person.sort_values(["value", "staff_id"], ascending=[False, True])
    colour = ["#d62728" if o else ("#7fa7d9" if u else "#2ca02c")
              for o, u in zip(p["over_utilised"], p["under_utilised"], strict=True)]
    flag = ["over-utilised" if o else ("under-utilised" if u else "around average")
            for o, u in zip(p["over_utilised"], p["under_utilised"], strict=True)]
    labels = [f"{_plain(n)} ({_plain(s)})" for n, s in zip(p["name"], p["staff_id"], strict=True)]
    fig = go.Figure(go.Bar(
        x=labels, y=p["value"], marker_color=colour, name="hours per 40 h",
        customdata=list(zip(flag, p["hours_worked"], p["hours_charged"], p["contract_hours"], strict=True)),
        hovertemplate="%{x}<br>%{y:.1f} h per 40 h (%{customdata[0]})<br>worked %{customdata[1]:.1f} h, "
                      "charged %{customdata[2]:.1f} h, contract %{customdata[3]:g} h/week<extra></extra>",
    ))
    fig.add_hline(y=average, line_dash="dash", line_color="#333",
                  annotation_text=f"average {average:.1f} h", annotation_position="top right")
    fig.add_hline(y=over_factor * average, line_dash="dot", line_color="#d62728",
                  annotation_text=f"{over_factor:g} × average", annotation_position="top right")
    fig.update_layout(title=title, height=420, margin=_MARGIN, showlegend=False, bargap=0.15,
                      yaxis_title="hours per 40 contract hours", xaxis=dict(showticklabels=len(p) <= 40,
                                                                            tickangle=-60))
    return fig


def fairness_over_time(series: pd.DataFrame, title: str = "Fairness over time") -> go.Figure:
    """Score (0–100) on top; Gini, Jain (0–1) and max/mean below, one point per date of ``series``."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        row_heights=[0.45, 0.55], specs=[[{}], [{"secondary_y": True}]])
    fig.add_trace(go.Scatter(x=series["date"], y=series["score"], name="score (0–100)", mode="lines+markers",
                             line_color="#2ca02c"), row=1, col=1)
    fig.add_trace(go.Scatter(x=series["date"], y=series["gini"], name="Gini (0 = equal)", mode="lines",
                             line_color="#d62728"), row=2, col=1)
    fig.add_trace(go.Scatter(x=series["date"], y=series["jain"], name="Jain (1 = equal)", mode="lines",
                             line_color="#1f77b4"), row=2, col=1)
    fig.add_trace(go.Scatter(x=series["date"], y=series["max_mean"], name="max / mean", mode="lines",
                             line=dict(color="#7f7f7f", dash="dot")), row=2, col=1, secondary_y=True)
    fig.update_yaxes(title_text="score", range=[0, 100], row=1, col=1)
    fig.update_yaxes(title_text="Gini / Jain", range=[0, 1], row=2, col=1, secondary_y=False)
    fig.update_yaxes(title_text="max / mean", row=2, col=1, secondary_y=True)
    fig.update_layout(title=title, height=460, margin=_MARGIN, legend=dict(orientation="h", y=-0.12))
    return fig


def window_scores(windows: pd.DataFrame, title: str = "Fairness score per window") -> go.Figure:
    """Bars of the 0–100 score for each window (days)."""
    fig = go.Figure(go.Bar(x=[f"{d} days" for d in windows["days"]], y=windows["score"], marker_color="#2ca02c",
                           text=[f"{s:.0f}" for s in windows["score"]], textposition="outside",
                           customdata=windows[["gini", "jain", "max_mean"]].to_numpy(),
                           hovertemplate="%{x}: score %{y:.1f}<br>Gini %{customdata[0]:.3f}, Jain "
                                         "%{customdata[1]:.3f}, max/mean %{customdata[2]:.2f}<extra></extra>"))
    fig.update_layout(title=title, height=300, margin=_MARGIN, yaxis=dict(range=[0, 105], title="score"))
    return fig


def acceptance_trend_chart(trend: pd.DataFrame, title: str = "Acceptance rate per week", min_offers: int = 5
                           ) -> go.Figure:
    """Offers per week as bars and the acceptance rate as a line (right axis). Weeks with fewer than
    ``min_offers`` offers (e.g. a partial first week) leave a gap in the line instead of a misleading 0 %/100 %."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(go.Bar(x=trend["period"], y=trend["offers"], name="offers", marker_color="#c7d7ee"))
    fig.add_trace(go.Bar(x=trend["period"], y=trend["accepted"], name="accepted", marker_color="#2ca02c"))
    rate = trend["acceptance_rate"].where(trend["offers"] >= min_offers)
    fig.add_trace(go.Scatter(x=trend["period"], y=rate, name="acceptance rate",
                             mode="lines+markers", line_color="#d62728", connectgaps=False), secondary_y=True)
    fig.update_yaxes(title_text="offers", secondary_y=False)
    fig.update_yaxes(title_text="acceptance rate", tickformat=".0%", range=[0, 1], dtick=0.25, secondary_y=True)
    fig.update_layout(title=title, barmode="overlay", height=340, margin=_MARGIN,
                      legend=dict(orientation="h", y=-0.2))
    return fig


def response_time_chart(dist: pd.DataFrame, title: str = "Response times") -> go.Figure:
    """Responses per response-time bucket; the unanswered offers as a grey bar."""
    colours = ["#7f7f7f" if b == "no answer" else "#1f77b4" for b in dist["bucket"]]
    fig = go.Figure(go.Bar(x=dist["bucket"], y=dist["responses"], marker_color=colours,
                           hovertemplate="%{x}: %{y} offers<extra></extra>"))
    fig.update_layout(title=title, height=340, margin=_MARGIN, yaxis_title="offers",
                      xaxis_title="time from contact to answer")
    return fig


def acceptance_model_chart(comparison: pd.DataFrame, title: str = "Held-out offers: model vs historical rate"
                           ) -> go.Figure:
    """Two panels of bars — log loss (lower is better) and AUC (higher is better) — for the LightGBM model and the
    smoothed historical rate. ``comparison`` has columns predictor, log_loss, auc (AUC may be missing)."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Log loss (lower is better)", "AUC (higher is better)"),
                        horizontal_spacing=0.12)
    colours = ["#2ca02c", "#7f7f7f"]
    for col, metric in ((1, "log_loss"), (2, "auc")):
        values = pd.to_numeric(comparison[metric], errors="coerce")
        fig.add_trace(go.Bar(x=comparison["predictor"], y=values, marker_color=colours[: len(comparison)],
                             text=[f"{v:.3f}" if pd.notna(v) else "n/a" for v in values], textposition="outside",
                             showlegend=False, hovertemplate="%{x}: %{y:.4f}<extra></extra>"), row=1, col=col)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(title=title, height=340, margin=dict(_MARGIN, t=90))
    return fig
