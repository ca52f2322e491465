"""Forecast chart builders: pure functions returning plotly figures (tested on ``fig.data``; pages only draw them)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

BAND_95 = "rgba(31, 119, 180, 0.15)"
BAND_80 = "rgba(31, 119, 180, 0.30)"
FORECAST = "#1f77b4"
HISTORY = "#444444"
ALERT = "#d62728"
_MARGIN = dict(l=10, r=10, t=50, b=10)
#: more high-uncertainty intervals than this are shown as shaded days, not one marker each
MAX_UNCERTAINTY_MARKERS = 80
#: legend name of the high-uncertainty markers (the rule: the 80% band is wider than half the forecast)
UNCERTAIN_NAME = "high uncertainty (80% band > 50%)"


def with_gaps(frame: pd.DataFrame, x: str = "ds") -> pd.DataFrame:
    """Insert an empty row after every jump longer than the usual spacing, so lines break over closed hours
    (exports hold only open intervals) instead of drawing a ramp across the night."""
    if len(frame) < 3:
        return frame
    d = frame.sort_values(x)
    diffs = d[x].diff()
    step = diffs[diffs > pd.Timedelta(0)].min()
    if pd.isna(step):
        return d
    gaps = diffs > step
    if not gaps.any():
        return d
    blanks = pd.DataFrame({x: (d[x].shift(1)[gaps] + step).to_numpy()})
    return pd.concat([d, blanks], ignore_index=True).sort_values(x, kind="stable").reset_index(drop=True)


def _band(fig: go.Figure, ds: pd.Series, lower: pd.Series, upper: pd.Series, name: str, color: str,
          row: int | None = None) -> None:
    """An interval band: one filled polygon per stretch without gaps, plus an invisible line for the hover.

    Why polygons: with ``fill="tonexty"`` plotly fills straight across the empty rows :func:`with_gaps` inserts
    for closed hours, so the accuracy chart showed a wide slanted band over every night and weekend, as if the
    forecast had been uncertain there. ``fill="toself"`` treats each ``None``-separated piece as its own shape.
    """
    kw = {"row": row, "col": 1} if row else {}
    d = pd.DataFrame({"ds": pd.to_datetime(pd.Series(ds).to_numpy()),
                      "lo": pd.to_numeric(pd.Series(lower).to_numpy(), errors="coerce"),
                      "hi": pd.to_numeric(pd.Series(upper).to_numpy(), errors="coerce")})
    ok = d["ds"].notna() & d["lo"].notna() & d["hi"].notna()
    xs: list = []
    ys: list = []
    for _, seg in d[ok].groupby((~ok).cumsum()[ok]):
        xs += [*seg["ds"], *seg["ds"][::-1], None]
        ys += [*seg["hi"], *seg["lo"][::-1], None]
    fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(width=0), fill="toself", fillcolor=color,
                             name=name, legendgroup=name, hoverinfo="skip"), **kw)
    fig.add_trace(go.Scatter(x=d["ds"], y=d["hi"], customdata=d["lo"], mode="lines", line=dict(width=0),
                             showlegend=False, legendgroup=name, name=name,
                             hovertemplate="%{customdata:.1f} – %{y:.1f}"), **kw)


def forecast_chart(history: pd.DataFrame, forecast: pd.DataFrame, title: str, y_title: str = "volume",
                   daily: bool = False) -> go.Figure:
    """History, the forecast with its 95% and 80% bands, and high-uncertainty points highlighted.

    ``history``: ``ds, y`` (may include actuals inside the forecast window, drawn as dots);
    ``forecast``: ``ds, yhat, yhat_lower_80/95, yhat_upper_80/95, high_uncertainty``.
    Daily series also get the high-uncertainty days shaded.
    """
    fig = go.Figure()
    start = forecast["ds"].min() if len(forecast) else None
    if len(history):
        past = with_gaps(history[history["ds"] < start] if start is not None else history)
        fig.add_trace(go.Scatter(x=past["ds"], y=past["y"], mode="lines", name="history",
                                 line=dict(color=HISTORY, width=1.2)))
        later = history[history["ds"] >= start] if start is not None else history.iloc[0:0]
        if len(later):
            fig.add_trace(go.Scatter(x=later["ds"], y=later["y"], mode="markers", name="actual",
                                     marker=dict(color=HISTORY, size=5)))
    if len(forecast):
        _band(fig, forecast["ds"], forecast["yhat_lower_95"], forecast["yhat_upper_95"], "95% interval", BAND_95)
        _band(fig, forecast["ds"], forecast["yhat_lower_80"], forecast["yhat_upper_80"], "80% interval", BAND_80)
        fig.add_trace(go.Scatter(x=forecast["ds"], y=forecast["yhat"], mode="lines", name="forecast",
                                 line=dict(color=FORECAST, width=2)))
        hi = forecast[forecast["high_uncertainty"].astype(bool)] if "high_uncertainty" in forecast else forecast[:0]
        if 0 < len(hi) <= MAX_UNCERTAINTY_MARKERS:
            fig.add_trace(go.Scatter(x=hi["ds"], y=hi["yhat"], mode="markers", name=UNCERTAIN_NAME,
                                     marker=dict(color=ALERT, size=7, symbol="diamond-open", line=dict(width=2)),
                                     hovertemplate="%{x}<br>forecast %{y:.1f}<br>80% band wider than half of it"))
        if len(hi) and (daily or len(hi) > MAX_UNCERTAINTY_MARKERS):
            # many flagged intervals (a long hourly horizon): a diamond on each hid the forecast and its bands
            # behind a wall of markers, so the days that hold them are shaded instead
            days = sorted(pd.to_datetime(hi["ds"]).dt.normalize().unique())
            for d in days:
                x0, x1 = (d - pd.Timedelta(hours=12), d + pd.Timedelta(hours=12)) if daily else \
                    (d, d + pd.Timedelta(days=1))
                fig.add_vrect(x0=x0, x1=x1, fillcolor=ALERT, opacity=0.08, line_width=0, layer="below")
            if len(hi) > MAX_UNCERTAINTY_MARKERS:
                fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="day with " + UNCERTAIN_NAME,
                                         marker=dict(color=ALERT, size=12, symbol="square", opacity=0.25)))
        fig.add_vline(x=start, line=dict(color="#888", dash="dot", width=1))
    fig.update_layout(title=title, height=420, margin=_MARGIN, hovermode="x unified", yaxis_title=y_title,
                      legend=dict(orientation="h", y=-0.15))
    return fig


def components_chart(components: pd.DataFrame, title: str = "Prophet components") -> go.Figure:
    """One small panel per Prophet component that is not constantly zero (trend, daily, weekly, yearly, holidays)."""
    names = [c for c in ("trend", "daily", "weekly", "yearly", "holidays")
             if c in components and components[c].fillna(0).abs().max() > 1e-9]
    names = names or ["trend"]
    fig = make_subplots(rows=len(names), cols=1, shared_xaxes=True, subplot_titles=names, vertical_spacing=0.12)
    for i, name in enumerate(names, start=1):
        fig.add_trace(go.Scatter(x=components["ds"], y=components[name], mode="lines", name=name,
                                 line=dict(color=FORECAST if name != "holidays" else ALERT)), row=i, col=1)
    fig.update_layout(title=title, height=max(260, 150 * len(names)), margin=_MARGIN, showlegend=False)
    return fig


def backtest_chart(backtest: pd.DataFrame, chosen: str) -> go.Figure:
    """MASE per compared model (lower is better; below 1 beats last week's values), the chosen model highlighted."""
    ok = backtest[pd.to_numeric(backtest["mase"], errors="coerce").notna()].sort_values("mase")
    colors = [FORECAST if m == chosen else "#9bb7d4" for m in ok["model"]]
    fig = go.Figure(go.Bar(x=ok["mase"], y=ok["model"], orientation="h", marker_color=colors,
                           text=[f"{v:.2f}" for v in ok["mase"]], textposition="auto"))
    fig.add_vline(x=1.0, line=dict(color="#888", dash="dot"))
    fig.update_layout(title="Backtest MASE (lower is better)", height=90 + 36 * len(ok),
                      margin=_MARGIN, xaxis_title="MASE", yaxis=dict(autorange="reversed"))
    return fig


def accuracy_chart(pairs: pd.DataFrame, title: str) -> go.Figure:
    """Predicted (with 95% band) vs actual for past periods; actuals outside the band in red."""
    fig = go.Figure()
    if len(pairs):
        pairs = with_gaps(pairs)
        pairs["outside_95"] = pairs["outside_95"].map(lambda v: v is True or v == 1)
        _band(fig, pairs["ds"], pairs["yhat_lower_95"], pairs["yhat_upper_95"], "95% interval", BAND_95)
        fig.add_trace(go.Scatter(x=pairs["ds"], y=pairs["yhat"], mode="lines", name="forecast",
                                 line=dict(color=FORECAST, width=2)))
        inside = pairs[~pairs["outside_95"].astype(bool)]
        outside = pairs[pairs["outside_95"].astype(bool)]
        fig.add_trace(go.Scatter(x=inside["ds"], y=inside["y"], mode="markers", name="actual",
                                 marker=dict(color=HISTORY, size=5)))
        if len(outside):
            fig.add_trace(go.Scatter(x=outside["ds"], y=outside["y"], mode="markers", name="actual outside 95%",
                                     marker=dict(color=ALERT, size=8, symbol="x")))
    fig.update_layout(title=title, height=380, margin=_MARGIN, hovermode="x unified",
                      legend=dict(orientation="h", y=-0.15))
    return fig


def mape_heatmap(heat: pd.DataFrame, title: str, x_title: str, y_title: str) -> go.Figure:
    """MAPE (%) heatmap: rows × columns (site × unit, or queue × weekday); greener is better."""
    if heat.empty:
        return go.Figure().update_layout(title=title, height=200, margin=_MARGIN)
    grid = heat.pivot_table(index="row", columns="column", values="mape", aggfunc="mean", observed=False)
    text = [[("" if pd.isna(v) else f"{v:.0f}%") for v in r] for r in grid.to_numpy()]
    fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=[str(c) for c in grid.columns], y=[str(i) for i in grid.index],
                               colorscale="RdYlGn_r", colorbar=dict(title="MAPE %"), text=text,
                               texttemplate="%{text}", hovertemplate="%{y} · %{x}: MAPE %{z:.1f}%<extra></extra>"))
    fig.update_layout(title=title, height=max(260, 60 + 34 * len(grid.index)), margin=_MARGIN, xaxis_title=x_title,
                      yaxis_title=y_title)
    return fig


REFORECAST = "#ff7f0e"
BAND_RE = "rgba(255, 127, 14, 0.18)"


def intraday_chart(frame: pd.DataFrame, now: pd.Timestamp, title: str, y_title: str = "volume") -> go.Figure:
    """One day: actuals so far, the stored forecast (dashed, with its 80% band) and the re-forecast from ``now`` on.

    ``frame``: ``ds, is_open, elapsed, actual, yhat, yhat_lower/upper_80, reforecast, reforecast_lower/upper_80``
    (see ``IntradayView.frame``). Actuals after ``now`` (a past day whose rest is stored) are drawn as open
    circles, so the planner can see whether the re-forecast was closer.
    """
    fig = go.Figure()
    f = frame[frame["is_open"].astype(bool)].sort_values("ds")
    rest = f[~f["elapsed"].astype(bool)]
    if len(f):
        _band(fig, f["ds"], f["yhat_lower_80"], f["yhat_upper_80"], "forecast 80% interval", BAND_80)
    if len(rest):
        _band(fig, rest["ds"], rest["reforecast_lower_80"], rest["reforecast_upper_80"], "re-forecast 80% interval",
              BAND_RE)
    fig.add_trace(go.Scatter(x=f["ds"], y=f["yhat"], mode="lines+markers", name="original forecast",
                             line=dict(color=FORECAST, width=2, dash="dash"), marker=dict(size=4),
                             hovertemplate="%{y:.1f}"))
    if len(rest):
        fig.add_trace(go.Scatter(x=rest["ds"], y=rest["reforecast"], mode="lines+markers", name="re-forecast",
                                 line=dict(color=REFORECAST, width=3), marker=dict(size=6),
                                 hovertemplate="%{y:.1f}"))
    sofar = f[f["elapsed"].astype(bool) & f["actual"].notna()]
    fig.add_trace(go.Scatter(x=sofar["ds"], y=sofar["actual"], mode="lines+markers", name="actual so far",
                             line=dict(color=HISTORY, width=2), marker=dict(size=7), hovertemplate="%{y:.0f}"))
    later = rest[rest["actual"].notna()] if "actual" in rest else rest.iloc[0:0]
    if len(later):
        fig.add_trace(go.Scatter(x=later["ds"], y=later["actual"], mode="markers", name="actual later (stored)",
                                 marker=dict(color=HISTORY, size=7, symbol="circle-open", line=dict(width=1.5)),
                                 hovertemplate="%{y:.0f}"))
    fig.add_vline(x=now, line=dict(color="#888", dash="dot", width=1))
    fig.add_annotation(x=now, y=1, yref="paper", text=f"now {now:%H:%M}", showarrow=False, xanchor="left",
                       yanchor="bottom", font=dict(size=11, color="#555"))
    fig.update_layout(title=title, height=400, margin=_MARGIN, hovermode="x unified", yaxis_title=y_title,
                      legend=dict(orientation="h", y=-0.15))
    return fig
