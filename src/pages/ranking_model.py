"""Ranking model (admin): train with progress, metrics vs rules, feature importance, calibration, shadow-mode
report, scorer settings and model versions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from src.models.ranking import ScorerSettings
from src.services import people
from src.services.context import ServiceError
from src.ui import charts_people, state
from src.ui.common import app_context, metric_delta, require_page_role
from src.ui.dates import DATETIME_COLUMN_FORMAT, fmt_datetime, local_column
from src.ui.tables import headers
from src.ui.text import md

actor = require_page_role("admin")
app = app_context()

st.title("Ranking model")
st.caption("A LightGBM model of assignment success learned from history, calibrated to probabilities and always "
           "compared with the rule-based scorer on the newest tasks. The rules take over whenever the model is "
           "missing, failing, switched off or unsure.")

report = people.ranker_report(app, actor)
settings = people.scorer_settings(app, actor)
v = report.version
comp_now = report.comparison.set_index("scorer") if len(report.comparison) else None
chosen = v.kind if v else None


def _metric(col, label: str, metric: str) -> None:  # noqa: ANN001 - a Streamlit column
    """The active model's ``metric`` with its difference to the rules; a difference that rounds to nothing is
    grey and without an arrow ("+0.000" got a green up-arrow, as if the model were better)."""
    if comp_now is None or chosen not in comp_now.index or "rules" not in comp_now.index:
        col.metric(label, "—")
        return
    m, r = float(comp_now.loc[chosen, metric]), float(comp_now.loc["rules", metric])
    delta = metric_delta(m - r, "{:+.3f}")
    if delta == "0":
        col.metric(label, f"{m:.3f}", "±0.000 vs rules", delta_color="off", delta_arrow="off")
    else:
        col.metric(label, f"{m:.3f}", None if delta is None else f"{delta} vs rules")


# the flash of a training that just finished; the page reran after it, so the header below shows the new model
# (drawn before the Train tab, it still said "no ranker trained yet", Kind "none", AUC "—" right after training)
flash = state.pop("rk_flash")
if flash:
    st.success(md(flash))

has_model = comp_now is not None and chosen is not None
c1, c2, c3, c4 = st.columns(4)
_metric(c1, "Model AUC", "auc")
_metric(c2, "Model Precision@3", "precision_at_3")
c3.metric("Kind", chosen or "none")
if not (settings.ml_enabled and settings.ranking_enabled):
    mode = "rules only"
elif not has_model:  # "model decides" without a model: the rules decide until one is trained
    mode = "rules (no model yet)"
else:
    mode = "shadow (rules decide)" if settings.shadow_mode else "model decides"
c4.metric("Mode", mode, help=f"Confidence threshold {settings.confidence_threshold:.2f}")
if v is not None:
    st.caption(f"Active version `{v.version}`, trained {fmt_datetime(v.created_at, utc=True)} by "
               f"{md(v.created_by)}. " + ("" if report.status.startswith("ranker ") else f"{md(report.status)}."))
if v is None or report.comparison.empty:
    st.info(f"Status: {md(report.status)}. Train a model in the **Train** tab.")

metrics_tab, train_tab, shadow_tab, settings_tab, versions_tab = st.tabs(
    ["Model vs rules", "Train", "Shadow mode", "Settings", "Versions"])

COMPARISON_CONFIG = {
    "auc": st.column_config.NumberColumn("AUC", format="%.3f"),
    "log_loss": st.column_config.NumberColumn("log loss", format="%.3f"),
    "brier": st.column_config.NumberColumn("Brier", format="%.3f"),
    "precision_at_3": st.column_config.NumberColumn("Precision@3", format="%.3f"),
    "ndcg_at_3": st.column_config.NumberColumn("NDCG@3", format="%.3f"),
    "random_precision_at_3": st.column_config.NumberColumn("random P@3", format="%.3f"),
    "n_groups": st.column_config.NumberColumn("task groups", format="%d"),
}


ORDER = ["scorer", "chosen", "n", "auc", "log_loss", "brier", "precision_at_3", "ndcg_at_3",
         "random_precision_at_3", "n_groups"]


def _draw_metrics(comparison: pd.DataFrame, curves: dict[str, pd.DataFrame], importance: pd.DataFrame,
                  split: dict | None, *, key: str) -> None:
    """Metrics table, split caption, calibration and importance charts. ``key`` tells the active model's drawing
    (Model vs rules tab) from a just-trained one's (Train tab): retraining on unchanged data gives identical
    figures, which without keys are the same element twice (StreamlitDuplicateElementId)."""
    comparison = comparison[[c for c in ORDER if c in comparison.columns]]
    st.dataframe(comparison, hide_index=True, width="stretch", column_config=COMPARISON_CONFIG,
                 key=f"rk_comparison_{key}")
    if split:
        st.caption(f"Time-based split: trained on {split.get('train_rows')} rows up to "
                   f"{fmt_datetime(split.get('train_end'))}, calibrated on {split.get('calibration_rows')}, tested on "
                   f"the newest {split.get('test_rows')} rows from {fmt_datetime(split.get('test_start'))}. "
                   "Ranking metrics compare pairs within "
                   f"{split.get('group_by')} groups. Lower log loss/Brier and higher AUC/P@3/NDCG@3 are better.")
    g1, g2 = st.columns(2)
    if curves:
        g1.plotly_chart(charts_people.calibration_curve(curves), width="stretch", key=f"rk_calibration_{key}")
    if len(importance):
        g2.plotly_chart(charts_people.feature_importance(importance), width="stretch", key=f"rk_importance_{key}")


with metrics_tab:
    if not report.comparison.empty:
        split = (v.metrics.get("split") if v else None)
        _draw_metrics(report.comparison, report.calibration, report.importance, split, key="active")

with train_tab:
    st.write("Train on the stored assignment history. The newest 20 % of the history is held out for the "
             "comparison; a lambdarank challenger is kept only if it beats the classifier.")
    with st.form(state.key("rk_train_form")):
        activate = st.checkbox("Make the new model active", value=True, key=state.key("rk_activate"))
        go = st.form_submit_button("Train now", type="primary")
    if go:
        try:
            with st.status("Training the ranking model…", expanded=True) as status:
                bar = st.progress(0.0)
                out = people.train_ranker(app, actor, activate=activate,
                                          on_progress=lambda f, t: bar.progress(min(max(f, 0.0), 1.0), t))
                status.update(label=f"Trained {out.version.version} in {out.seconds:.1f} s", state="complete",
                              expanded=False)
        except ServiceError as exc:
            st.error(md(exc))
        else:
            # rerun, so the header above (drawn before this click was handled) shows the new model
            state.put("rk_flash", f"Saved ranker {out.version.version} ({out.version.kind}) in {out.seconds:.1f} s"
                      + (" and made it active." if out.version.active else "."))
            state.put("rk_trained", out)
            st.rerun()
    trained = state.get("rk_trained")
    if trained is not None:
        st.caption(f"Just trained: {trained.version.version} ({trained.version.kind})"
                   + (", active." if trained.version.active else ", not active."))
        _draw_metrics(trained.comparison, trained.calibration_curves, trained.importance, trained.split,
                      key="trained")

with shadow_tab:
    sh = people.shadow_mode_report(app, actor)
    st.write("In shadow mode the rules decide while the model's choice is logged next to them. Once outcomes are "
             "recorded, the report shows whether the model would have picked better.")
    s1, s2, s3 = st.columns(3)
    s1.metric("Tasks logged", f"{sh.decisions:,}")
    s2.metric("Model agreed with rules", "—" if sh.decisions == 0 else f"{sh.agreement_logged:.0%}")
    rep = sh.report
    s3.metric("With recorded outcome", f"{rep.get('tasks', 0):,}")
    if rep.get("tasks"):
        r1, r2 = st.columns(2)
        r1.metric("Success when model agreed", f"{rep['success_when_agree']:.0%}"
                  if rep["success_when_agree"] == rep["success_when_agree"] else "—")
        r2.metric("Success when model disagreed", f"{rep['success_when_disagree']:.0%}"
                  if rep["success_when_disagree"] == rep["success_when_disagree"] else "—")
        table = pd.DataFrame([{"scorer": k, **{m: rep[k].get(m) for m in ("n", "auc", "log_loss", "brier")}}
                              for k in ("model", "rules")])
        st.dataframe(table, hide_index=True, width="stretch", column_config=COMPARISON_CONFIG)
        st.caption("Which score predicted the recorded outcomes of the people actually assigned better.")
    elif sh.decisions:
        st.info("No outcomes recorded yet for tasks decided in shadow mode (Assignment page → Outcomes).")
    if len(sh.log):
        log_view = sh.log.assign(logged_at=local_column(sh.log["logged_at"]))  # scored_at is local already
        st.dataframe(log_view, hide_index=True, width="stretch", column_config=headers(
            log_view.columns, scored_at=st.column_config.DatetimeColumn("scored", format=DATETIME_COLUMN_FORMAT),
            logged_at=st.column_config.DatetimeColumn("logged", format=DATETIME_COLUMN_FORMAT)))
    if not settings.shadow_mode:
        st.caption("Shadow mode is off; switch it on in the Settings tab.")

with settings_tab:
    st.caption("Defaults come from the environment (WFP_ML_ENABLED, WFP_RANKING_ENABLED, WFP_SHADOW_MODE, "
               "WFP_CONFIDENCE_THRESHOLD); changes here are stored and audited.")
    with st.form(state.key("rk_settings_form")):
        ml = st.toggle("ML enabled", value=settings.ml_enabled, key=state.key("rk_ml"))
        ranking = st.toggle("Ranking enabled", value=settings.ranking_enabled, key=state.key("rk_rank"))
        shadow = st.toggle("Shadow mode (rules decide, model is logged)", value=settings.shadow_mode,
                           key=state.key("rk_shadow"))
        threshold = st.slider("Confidence threshold (best calibrated probability per task below it → rules)",
                              0.0, 1.0, float(settings.confidence_threshold), 0.01, key=state.key("rk_thr"))
        if st.form_submit_button("Save settings", type="primary"):
            try:
                people.update_scorer_settings(app, actor, ScorerSettings(ml, ranking, shadow, float(threshold)))
                st.success("Settings saved.")
                st.rerun()
            except (ServiceError, ValueError) as exc:
                st.error(md(exc))

with versions_tab:
    versions = people.list_ranker_versions(app, actor)
    if versions:
        vt = pd.DataFrame([{"version": x.version, "active": x.active, "kind": x.kind,
                            "created_at": fmt_datetime(x.created_at, utc=True),
                            "created_by": x.created_by, "auc": x.metrics.get(f"{x.kind}_auc"),
                            "rules_auc": x.metrics.get("rules_auc"),
                            "precision_at_3": x.metrics.get(f"{x.kind}_precision_at_3"),
                            "rules_precision_at_3": x.metrics.get("rules_precision_at_3")}
                           for x in reversed(versions)])
        st.dataframe(vt, hide_index=True, width="stretch", column_config=headers(
            vt.columns, auc=st.column_config.NumberColumn("AUC", format="%.3f"),
            rules_auc=st.column_config.NumberColumn("rules AUC", format="%.3f"),
            precision_at_3=st.column_config.NumberColumn("Precision@3", format="%.3f"),
            rules_precision_at_3=st.column_config.NumberColumn("rules Precision@3", format="%.3f")))
        with st.form(state.key("rk_versions_form")):
            choice = st.selectbox("Version", vt["version"].tolist(), key=state.key("rk_version"))
            if st.form_submit_button("Activate"):
                try:
                    people.activate_ranker(app, actor, choice)
                    st.success(f"{md(choice)} is now active.")
                    st.rerun()
                except ServiceError as exc:
                    st.error(md(exc))
    else:
        st.caption("No ranker versions saved yet.")
