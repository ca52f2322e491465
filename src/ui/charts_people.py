"""Chart builders of the People pages (pure functions returning plotly figures)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from src.ui.text import plain

_METHOD_COLOURS = {"greedy": "#1f77b4", "balanced": "#2ca02c", "optimal": "#9467bd"}
_FACTOR_COLOURS = {"skill": "#1f77b4", "experience": "#ff7f0e", "track_record": "#2ca02c", "workload": "#9467bd"}
_SCORER_COLOURS = {"binary": "#1f77b4", "lambdarank": "#ff7f0e", "rules": "#2ca02c", "model": "#1f77b4"}
_LAYOUT = dict(margin=dict(l=10, r=10, t=50, b=10))
#: the ranking model's inputs (src.models.ranking.FEATURES) in words: the charts showed "days_until_due",
#: "past_success_rate" … as they are named in the code
FEATURE_LABELS = {
    "task_type": "task type", "priority": "priority", "days_until_due": "days until due",
    "weekday": "weekday due", "hour": "hour assigned", "task_hours": "task hours",
    "days_employed": "days employed", "tasks_90d": "tasks in last 90 days", "load_ratio": "last week's load ÷ contract",
    "past_tasks": "past tasks", "past_success_rate": "past success rate", "type_tasks": "past tasks of this type",
    "type_success_rate": "success rate, this type", "skill_level": "skill level", "skill_match": "has the skill",
    "site_match": "home site", "preferred_site": "preferred site",
}


def feature_label(name: object) -> str:
    """A model input's name in words (unknown names as they are, underscores as spaces)."""
    return FEATURE_LABELS.get(str(name), str(name).replace("_", " "))


def method_comparison(comparison: pd.DataFrame) -> go.Figure:
    """Side by side per method: total score, unassigned tasks and load spread (std and max/mean of utilisation)."""
    titles = ("Total score (higher is better)", "Unassigned tasks", "Load spread: std of utilisation",
              "Max ÷ mean utilisation")
    fig = make_subplots(rows=1, cols=4, subplot_titles=titles, horizontal_spacing=0.07)
    if len(comparison):
        colours = [_METHOD_COLOURS.get(m, "#7f7f7f") for m in comparison["method"]]
        for i, (col, fmt) in enumerate((("total_score", ".1f"), ("unassigned", "d"), ("util_std", ".3f"),
                                        ("util_max_mean", ".2f")), start=1):
            vals = pd.to_numeric(comparison[col], errors="coerce")
            text = [format(v, fmt) if pd.notna(v) else "" for v in (vals.astype(int) if fmt == "d" else vals)]
            fig.add_trace(go.Bar(x=comparison["method"], y=vals, marker_color=colours, text=text,
                                 textposition="auto", showlegend=False, name=col), row=1, col=i)
    # counts and spreads start at 0: with every task assigned the "Unassigned tasks" bars are all 0 and plotly's
    # default range (-1 … 1) showed an empty panel with a negative axis
    fig.update_yaxes(rangemode="tozero")
    if len(comparison):
        most = pd.to_numeric(comparison["unassigned"], errors="coerce").max()
        # whole tasks: ticks at 0, 1, 2 … (plotly labelled 0.2, 0.4 … when nothing was unassigned)
        fig.update_yaxes(range=[0, max(1.0, float(most) * 1.15 if pd.notna(most) else 0.0)], tickformat=",d",
                         dtick=1 if pd.isna(most) or most <= 10 else None, row=1, col=2)
    fig.update_layout(height=300, **_LAYOUT)
    fig.update_annotations(font_size=12)
    return fig


def model_contributions(model_long: pd.DataFrame, staff_id: str, top: int = 10) -> go.Figure:
    """Horizontal bars of one candidate's LightGBM ``pred_contrib`` (log-odds; green raises the score)."""
    d = model_long[(model_long["staff_id"] == staff_id) & (model_long["feature"] != "bias")].copy()
    d["contribution"] = pd.to_numeric(d["contribution"], errors="coerce").fillna(0.0)
    d = d.reindex(d["contribution"].abs().sort_values(ascending=False).index).head(top).iloc[::-1]
    labels = [plain(f"{feature_label(f)} = {_short(v)}") for f, v in zip(d["feature"], d["value"], strict=True)]
    fig = go.Figure(go.Bar(x=d["contribution"], y=labels, orientation="h",
                           marker_color=["#2ca02c" if v >= 0 else "#d62728" for v in d["contribution"]],
                           hovertemplate="%{y}<br>contribution %{x:+.3f} log-odds<extra></extra>"))
    # the chart sits in half the page width: a long title was cut off after "log-o…"
    fig.update_layout(title=f"Model: why {plain(staff_id)} scores as they do",
                      height=max(260, 28 * len(d) + 90), xaxis_title="contribution to the log-odds of success",
                      **_LAYOUT)
    return fig


def rule_breakdown(rules_long: pd.DataFrame, staff_ids: list[str], names: dict[str, str] | None = None) -> go.Figure:
    """Stacked bars per candidate: each rule factor's value × weight (the bars add up to the rule score)."""
    names = names or {}
    d = rules_long[rules_long["staff_id"].isin(staff_ids)]
    order = list(dict.fromkeys(s for s in staff_ids if s in set(d["staff_id"])))[::-1]
    labels = {s: plain(f"{s} {names.get(s, '')}".strip()) for s in order}
    fig = go.Figure()
    for factor, grp in d.groupby("factor", sort=False):
        g = grp.set_index("staff_id").reindex(order)
        fig.add_trace(go.Bar(x=g["contribution"], y=[labels[s] for s in order], orientation="h", name=str(factor),
                             marker_color=_FACTOR_COLOURS.get(str(factor)),
                             customdata=g[["value", "weight"]].to_numpy(),
                             hovertemplate=f"{factor}: value %{{customdata[0]:.2f}} × weight %{{customdata[1]:.2f}}"
                                           "<extra></extra>"))
    fig.update_layout(barmode="stack", title="Rules: factor × weight per candidate", height=max(260, 30 * len(order)
                                                                                                  + 110),
                      xaxis_title="rule score (sum of factor × weight ÷ total weight)",
                      legend=dict(orientation="h", y=-0.25), **_LAYOUT)
    return fig


def feature_importance(importance: pd.DataFrame, top: int = 17) -> go.Figure:
    """Total gain per feature, largest on top."""
    d = importance.head(top).iloc[::-1]
    fig = go.Figure(go.Bar(x=d["gain"], y=[feature_label(f) for f in d["feature"]], orientation="h",
                           marker_color="#1f77b4", hovertemplate="%{y}: gain %{x:,.1f}<extra></extra>"))
    fig.update_layout(title="Feature importance (total gain)", height=max(280, 24 * len(d) + 80),
                      xaxis_title="gain", **_LAYOUT)
    return fig


def calibration_curve(curves: dict[str, pd.DataFrame]) -> go.Figure:
    """Reliability diagram: observed success rate against the mean predicted probability per bin."""
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated",
                               line=dict(dash="dash", color="#7f7f7f")))
    for name, c in curves.items():
        if c is None or not len(c):
            continue
        fig.add_trace(go.Scatter(x=c["mean_predicted"], y=c["observed_rate"], mode="lines+markers", name=name,
                                 line=dict(color=_SCORER_COLOURS.get(name)),
                                 marker=dict(size=[max(6, min(22, n ** 0.5)) for n in c["count"]]),
                                 customdata=c["count"],
                                 hovertemplate="predicted %{x:.2f}<br>observed %{y:.2f}<br>%{customdata} pairs"
                                               "<extra></extra>"))
    fig.update_layout(title="Calibration on the newest (test) tasks", height=360, xaxis_title="predicted success "
                      "probability", yaxis_title="observed success rate", xaxis_range=[0, 1], yaxis_range=[0, 1],
                      legend=dict(orientation="h", y=-0.25), **_LAYOUT)
    return fig


def utilisation_bars(util: pd.DataFrame, top: int = 40) -> go.Figure:
    """Utilisation (assigned hours ÷ capacity in the period) of the people who got work, by site."""
    d = util.head(top)
    fig = go.Figure()
    for site, grp in d.groupby("site", sort=True):
        fig.add_trace(go.Bar(x=[plain(f"{s} {n}") for s, n in zip(grp["staff_id"], grp["name"], strict=True)],
                             y=grp["utilisation"], name=plain(site),
                             customdata=grp[["tasks", "assigned_hours", "capacity_hours"]].to_numpy(),
                             hovertemplate="%{x}<br>%{customdata[0]} tasks, %{customdata[1]:.1f} of "
                                           "%{customdata[2]:.1f} h<extra></extra>"))
    # the legend above the bars: below them it covered the (rotated) names of the people
    fig.update_layout(title="Utilisation of people with tasks in this preview", height=460, yaxis_tickformat=".0%",
                      yaxis_title="assigned ÷ capacity", xaxis_categoryorder="total descending",
                      legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"),
                      margin=dict(l=10, r=10, t=90, b=10))
    return fig


def _short(v: object) -> str:
    if isinstance(v, float):
        return f"{v:.2f}" if v == v else "n/a"
    return str(v)[:24]
