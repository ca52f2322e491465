"""People services: roles, ranker storage and fallback, settings, task upload, preview → override → finalize
(atomicity, audit), outcomes, shadow mode. Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, select

from src.data import db, store
from src.data import people_store as ps
from src.data.demo import DemoConfig, generate_demo
from src.models.assignment import LimitBreach
from src.models.ranking import ScorerSettings, TrainConfig
from src.services import data as data_service
from src.services import people
from src.services.context import PermissionDenied, ServiceError
from tests.conftest import ADMIN, PLANNER

FAST = TrainConfig(num_boost_round=40, try_lambdarank=False)
START = date(2026, 11, 2)


@pytest.fixture(scope="module")
def frames():
    f = generate_demo(DemoConfig(n_staff=40, n_assignments=2500, n_overtime_requests=0, years=1.0))
    return {k: f[k] for k in ("staff", "assignments")}


@pytest.fixture
def world(app, frames):
    for kind in ("staff", "assignments"):
        data_service.ingest_frame(app, ADMIN, kind=kind, frame=frames[kind], name=f"test:{kind}")
    people.generate_demo_tasks(app, PLANNER, start=START, days=7, n_tasks=30, seed=3)
    return app


def _audit(app, action):
    return store.audit_events(app.engine, action=action)


def _count(app, table):
    with db.read_conn(app.engine) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar())


# ------------------------------------------------------------------------------------------- roles

@pytest.mark.parametrize("call", [
    lambda a: people.train_ranker(a, PLANNER, config=FAST),
    lambda a: people.update_scorer_settings(a, PLANNER, ScorerSettings()),
    lambda a: people.list_ranker_versions(a, PLANNER),
    lambda a: people.activate_ranker(a, PLANNER, "r20260101T000000-abcdef"),
    lambda a: people.validate_tasks_upload(a, PLANNER, filename="t.csv", content=b"x"),
    lambda a: people.shadow_mode_report(a, PLANNER),
    lambda a: people.ranker_report(a, PLANNER),
])
def test_planner_cannot_call_admin_services(sqlite_app, call):
    with pytest.raises(PermissionDenied):
        call(sqlite_app)


def test_anonymous_is_refused(sqlite_app):
    with pytest.raises(PermissionDenied):
        people.open_tasks(sqlite_app, None)


# ------------------------------------------------------------------------------------------- ranker

def test_train_saves_verified_version_and_audits(world):
    out = people.train_ranker(world, ADMIN, config=FAST)
    assert set(out.comparison["scorer"]) == {"binary", "rules"}
    assert out.version.active
    vdir = out.version.path
    manifest = json.loads((vdir / "manifest.json").read_text())
    assert set(manifest["files"]) == {"model.txt", "metadata.json"}
    assert not list(vdir.glob("*.pkl"))
    model, status = people.active_ranker(world)
    assert model is not None and out.version.version in status
    audit = _audit(world, "people.ranker_train")
    assert len(audit) == 1 and audit["object_id"].iloc[0] == out.version.version
    assert people.ranker_report(world, ADMIN).importance.shape[0] > 0


def test_tampered_model_falls_back_to_rules(world):
    out = people.train_ranker(world, ADMIN, config=FAST)
    people._cache.clear()
    (out.version.path / "model.txt").write_text("tree\ngarbage", encoding="utf-8")
    model, status = people.active_ranker(world)
    assert model is None and "unusable" in status
    view = people.create_preview(world, PLANNER, start=START, end=date(2026, 11, 8))
    assert set(view.preview["summary"]["decisions"]) <= {"model_missing", "no_eligible_staff"}


def test_no_history_gives_clear_error(sqlite_app):
    with pytest.raises(ServiceError, match="assignment history"):
        people.train_ranker(sqlite_app, ADMIN, config=FAST)


# ------------------------------------------------------------------------------------------- settings

def test_settings_default_from_env_then_persisted_and_audited(sqlite_app, monkeypatch):
    monkeypatch.setenv("WFP_SHADOW_MODE", "true")
    monkeypatch.setenv("WFP_CONFIDENCE_THRESHOLD", "0.7")
    s = people.scorer_settings(sqlite_app, PLANNER)
    assert s.shadow_mode and s.confidence_threshold == 0.7
    people.update_scorer_settings(sqlite_app, ADMIN, ScorerSettings(True, True, False, 0.4))
    assert people.scorer_settings(sqlite_app, PLANNER) == ScorerSettings(True, True, False, 0.4)
    detail = json.loads(_audit(sqlite_app, "people.settings")["detail_json"].iloc[0])
    assert detail["before"]["shadow_mode"] is True and detail["after"]["confidence_threshold"] == 0.4


# ------------------------------------------------------------------------------------------- tasks

GOOD_TASKS = (b"task_id,task_type,site,priority,due,required_skill,hours\n"
              b"X1,callback,CC-Berlin,2,2026-12-01 10:00,calls,1.5\n"
              b"X2,mobilisation,Haus Lindenhof,3,2026-12-01 12:00,mobility,1\n")
BAD_TASKS = (b"task_id,task_type,site,priority,due,required_skill,hours\n"
             b"X1,callback,CC-Berlin,2,2026-12-01 10:00,calls,1.5\n"
             b"X2,callback,CC-Berlin,high,2026-12-01 11:00,calls,1\n"
             b"X1,callback,CC-Berlin,2,2026-12-01 12:00,calls,1\n"
             b"X4,callback,CC-Berlin,2,2026-12-01 13:00,calls,30\n"
             b"X5,,CC-Berlin,2,2026-12-01 13:00,calls,1\n")


def test_bad_task_file_reports_rows_and_stores_nothing(app):
    report = people.validate_tasks_upload(app, ADMIN, filename="tasks.csv", content=BAD_TASKS)
    assert report.frame is None
    errors = report.to_frame().query("severity == 'error'")
    assert {3, 4, 6} <= set(errors["row"].dropna().astype(int))
    rep, stored = people.import_tasks(app, ADMIN, filename="tasks.csv", content=BAD_TASKS)
    assert stored is None and _count(app, ps.open_tasks) == 0
    hours = people.validate_tasks_upload(app, ADMIN, filename="t.csv", content=BAD_TASKS.replace(b"high", b"2")
                                         .replace(b"X1,callback,CC-Berlin,2,2026-12-01 12:00", b"X3,callback,"
                                                  b"CC-Berlin,2,2026-12-01 12:00").replace(b"X5,,", b"X5,a,"))
    assert [i.row for i in hours.errors] == [5] and "24" in hours.errors[0].message


def test_good_task_file_is_stored_once(app):
    _rep, stored = people.import_tasks(app, ADMIN, filename="tasks.csv", content=GOOD_TASKS)
    assert stored.rows == 2 and len(_audit(app, "people.tasks_import")) == 1
    again = people.validate_tasks_upload(app, ADMIN, filename="tasks.csv", content=GOOD_TASKS)
    assert again.frame is None and "already exists" in again.errors[0].message


def test_generate_demo_tasks_needs_history(sqlite_app):
    with pytest.raises(ServiceError, match="no assignment history"):
        people.generate_demo_tasks(sqlite_app, PLANNER)


# ------------------------------------------------------------------------------------------- previews

def test_preview_override_finalize_audited(world):
    people.train_ranker(world, ADMIN, config=FAST)
    view = people.create_preview(world, PLANNER, start=START, end=date(2026, 11, 8),
                                 options=people.PreviewOptions(method="optimal", max_tasks_per_person=3))
    pid = int(view.preview["id"])
    assert len(view.rows) == 30 and view.preview["summary"]["result"]["violations"] == 0
    assert set(view.comparison["method"]) == {"greedy", "balanced", "optimal"}
    assert (view.rows.groupby("staff_id").size().drop("", errors="ignore") <= 3).all()
    row = view.rows[view.rows["staff_id"] != ""].iloc[0]
    ex = people.explain_task(world, PLANNER, pid, row["task_id"])
    assert len(ex["rules"]) and len(ex["model"]) and len(ex["excluded"])
    load = view.rows["staff_id"].value_counts()
    cands = ex["candidates"]["staff_id"]
    full = cands[cands.map(load).fillna(0) >= 3]
    other = cands[(cands != row["staff_id"]) & (cands.map(load).fillna(0) < 3)].iloc[0]
    if len(full[full != row["staff_id"]]):
        with pytest.raises(ServiceError, match="limit is 3"):
            people.override_assignment(world, PLANNER, pid, row["task_id"], full[full != row["staff_id"]].iloc[0],
                                       "covering")
    with pytest.raises(ServiceError, match="reason"):
        people.override_assignment(world, PLANNER, pid, row["task_id"], other, " ")
    wrong_site = ex["excluded"][ex["excluded"]["reason"] == "site"]["staff_id"].iloc[0]
    with pytest.raises(ServiceError, match="cannot take"):
        people.override_assignment(world, PLANNER, pid, row["task_id"], wrong_site, "covering")
    people.override_assignment(world, PLANNER, pid, row["task_id"], other, "knows the resident")
    detail = json.loads(_audit(world, "people.override")["detail_json"].iloc[0])
    assert detail == {"task_id": row["task_id"], "from": row["staff_id"], "to": other, "reason": "knows the resident"}
    out = people.finalize_preview(world, PLANNER, pid)
    final = ps.load_finalized(world.engine)
    assert out.assigned == len(final) == int((view.rows["staff_id"] != "").sum())
    assert final.set_index("task_id").loc[row["task_id"], "staff_id"] == other
    assert bool(final.set_index("task_id").loc[row["task_id"], "overridden"])
    assert len(_audit(world, "people.finalize")) == 1
    with pytest.raises(ServiceError, match="already finalized"):
        people.finalize_preview(world, PLANNER, pid)
    with pytest.raises(ServiceError, match="already finalized"):
        people.override_assignment(world, PLANNER, pid, row["task_id"], row["staff_id"], "too late")


def test_finalize_is_all_or_nothing(world):
    a = people.create_preview(world, PLANNER, start=START, end=date(2026, 11, 8))
    b = people.create_preview(world, PLANNER, start=START, end=date(2026, 11, 8))
    people.finalize_preview(world, PLANNER, int(a.preview["id"]))
    n_final = _count(world, ps.finalized)
    n_audit = len(store.audit_events(world.engine))
    with pytest.raises(ServiceError, match="no longer open"):
        people.finalize_preview(world, PLANNER, int(b.preview["id"]))
    assert _count(world, ps.finalized) == n_final
    assert len(store.audit_events(world.engine)) == n_audit
    assert ps.get_preview(world.engine, int(b.preview["id"]))["status"] == "draft"


# Two planners, one person: Anna Berg may work 35 h a week, 5.0 h on the one-day window of these tasks.
LIMIT_STAFF = pd.DataFrame({
    "staff_id": ["S012", "S013"], "name": ["Anna Berg", "Ben Ott"], "site": ["CC-Berlin", "CC-Hamburg"],
    "role": ["agent", "agent"], "skills": ["calls:3", "calls:3"],
    "hire_date": pd.to_datetime(["2020-01-01", "2020-01-01"]), "contract_hours": [35.0, 35.0],
    "ot_willing": [True, True], "preferred_sites": ["", ""]})


def _limit_world(app, hours_a: float, hours_b: float):
    data_service.ingest_frame(app, ADMIN, kind="staff", frame=LIMIT_STAFF, name="test:staff")
    content = ("task_id,task_type,site,priority,due,required_skill,hours\n"
               f"A1,callback,CC-Berlin,2,2026-12-01 09:00,calls,{hours_a}\n"
               f"B1,callback,CC-Berlin,2,2026-12-01 14:00,calls,{hours_b}\n").encode()
    _rep, stored = people.import_tasks(app, ADMIN, filename="tasks.csv", content=content)
    assert stored is not None and stored.rows == 2
    a = people.create_preview(app, PLANNER, task_ids=["A1"])
    b = people.create_preview(app, PLANNER, task_ids=["B1"])
    # both previews counted Anna's load before either was finalized, and both give her the task
    assert a.rows.set_index("task_id")["staff_id"].to_dict() == {"A1": "S012"}
    assert b.rows.set_index("task_id")["staff_id"].to_dict() == {"B1": "S012"}
    assert b.preview["summary"]["window"] == a.preview["summary"]["window"]
    return int(a.preview["id"]), int(b.preview["id"])


def _statuses(app):
    return ps.load_tasks(app.engine, status=None).set_index("task_id")["status"].to_dict()


def test_finalize_refuses_a_preview_overloaded_by_an_earlier_finalize(app):
    pa, pb = _limit_world(app, 3.0, 3.0)
    people.finalize_preview(app, PLANNER, pa)
    before = (_count(app, ps.finalized), _statuses(app), len(store.audit_events(app.engine)))
    assert before[1] == {"A1": "assigned", "B1": "open"}
    msg = ("Anna Berg (S012) would have 6.0 h against a 5.0 h limit because 1 assignment was finalized after this "
           "preview was made; nothing was finalized — create a new preview.")
    with pytest.raises(ServiceError) as exc:
        people.finalize_preview(app, ADMIN, pb)
    assert str(exc.value) == msg
    assert (_count(app, ps.finalized), _statuses(app), len(store.audit_events(app.engine))) == before
    assert ps.get_preview(app.engine, pb)["status"] == "draft"
    assert people.latest_draft(app, PLANNER) == pb
    assert ps.load_finalized(app.engine)["task_id"].tolist() == ["A1"]
    # a new preview sees Anna's load and leaves B1 open (nobody else may work at CC-Berlin)
    fresh = people.create_preview(app, PLANNER, task_ids=["B1"])
    assert fresh.rows["staff_id"].tolist() == [""]


def test_concurrent_finalizes_are_checked_one_after_the_other(app, monkeypatch):
    """B's finalize starts while A's is inside its transaction (rows written, not committed): B waits for A
    (SQLite: BEGIN IMMEDIATE; PostgreSQL: the advisory lock) and then sees A's assignments."""
    pa, pb = _limit_world(app, 3.0, 3.0)
    written, release = threading.Event(), threading.Event()
    insert = ps.insert_finalized

    def paused_insert(conn, rows):
        n = insert(conn, rows)
        if int(rows["preview_id"].iloc[0]) == pa:
            written.set()
            assert release.wait(20)
        return n

    monkeypatch.setattr(ps, "insert_finalized", paused_insert)
    results: dict[int, object] = {}

    def run(pid):
        try:
            results[pid] = people.finalize_preview(app, PLANNER, pid)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[pid] = exc

    ta = threading.Thread(target=run, args=(pa,))
    ta.start()
    assert written.wait(20)
    tb = threading.Thread(target=run, args=(pb,))
    tb.start()
    tb.join(0.5)
    assert tb.is_alive()  # B waits for A's transaction
    release.set()
    ta.join(30)
    tb.join(30)
    assert isinstance(results[pa], people.FinalizeOutcome)
    assert isinstance(results[pb], ServiceError) and "6.0 h against a 5.0 h limit" in str(results[pb])
    assert ps.load_finalized(app.engine)["task_id"].tolist() == ["A1"]
    assert ps.get_preview(app.engine, pb)["status"] == "draft"


def test_finalize_succeeds_when_the_limits_still_hold(app):
    pa, pb = _limit_world(app, 3.0, 2.0)
    people.finalize_preview(app, PLANNER, pa)
    out = people.finalize_preview(app, PLANNER, pb)
    assert out.assigned == 1
    final = ps.load_finalized(app.engine)
    assert final.set_index("task_id")["staff_id"].to_dict() == {"A1": "S012", "B1": "S012"}
    assert final["hours"].sum() == 5.0
    assert _statuses(app) == {"A1": "assigned", "B1": "assigned"}
    assert ps.get_preview(app.engine, pb)["status"] == "finalized"


def test_finalize_applies_the_limits_the_preview_used(app):
    """Without 'respect contract hours' the preview had no hour limit, so finalize adds none; the task limit
    counts the tasks of one preview (as the solver does), so another preview's finalize cannot break it."""
    staff = LIMIT_STAFF.assign(contract_hours=[7.0, 7.0])  # 1.0 h on the window
    data_service.ingest_frame(app, ADMIN, kind="staff", frame=staff, name="test:staff")
    content = (b"task_id,task_type,site,priority,due,required_skill,hours\n"
               b"A1,callback,CC-Berlin,2,2026-12-01 09:00,calls,3\n"
               b"B1,callback,CC-Berlin,2,2026-12-01 14:00,calls,3\n")
    people.import_tasks(app, ADMIN, filename="tasks.csv", content=content)
    opts = people.PreviewOptions(use_hours=False, max_tasks_per_person=1)
    a = people.create_preview(app, PLANNER, task_ids=["A1"], options=opts)
    b = people.create_preview(app, PLANNER, task_ids=["B1"], options=opts)
    people.finalize_preview(app, PLANNER, int(a.preview["id"]))
    assert people.finalize_preview(app, PLANNER, int(b.preview["id"])).assigned == 1
    assert ps.load_finalized(app.engine)["staff_id"].tolist() == ["S012", "S012"]


def test_limits_message_names_people_limits_and_amounts():
    b = [LimitBreach("S012", "hours", 46.0, 40.0, 30.0, 2), LimitBreach("S013", "hours", 12.25, 10.0, 4.0, 0),
         LimitBreach("S013", "tasks", 4.0, 3.0)]
    assert people._limits_message(b, LIMIT_STAFF) == (
        "Anna Berg (S012) would have 46.0 h against a 40.0 h limit because 2 assignments were finalized after "
        "this preview was made; Ben Ott (S013) would have 12.2 h against a 10.0 h limit (their finalized work or "
        "contract hours changed after this preview was made); Ben Ott (S013) would have 4 tasks in this preview "
        "against a limit of 3; nothing was finalized — create a new preview.")
    many = [LimitBreach(f"S{i:03d}", "hours", 9.0, 8.0, 8.0, 1) for i in range(7)]
    msg = people._limits_message(many, LIMIT_STAFF.iloc[0:0])
    assert msg.startswith("S000 would have 9.0 h against a 8.0 h limit because 1 assignment was finalized")
    assert msg.count("would have") == 5 and "; and 2 more; nothing was finalized" in msg


def test_empty_period_and_bad_options(world):
    with pytest.raises(ServiceError, match="No open tasks"):
        people.create_preview(world, PLANNER, start=date(2030, 1, 1), end=date(2030, 1, 2))
    with pytest.raises(ServiceError, match="end date"):
        people.create_preview(world, PLANNER, start=date(2026, 11, 8), end=START)
    with pytest.raises(ServiceError, match="method"):
        people.PreviewOptions(method="random")


# ------------------------------------------------------------------------------------------- outcomes, shadow

def test_shadow_mode_logs_and_reports_after_outcomes(world):
    people.train_ranker(world, ADMIN, config=FAST)
    people.update_scorer_settings(world, ADMIN, ScorerSettings(shadow_mode=True, confidence_threshold=0.0))
    view = people.create_preview(world, PLANNER, start=START, end=date(2026, 11, 8))
    assert set(view.preview["summary"]["decisions"]) <= {"shadow_mode", "no_eligible_staff"}
    logged = ps.load_shadow(world.engine)
    assert len(logged) > 0 and {"rule_staff_id", "model_staff_id", "scored_at"} <= set(logged.columns)
    people.finalize_preview(world, PLANNER, int(view.preview["id"]))
    done = ps.load_finalized(world.engine)
    history_before = store.table_row_count(world.engine, "assignments")
    outcomes = {t: ("success" if i % 3 else "failure") for i, t in enumerate(done["task_id"])}
    assert people.record_outcomes(world, PLANNER, outcomes) == len(outcomes)
    assert store.table_row_count(world.engine, "assignments") == history_before + len(outcomes)
    assert ps.load_finalized(world.engine, with_outcome=False).empty
    rep = people.shadow_mode_report(world, ADMIN)
    assert rep.decisions == len(logged) and rep.report["tasks"] == len(outcomes)
    assert 0.0 <= rep.report["agreement"] <= 1.0
    # recording again replaces, never duplicates the history rows
    people.record_outcomes(world, PLANNER, {done["task_id"].iloc[0]: "success"})
    assert store.table_row_count(world.engine, "assignments") == history_before + len(outcomes)
    with pytest.raises(ServiceError, match="success"):
        people.record_outcomes(world, PLANNER, {done["task_id"].iloc[0]: "maybe"})


def test_recording_outcomes_is_atomic(world, monkeypatch):
    view = people.create_preview(world, PLANNER, start=START, end=date(2026, 11, 8))
    people.finalize_preview(world, PLANNER, int(view.preview["id"]))
    done = ps.load_finalized(world.engine)
    history_before = store.table_row_count(world.engine, "assignments")

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ps, "set_outcome", boom)
    with pytest.raises(RuntimeError):
        people.record_outcomes(world, PLANNER, {done["task_id"].iloc[0]: "success"})
    assert store.table_row_count(world.engine, "assignments") == history_before
    assert len(_audit(world, "people.outcome")) == 0


def test_discard(world):
    view = people.create_preview(world, PLANNER, start=START, end=date(2026, 11, 8))
    people.discard_preview(world, PLANNER, int(view.preview["id"]))
    assert ps.get_preview(world.engine, int(view.preview["id"]))["status"] == "discarded"
    assert people.latest_draft(world, PLANNER) is None
    assert len(people.open_tasks(world, PLANNER)) == 30


def test_latest_draft_skips_drafts_whose_tasks_were_finalized_by_another_preview(world):
    """Comparing methods leaves one draft per method; once one is finalized the others cover assigned tasks and
    must not come back as "the" draft after a reload (their Finalize could only fail)."""
    greedy = people.create_preview(world, PLANNER, start=START, end=date(2026, 11, 8),
                                    options=people.PreviewOptions(method="greedy"))
    optimal = people.create_preview(world, PLANNER, start=START, end=date(2026, 11, 8))
    assert people.latest_draft(world, PLANNER) == int(optimal.preview["id"])
    people.finalize_preview(world, PLANNER, int(optimal.preview["id"]))
    assert ps.get_preview(world.engine, int(greedy.preview["id"]))["status"] == "draft"
    assert people.latest_draft(world, PLANNER) is None
    assert people.latest_draft(world, ADMIN) is None  # only one's own drafts, as before



# ------------------------------------------------------------------------------------------- CLI, charts

def test_cli_train_ranker_json(world, capsys, monkeypatch):
    from src.cli import main
    from src.services import context

    monkeypatch.setattr(people, "train_ranker", lambda app, actor, **kw: _orig_train(app, actor, config=FAST, **kw))
    context.set_app(world)
    try:
        assert main(["train-ranker", "--json"]) == 0
    finally:
        context.set_app(None)
    doc = json.loads(capsys.readouterr().out)
    assert doc["active"] and {m["scorer"] for m in doc["metrics"]} == {"binary", "rules"}
    assert len(_audit(world, "people.ranker_train")) == 1


def test_cli_train_ranker_without_history_exits_2(sqlite_app, capsys):
    from src.cli import main
    from src.services import context

    context.set_app(sqlite_app)
    try:
        assert main(["train-ranker"]) == 2
    finally:
        context.set_app(None)
    assert "assignment history" in capsys.readouterr().err


_orig_train = people.train_ranker


def test_chart_builders():
    from src.ui import charts_people as ch

    comp = pd.DataFrame({"method": ["greedy", "optimal"], "total_score": [9.0, 10.0], "unassigned": [2, 1],
                         "util_std": [0.2, 0.1], "util_max_mean": [3.0, 2.0]})
    assert len(ch.method_comparison(comp).data) == 4
    every_task_assigned = comp.assign(unassigned=[0, 0])
    fig = ch.method_comparison(every_task_assigned)
    assert tuple(fig.layout.yaxis2.range) == (0, 1.0)  # not plotly's -1 … 1 around an all-zero panel
    assert fig.layout.yaxis.rangemode == "tozero"
    model_long = pd.DataFrame({"staff_id": ["A"] * 3, "feature": ["skill_level", "hour", "bias"],
                               "value": [5.0, 9.0, None], "contribution": [0.8, -0.2, 1.0]})
    fig = ch.model_contributions(model_long, "A")
    assert list(fig.data[0].x) == [-0.2, 0.8]  # bias left out, largest at the top
    rules = pd.DataFrame({"staff_id": ["A", "A", "B", "B"], "factor": ["skill", "workload"] * 2,
                          "value": [1, 0.5, 0.2, 1], "weight": [0.4, 0.2] * 2, "contribution": [0.4, 0.1, 0.08, 0.2]})
    assert len(ch.rule_breakdown(rules, ["A", "B"], {"A": "Ann"}).data) == 2
    curve = pd.DataFrame({"mean_predicted": [0.2, 0.8], "observed_rate": [0.25, 0.7], "count": [10, 30]})
    assert len(ch.calibration_curve({"binary": curve, "rules": curve}).data) == 3
    imp = pd.DataFrame({"feature": ["a", "b"], "gain": [2.0, 1.0]})
    assert list(ch.feature_importance(imp).data[0].y) == ["b", "a"]
    util = pd.DataFrame({"staff_id": ["A"], "name": ["Ann"], "site": ["X"], "tasks": [2], "assigned_hours": [3.0],
                         "capacity_hours": [10.0], "utilisation": [0.3]})
    assert len(ch.utilisation_bars(util).data) == 1
