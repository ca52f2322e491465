"""Assignment and Ranking model pages through AppTest, on a copy of a populated store (built once per module)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from src.data import people_store as ps
from src.data import store
from src.data.demo import DemoConfig, generate_demo
from src.models.ranking import TrainConfig
from src.services import auth, people
from src.services import data as data_service
from src.services.context import set_app
from tests.app.conftest import PASSWORDS, logged_in
from tests.conftest import ADMIN, PLANNER, fresh_app


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("people_tpl")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "BCRYPT_ROUNDS", 4)
        ctx = fresh_app("sqlite", tmp)
        auth.ensure_admin(ctx, PASSWORDS["admin"])
        auth.create_user(ctx, ADMIN, username="pat", display_name="Pat Planner", role="planner",
                         password=PASSWORDS["pat"])
    frames = generate_demo(DemoConfig(n_staff=40, n_assignments=2500, n_overtime_requests=0, years=1.0))
    for kind in ("staff", "assignments"):
        data_service.ingest_frame(ctx, ADMIN, kind=kind, frame=frames[kind], name=f"test:{kind}")
    people.train_ranker(ctx, ADMIN, config=TrainConfig(num_boost_round=40, try_lambdarank=False))
    people.generate_demo_tasks(ctx, PLANNER, n_tasks=25, seed=5)
    ctx.engine.dispose()
    return tmp


@pytest.fixture
def people_app(template, tmp_path):
    for f in template.glob("test.db*"):
        shutil.copy(f, tmp_path / f.name)
    shutil.copytree(template / "models", tmp_path / "models")
    ctx = fresh_app("sqlite", tmp_path)
    set_app(ctx)
    yield ctx
    set_app(None)
    ctx.engine.dispose()


def _button(at, label: str):
    return next(b for b in at.button if b.label.startswith(label))


def _assignment(role: str = "planner", user: str = "pat"):
    at = logged_in(user, role).run()
    at.switch_page("pages/assignment.py").run()
    assert not at.exception, at.exception
    return at


def test_preview_override_finalize(people_app):
    at = _assignment()
    assert at.metric[0].value == "25"
    _button(at, "Preview assignments").click()
    at.run()
    assert not at.exception, at.exception
    assert any(s.label.startswith("Preview") for s in at.status)
    assert any(h.value.startswith("Preview 1") for h in at.subheader)
    table = at.dataframe[1].value  # [0] = method comparison, [1] = assignments
    assert len(table) == 25 and {"staff_id", "score", "decision"} <= set(table.columns)
    assert at.get("plotly_chart"), "comparison / explanation charts are drawn"
    # override the first task with a reason
    sb = at.selectbox(key="wfp_asg_new_staff")
    sb.set_value(sb.options[1].split()[0])  # options are the formatted labels "S0002 Name"
    at.text_input(key="wfp_asg_reason").input("covers for a colleague")
    _button(at, "Override").click()
    at.run()
    assert not at.exception, at.exception
    rows = ps.load_preview_rows(people_app.engine, 1)
    assert rows["overridden"].sum() == 1
    assert len(store.audit_events(people_app.engine, action="people.override")) == 1
    _button(at, "Finalize").click()
    at.run()
    assert not at.exception, at.exception
    assert any("Finalized preview 1" in s.value for s in at.success)
    assert len(ps.load_finalized(people_app.engine)) == int((rows["staff_id"] != "").sum())
    assert not [b for b in at.button if b.label.startswith("Finalize")]


def test_override_without_reason_shows_error(people_app):
    at = _assignment()
    _button(at, "Preview assignments").click()
    at.run()
    _button(at, "Override").click()
    at.run()
    assert not at.exception
    assert any("reason" in e.value for e in at.error)
    assert ps.load_preview_rows(people_app.engine, 1)["overridden"].sum() == 0


def test_empty_store_shows_guidance(ui_app):
    at = _assignment()
    assert any("no open tasks" in i.value for i in at.info)
    _button(at, "Create tasks").click()
    at.run()
    assert not at.exception
    assert any("no assignment history" in e.value for e in at.error)


def test_admin_task_upload_reports_row_errors(people_app):
    at = _assignment("admin", "admin")
    bad = (b"task_id,task_type,site,priority,due,required_skill,hours\n"
           b"N1,callback,CC-Berlin,2,2030-01-02 10:00,calls,1\nN2,callback,CC-Berlin,2,not a date,calls,1\n")
    at.file_uploader[0].upload("tasks.csv", bad, "text/csv")
    at.run()
    assert not at.exception, at.exception
    assert at.error and not [b for b in at.button if b.label.startswith("Store")]
    report = at.dataframe[0].value
    assert 3 in set(report["row"].dropna().astype(int))


def test_planner_has_no_ranking_page(people_app):
    at = logged_in("pat", "planner").run()
    with pytest.raises(ValueError):
        at.switch_page("pages/ranking_model.py").run()


def test_ranking_page_metrics_settings_and_train(people_app):
    at = logged_in("admin", "admin").run()
    at.switch_page("pages/ranking_model.py").run()
    assert not at.exception, at.exception
    comp = at.dataframe[0].value
    assert set(comp["scorer"]) == {"binary", "rules"}
    assert len(at.get("plotly_chart")) >= 2  # calibration + feature importance
    at.toggle(key="wfp_rk_shadow").set_value(True)
    _button(at, "Save settings").click()
    at.run()
    assert not at.exception, at.exception
    assert people.scorer_settings(people_app, ADMIN).shadow_mode
    assert len(store.audit_events(people_app.engine, action="people.settings")) == 1
    _button(at, "Train now").click()
    at.run(timeout=60)
    assert not at.exception, at.exception
    assert any("Saved ranker" in s.value for s in at.success)
    assert len(people.list_ranker_versions(people_app, ADMIN)) == 2


def test_retraining_on_unchanged_data_draws_both_metric_sets(people_app):
    """Retraining with nothing new gives the active model's figures again: the Train tab's charts and the Model vs
    rules tab's must not collide (StreamlitDuplicateElementId crashed the page)."""
    at = logged_in("admin", "admin").run()
    at.switch_page("pages/ranking_model.py").run()
    for _ in range(2):  # the first makes the page's model the active one, the second repeats it exactly
        _button(at, "Train now").click()
        at.run(timeout=90)
        assert not at.exception, at.exception
    assert any("Saved ranker" in s.value for s in at.success)
    assert len(at.get("plotly_chart")) >= 4  # calibration + importance, active and just trained


def test_finalized_comparison_leaves_no_stale_draft_after_a_reload(people_app):
    at = _assignment()
    for method in ("greedy", "optimal"):
        at.selectbox(key="wfp_asg_method").set_value(method)
        _button(at, "Preview assignments").click()
        at.run()
        assert not at.exception, at.exception
    _button(at, "Finalize").click()
    at.run()
    assert any("Finalized preview 2" in s.value for s in at.success)
    fresh = _assignment()  # a reload: a new session resumes the newest draft that can still be finalized
    assert not [h for h in fresh.subheader if h.value.startswith("Preview 1")], "the greedy draft covers assigned tasks"
    assert not [b for b in fresh.button if b.label.startswith("Finalize")]


def test_counts_at_the_top_include_tasks_just_created_and_outcomes_just_recorded(people_app):
    at = _assignment()
    assert at.metric[0].value == "25"
    _button(at, "Create tasks").click()
    at.run()
    assert not at.exception, at.exception
    created = len(ps.load_tasks(people_app.engine)) - 25
    assert created > 0 and at.metric[0].value == f"{25 + created:,}", "the open-task count was drawn before storing"
    assert any(s.value.startswith("Created") for s in at.success)
    people.finalize_preview(people_app, PLANNER, int(people.create_preview(people_app, PLANNER).preview["id"]))
    at.run()
    waiting = int(at.metric[2].value.replace(",", ""))
    first = people.assignments_awaiting_outcome(people_app, PLANNER)["task_id"].iloc[0]
    at.multiselect(key="wfp_asg_out_tasks").set_value([first])
    _button(at, "Record outcome").click()
    at.run()
    assert not at.exception, at.exception
    assert at.metric[2].value == f"{waiting - 1:,}"
    assert any("Recorded 1 outcome(s) as success" in s.value for s in at.success)


def test_preview_tables_say_dash_and_words_not_none_and_codes(people_app):
    at = _assignment()
    _button(at, "Preview assignments").click()
    at.run()
    assert not at.exception, at.exception
    comparison = at.dataframe[0].value.set_index("method")
    assert comparison.loc["greedy", "gap"] == "–" and comparison.loc["optimal", "gap"].endswith("%")
    candidates = next(d.value for d in at.dataframe if "rule_score" in d.value.columns)
    assert set(candidates["reason"]) <= set(people.DECISION_LABELS.values())
    assert "low_confidence" not in set(candidates["reason"]) and "model_missing" not in set(candidates["reason"])


def test_task_picker_names_the_new_assignee_after_an_override_and_keeps_the_task(people_app):
    at = _assignment()
    _button(at, "Preview assignments").click()
    at.run()
    picker = next(s for s in at.selectbox if s.label == "Task")
    second = picker.options[1].split(" · ")[0]
    picker.set_value(second)
    at.run()
    sb = at.selectbox(key="wfp_asg_new_staff")
    new_staff = sb.options[1].split()[0]
    sb.set_value(new_staff)
    at.text_input(key="wfp_asg_reason").input("covers for a colleague")
    _button(at, "Override").click()
    at.run()
    assert not at.exception, at.exception
    picker = next(s for s in at.selectbox if s.label == "Task")
    assert picker.value == second, "the overridden task stays chosen"
    assert picker.options[1].endswith(f"→ {new_staff}")
    # a new widget (key) for the new assignments, so the browser cannot keep showing the old label
    assert picker.key.startswith("wfp_asg_task_1_")


def test_override_reason_clears_after_success_and_stays_after_a_failure(people_app, monkeypatch):
    """The reason belongs to one override: left filled, the next override would silently reuse it. A failed
    override keeps it, so the planner can fix the choice and submit again without retyping."""
    from src.services.context import ServiceError

    at = _assignment()
    _button(at, "Preview assignments").click()
    at.run()
    real = people.override_assignment

    def refuse(*args, **kwargs):
        raise ServiceError("The preview changed meanwhile; try again.")

    monkeypatch.setattr(people, "override_assignment", refuse)
    sb = at.selectbox(key="wfp_asg_new_staff")
    sb.set_value(sb.options[1].split()[0])
    at.text_input(key="wfp_asg_reason").input("covers for a colleague")
    _button(at, "Override").click()
    at.run()
    assert not at.exception, at.exception
    assert any("preview changed" in e.value for e in at.error)
    assert at.text_input(key="wfp_asg_reason").value == "covers for a colleague", "a failure keeps the reason"

    monkeypatch.setattr(people, "override_assignment", real)
    sb = at.selectbox(key="wfp_asg_new_staff")
    sb.set_value(sb.options[1].split()[0])
    _button(at, "Override").click()
    at.run()
    assert not at.exception, at.exception
    assert ps.load_preview_rows(people_app.engine, 1)["overridden"].sum() == 1
    reason = at.text_input(key="wfp_asg_reason")
    assert reason.value == "", "a successful override clears its reason"
    # and the browser is told so: only a value set through session state is sent (a deleted key left the old text
    # on screen while the server already held "")
    assert reason.proto.set_value


def _metrics(at) -> dict[str, object]:
    return {m.label: m for m in at.metric}


def test_ranking_header_shows_the_model_right_after_train_now(people_app):
    """Issue 13.9: right after Train now the header still said "no ranker trained yet", Kind "none", AUC "—" (it
    was drawn before the click was handled), and before training Mode read "model decides" without a model."""
    from src.services import model_files

    model_files.write_active(people._root(people_app), None)  # trained versions exist, none is active
    at = logged_in("admin", "admin").run()
    at.switch_page("pages/ranking_model.py").run()
    assert not at.exception, at.exception
    m = _metrics(at)
    assert m["Kind"].value == "none" and m["Model AUC"].value == "—"
    assert m["Mode"].value == "rules (no model yet)", "no model: the rules decide"
    assert any("no ranker trained yet" in i.value for i in at.info)
    _button(at, "Train now").click()
    at.run(timeout=90)
    assert not at.exception, at.exception
    m = _metrics(at)
    assert m["Kind"].value in ("binary", "lambdarank") and m["Model AUC"].value != "—"
    assert m["Mode"].value == "model decides"
    assert not any("no ranker trained yet" in i.value for i in at.info)
    assert any(s.value.startswith("Saved ranker") and "made it active" in s.value for s in at.success)
    assert any(c.value.startswith("Just trained") for c in at.caption), "the Train tab keeps the new figures"


def test_a_zero_difference_to_the_rules_has_no_arrow(people_app, monkeypatch):
    """Issue 13.9: "+0.000 vs rules" got a green up-arrow, as if the model were better."""
    real = people.ranker_report

    def same_as_rules(app, actor):
        rep = real(app, actor)
        comp = rep.comparison.copy()
        comp.loc[comp["scorer"] != "rules", "auc"] = float(comp.loc[comp["scorer"] == "rules", "auc"].iloc[0]) + 1e-5
        return people.RankerReport(rep.version, rep.status, comp, rep.calibration, rep.importance)

    monkeypatch.setattr(people, "ranker_report", same_as_rules)
    at = logged_in("admin", "admin").run()
    at.switch_page("pages/ranking_model.py").run()
    assert not at.exception, at.exception
    auc = _metrics(at)["Model AUC"]
    from streamlit.proto.Metric_pb2 import Metric as MetricProto

    assert auc.proto.direction == MetricProto.MetricDirection.NONE and auc.proto.color == MetricProto.MetricColor.GRAY
    assert "0.000" in auc.delta and "+" not in auc.delta


def test_importance_chart_names_features_in_words():
    """Issue 13.13: the importance chart's bars were labelled days_until_due, past_success_rate …"""
    import pandas as pd

    from src.models.ranking import FEATURES
    from src.ui import charts_people

    assert set(FEATURES) <= set(charts_people.FEATURE_LABELS)
    fig = charts_people.feature_importance(pd.DataFrame({"feature": ["days_until_due", "past_success_rate"],
                                                         "gain": [5.0, 3.0]}))
    assert list(fig.data[0].y) == ["past success rate", "days until due"]


def test_preview_says_local_times_words_and_dash_for_model_rank_without_a_model(people_app):
    """Issue 13.13/14: "Created … 20:31 UTC, scored as of 21:31" read as a discrepancy; task_id, staff_id,
    tasks_in_preview headers; model_rank 0 for everyone when there is no model."""
    import json

    import pandas as pd

    from src.services import model_files
    from src.ui.dates import fmt_datetime

    model_files.write_active(people._root(people_app), None)
    at = _assignment()
    _button(at, "Preview assignments").click()
    at.run()
    assert not at.exception, at.exception
    prev = ps.get_preview(people_app.engine, 1)
    caption = next(c.value for c in at.caption if c.value.startswith("Created by"))
    assert "UTC" not in caption
    local = fmt_datetime(pd.Timestamp(prev["created_at"]), utc=True, tz=people_app.settings.timezone)
    assert f"on {local}" in caption
    table = next(d for d in at.dataframe if "override_reason" in d.value.columns)
    labels = {k: v.get("label") if isinstance(v, dict) else v for k, v in json.loads(table.proto.columns).items()}
    assert labels["task_id"] == "task" and labels["staff_id"] == "staff no."
    cands = next(d for d in at.dataframe if "rule_score" in d.value.columns)
    assert set(cands.value["model_rank"]) == {"–"}, "no model: no model rank"
    labels = {k: v.get("label") for k, v in json.loads(cands.proto.columns).items()}
    assert labels["tasks_in_preview"] == "tasks in this preview" and labels["model_rank"] == "model rank"


def test_people_charts_count_whole_tasks_and_keep_names_readable():
    """Seen in the browser: the 'Unassigned tasks' panel ticked 0.2, 0.4 … and the utilisation legend covered the
    rotated names of the people."""
    import pandas as pd

    from src.ui import charts_people as ch

    comp = pd.DataFrame({"method": ["greedy", "optimal"], "total_score": [9.0, 10.0], "unassigned": [0, 0],
                         "util_std": [0.2, 0.1], "util_max_mean": [3.0, 2.0]})
    fig = ch.method_comparison(comp)
    assert fig.layout.yaxis2.dtick == 1 and fig.layout.yaxis2.tickformat == ",d"
    util = pd.DataFrame({"staff_id": ["A"], "name": ["Ann"], "site": ["X"], "tasks": [2], "assigned_hours": [3.0],
                         "capacity_hours": [10.0], "utilisation": [0.3]})
    legend = ch.utilisation_bars(util).layout.legend
    assert legend.y >= 1 and legend.yanchor == "bottom", "above the bars, not over the names below them"
