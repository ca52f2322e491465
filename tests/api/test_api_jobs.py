"""REST jobs: POST /api/v1/jobs answers 202 with the id, GET follows it, cancel is for the requester or an admin.
The cluster is replaced by running the job in the request's thread (the worker's own code path)."""

from __future__ import annotations

import pytest

from src.services import compute
from src.services import jobs as jobs_service
from tests.api.conftest import bearer
from tests.unit.jobs_test_helpers import register_test_kinds, unregister_test_kinds
from tests.unit.test_forecast_service import CALLS, load_history

TRAIN = {"kind": "forecast.train", "params": {"series_ids": ["calls"], "horizon_days": 7, "model": "profile",
                                              "folds": 2}}


@pytest.fixture
def inline(monkeypatch):
    monkeypatch.setattr(compute, "submit", lambda settings, fn, *args, key, **kw: fn(*args, **kw))


@pytest.fixture
def parked(monkeypatch):
    register_test_kinds()
    monkeypatch.setattr(compute, "submit", lambda settings, fn, *args, key, **kw: None)
    yield
    unregister_test_kinds()


def test_submit_answers_202_and_the_job_leads_to_the_stored_forecast(client, api_app, planner_token, inline):
    load_history(api_app)
    res = client.post("/api/v1/jobs", json=TRAIN, headers=bearer(planner_token))
    assert res.status_code == 202, res.text
    body = res.json()
    assert res.headers["location"] == body["url"] == f"/api/v1/jobs/{body['job_id']}"
    job = client.get(body["url"], headers=bearer(planner_token)).json()
    assert job["status"] == "succeeded" and job["final"] and job["progress"] == 1
    assert job["params"]["series_ids"] == [CALLS]  # the queue name was resolved at submit time
    assert job["created_at"].endswith("Z") and job["requested_by"] == "pat"
    run = client.get(f"/api/v1/forecast/{job['result']['run_ids'][0]}", headers=bearer(planner_token))
    assert run.status_code == 200 and run.json()["series_id"] == CALLS
    listed = client.get("/api/v1/jobs", params={"status": "succeeded", "kind": "forecast.train"},
                        headers=bearer(planner_token)).json()
    assert [j["id"] for j in listed] == [body["job_id"]]
    assert client.get("/api/v1/jobs", params={"status": "failed"}, headers=bearer(planner_token)).json() == []


def test_bad_requests_are_refused_with_reasons(client, api_app, planner_token, inline):
    h = bearer(planner_token)
    assert client.get("/api/v1/jobs").status_code == 401
    assert client.post("/api/v1/jobs", json={"kind": "nope", "params": {}}, headers=h).status_code == 422
    res = client.post("/api/v1/jobs", json={**TRAIN, "params": {"series_ids": ["missing"], "horizon_days": 7}},
                      headers=h)
    assert res.status_code == 422 and "No stored history" in res.json()["detail"]
    assert client.get("/api/v1/jobs/424242", headers=h).status_code == 404
    assert client.post("/api/v1/jobs/424242/cancel", headers=h).status_code == 404
    assert client.get("/api/v1/jobs", params={"status": "weird"}, headers=h).status_code == 422
    assert client.get("/api/v1/jobs", params={"kind": "nope"}, headers=h).status_code == 422
    assert client.get("/api/v1/jobs", headers=h).json() == []


def test_cancel_by_the_requester_or_an_admin(client, api_app, planner_token, admin_token, parked):
    steps = {"kind": "test.steps", "params": {"steps": 1, "pause": 0}}
    mine = client.post("/api/v1/jobs", json=steps, headers=bearer(planner_token)).json()["job_id"]
    theirs = client.post("/api/v1/jobs", json=steps, headers=bearer(admin_token)).json()["job_id"]
    assert client.get(f"/api/v1/jobs/{theirs}", headers=bearer(planner_token)).json()["can_cancel"] is False
    assert client.post(f"/api/v1/jobs/{theirs}/cancel", headers=bearer(planner_token)).status_code == 403
    res = client.post(f"/api/v1/jobs/{mine}/cancel", headers=bearer(planner_token))
    assert res.status_code == 200 and res.json()["status"] == "cancelled" and res.json()["cancelled_by"] == "pat"
    again = client.post(f"/api/v1/jobs/{mine}/cancel", headers=bearer(planner_token))
    assert again.status_code == 422 and "already finished" in again.json()["detail"]
    assert client.post(f"/api/v1/jobs/{theirs}/cancel", headers=bearer(admin_token)).json()["status"] == "cancelled"
    assert jobs_service.list_jobs(api_app, jobs_service.Actor("admin", "admin"), status="cancelled")[0]["id"] == theirs
