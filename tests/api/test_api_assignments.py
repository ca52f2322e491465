"""Assignment endpoints: tasks upload (admin), preview (draft, audited), read, finalize (all or nothing)."""

from __future__ import annotations

from datetime import date

import pytest

from src.data import people_store as ps
from src.data import store
from src.services import people
from tests.conftest import ADMIN

pytestmark = pytest.mark.usefixtures("fresh_limiter")

TASKS_CSV = (b"task_id,task_type,site,priority,due,required_skill,hours\n"
             b"API-1,Grundpflege,Haus Lindenhof,2,2026-12-07 08:00,,2\n"
             b"API-2,Grundpflege,Haus Lindenhof,1,2026-12-07 09:00,,1.5\n"
             b"API-3,Grundpflege,Haus Abendrot,3,2026-12-07 10:00,,1\n")


@pytest.fixture(scope="module")
def tasks(demo_api):
    """30 open tasks due 2026-11-23/24 sampled from the demo history (what the People page's button makes)."""
    people.generate_demo_tasks(demo_api.ctx, ADMIN, start=date(2026, 11, 23), days=2, n_tasks=30, seed=7)
    return people.open_tasks(demo_api.ctx, ADMIN)


@pytest.mark.parametrize("method,path", [
    ("post", "/api/v1/assignments/preview"), ("get", "/api/v1/assignments/preview/1"),
    ("post", "/api/v1/assignments/finalize/1"), ("post", "/api/v1/assignments/tasks")])
def test_every_assignment_endpoint_needs_a_token(demo_api, method, path):
    assert getattr(demo_api.client, method)(path).status_code == 401


def test_tasks_upload_is_admin_only_and_all_or_nothing(demo_api):
    files = {"file": ("tasks.csv", TASKS_CSV, "text/csv")}
    r = demo_api.client.post("/api/v1/assignments/tasks", headers=demo_api.headers("planner"), files=files)
    assert r.status_code == 403
    bad = TASKS_CSV.replace(b"Haus Abendrot,3,2026-12-07 10:00,,1", b"Haus Abendrot,3,2026-12-07 10:00,,30")
    r = demo_api.client.post("/api/v1/assignments/tasks", headers=demo_api.headers("admin"),
                             files={"file": ("bad.csv", bad, "text/csv")})
    assert r.status_code == 422 and r.json()["stored"] is False  # #20.9: rejected = client error, same document
    issue = next(i for i in r.json()["report"]["issues"] if i["severity"] == "error")
    assert issue["row"] == 4 and issue["column"] == "hours"
    assert not set(people.open_tasks(demo_api.ctx, ADMIN)["task_id"]) & {"API-1", "API-2", "API-3"}
    r = demo_api.client.post("/api/v1/assignments/tasks", headers=demo_api.headers("admin"), files=files)
    assert r.status_code == 200 and r.json()["stored"] is True and r.json()["rows"] == 3
    assert store.audit_events(demo_api.ctx.engine, action="people.tasks_import").iloc[0]["actor"] == "admin"


@pytest.mark.parametrize("role", ["planner", "admin"])
def test_preview_then_finalize(demo_api, tasks, role):
    h = demo_api.headers(role)
    ids = [t for t in tasks["task_id"] if t.startswith("OT")][:10] if role == "planner" else \
        [t for t in tasks["task_id"] if t.startswith("OT")][10:20]
    r = demo_api.client.post("/api/v1/assignments/preview", headers=h,
                             json={"task_ids": ids, "method": "balanced", "time_limit_s": 5})
    assert r.status_code == 201, r.text
    prev = r.json()
    pid = prev["preview_id"]
    assert prev["status"] == "draft" and prev["method"] == "balanced" and prev["n_tasks"] == 10
    assert {a["task_id"] for a in prev["assignments"]} == set(ids)
    assert {c["method"] for c in prev["comparison"]} == {"greedy", "balanced", "optimal"}
    assert prev["assigned"] + prev["unassigned"] == 10 and prev["assigned"] > 0
    got = [a for a in prev["assignments"] if a["staff_id"]]
    assert all(a["name"] and a["score"] is not None for a in got)
    assert prev["created_by"] == ("pat" if role == "planner" else "admin")
    # reading it back, nothing assigned yet
    again = demo_api.client.get(f"/api/v1/assignments/preview/{pid}", headers=h).json()
    assert again["assignments"] == prev["assignments"]
    assert set(people.open_tasks(demo_api.ctx, ADMIN)["task_id"]) >= set(ids)
    r = demo_api.client.post(f"/api/v1/assignments/finalize/{pid}", headers=h)
    assert r.status_code == 200, r.text
    fin = r.json()
    assert fin["preview_id"] == pid and fin["assigned"] == prev["assigned"] and "Finalized" in fin["message"]
    final = ps.load_finalized(demo_api.ctx.engine, task_ids=ids)
    assert len(final) == prev["assigned"] and set(final["assigned_by"]) == {prev["created_by"]}
    assert not set(people.open_tasks(demo_api.ctx, ADMIN)["task_id"]) & set(final["task_id"])
    audit = store.audit_events(demo_api.ctx.engine)
    for action in ("people.preview", "people.finalize"):
        row = audit[(audit["action"] == action) & (audit["object_id"] == str(pid))].iloc[0]
        assert row["actor"] == prev["created_by"]
    r = demo_api.client.post(f"/api/v1/assignments/finalize/{pid}", headers=h)
    assert r.status_code == 422 and "already finalized" in r.json()["detail"]
    assert demo_api.client.get(f"/api/v1/assignments/preview/{pid}", headers=h).json()["status"] == "finalized"


def test_finalize_is_all_or_nothing_when_a_task_was_taken_meanwhile(demo_api, tasks):
    h = demo_api.headers("planner")
    ids = [t for t in tasks["task_id"] if t.startswith("OT")][20:26]
    first = demo_api.client.post("/api/v1/assignments/preview", headers=h,
                                 json={"task_ids": ids, "method": "greedy"}).json()
    second = demo_api.client.post("/api/v1/assignments/preview", headers=h,
                                  json={"task_ids": ids[:2], "method": "greedy"}).json()
    assert demo_api.client.post(f"/api/v1/assignments/finalize/{second['preview_id']}", headers=h).status_code == 200
    r = demo_api.client.post(f"/api/v1/assignments/finalize/{first['preview_id']}", headers=h)
    assert r.status_code == 422 and "nothing was finalized" in r.json()["detail"]
    assert ps.load_finalized(demo_api.ctx.engine, task_ids=ids[2:]).empty
    view = demo_api.client.get(f"/api/v1/assignments/preview/{first['preview_id']}", headers=h).json()
    assert view["status"] == "draft"


def test_bad_input_is_422_with_field_paths(demo_api):
    h = demo_api.headers("planner")
    r = demo_api.client.post("/api/v1/assignments/preview", headers=h,
                             json={"method": "random", "time_limit_s": 0, "task_ids": [], "start": "soon"})
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {("body", "method"), ("body", "time_limit_s"),
                                                              ("body", "task_ids"), ("body", "start")}
    r = demo_api.client.post("/api/v1/assignments/preview", headers=h,
                             json={"start": "2026-12-02", "end": "2026-12-01"})
    assert r.status_code == 422 and "end is before start" in r.json()["detail"][0]["msg"]
    r = demo_api.client.post("/api/v1/assignments/preview", headers=h, json={"end": "0012-01-01"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "end"]
    r = demo_api.client.post("/api/v1/assignments/preview", headers=h, json={"task_ids": ["NO-SUCH-TASK"]})
    assert r.status_code == 422 and "No open tasks" in r.json()["detail"]
    for path in ("/api/v1/assignments/finalize/0", "/api/v1/assignments/finalize/abc",
                 "/api/v1/assignments/preview/99999999999"):
        r = demo_api.client.request("POST" if "finalize" in path else "GET", path, headers=h)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "preview_id"]
    r = demo_api.client.post("/api/v1/assignments/finalize/424242", headers=h)
    assert r.status_code == 422 and "does not exist" in r.json()["detail"]


def test_task_candidates_lists_every_candidate_with_its_explanation(demo_api, tasks):
    """#13.19: GET …/preview/{id}/tasks/{task_id}/candidates — every candidate's score and why, as the page's panel."""
    ids = [t for t in tasks["task_id"] if t.startswith("OT")][20:25]
    h = demo_api.headers("planner")
    r = demo_api.client.post("/api/v1/assignments/preview", headers=h, json={"task_ids": ids, "method": "greedy"})
    assert r.status_code == 201, r.text
    pid, row = r.json()["preview_id"], r.json()["assignments"][0]
    r = demo_api.client.get(f"/api/v1/assignments/preview/{pid}/tasks/{row['task_id']}/candidates", headers=h)
    assert r.status_code == 200, r.text
    doc = r.json()
    panel = people.explain_task(demo_api.ctx, ADMIN, pid, row["task_id"])
    assert doc["task_id"] == row["task_id"] and doc["staff_id"] == row["staff_id"]
    assert [c["staff_id"] for c in doc["candidates"]] == panel["candidates"]["staff_id"].tolist()
    assert [c["rank"] for c in doc["candidates"]] == sorted(c["rank"] for c in doc["candidates"])
    assert len(doc["excluded"]) == len(panel["excluded"]) and all(e["reason"] for e in doc["excluded"])
    first = doc["candidates"][0]
    assert first["score"] == pytest.approx(panel["candidates"]["score"].iloc[0])
    assert first["rules"] and sum(f["contribution"] for f in first["rules"]) == pytest.approx(first["rule_score"])
    if row["staff_id"]:
        assert sum(c["chosen"] for c in doc["candidates"]) == 1
        assert next(c for c in doc["candidates"] if c["chosen"])["staff_id"] == row["staff_id"]
    other = next(t for t in tasks["task_id"] if t not in ids)
    r = demo_api.client.get(f"/api/v1/assignments/preview/{pid}/tasks/{other}/candidates", headers=h)
    assert r.status_code == 422 and "not part of preview" in r.json()["detail"]
    r = demo_api.client.get(f"/api/v1/assignments/preview/{pid}/tasks/{row['task_id']}/candidates")
    assert r.status_code == 401
