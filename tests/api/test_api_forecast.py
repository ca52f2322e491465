"""Forecast and model endpoints: train + store (fast seasonal-naive model), read back, list and activate versions."""

from __future__ import annotations

import pytest

from src.data import store
from src.services import forecasting as fc

pytestmark = pytest.mark.usefixtures("fresh_limiter")


@pytest.fixture(scope="module")
def trained(demo_api):
    """One stored forecast of the demo call queue, trained through the API by the planner."""
    r = demo_api.client.post("/api/v1/forecast", headers=demo_api.headers("planner"),
                             json={"series": ["calls"], "horizon_days": 7, "model": "seasonal_naive", "folds": 1})
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("method,path", [
    ("post", "/api/v1/forecast"), ("get", "/api/v1/forecast/1"), ("get", "/api/v1/models"),
    ("post", "/api/v1/models/x/activate")])
def test_needs_a_token(demo_api, method, path):
    assert getattr(demo_api.client, method)(path).status_code == 401


def test_forecast_is_stored_and_returned(demo_api, trained):
    assert len(trained["runs"]) == 1 and trained["seconds"] >= 0
    run = trained["runs"][0]
    assert run["series_id"].startswith("workload:calls") and run["model"] == "seasonal_naive"
    assert run["created_by"] == "pat"
    points = run["forecast"]
    assert len(points) == 7 * 24 and all(p["yhat"] >= 0 for p in points)  # hourly queue, 7 days
    assert all(p["yhat_lower_80"] is None or p["yhat_lower_80"] <= p["yhat"] <= p["yhat_upper_80"] for p in points)
    again = demo_api.client.get(f"/api/v1/forecast/{run['run_id']}", headers=demo_api.headers("admin"))
    assert again.status_code == 200 and again.json()["forecast"] == points
    audit = store.audit_events(demo_api.ctx.engine)
    assert "pat" in set(audit.loc[audit["action"].str.startswith("forecast"), "actor"])


def test_models_list_and_activation_is_admin_only(demo_api, trained):
    versions = demo_api.client.get("/api/v1/models", headers=demo_api.headers("planner")).json()
    mine = [v for v in versions if v["version"] == trained["runs"][0]["model_version_id"]]
    assert len(mine) == 1 and mine[0]["model"] == "seasonal_naive"
    vid = mine[0]["version"]
    r = demo_api.client.post(f"/api/v1/models/{vid}/activate", headers=demo_api.headers("planner"))
    assert r.status_code == 403
    r = demo_api.client.post(f"/api/v1/models/{vid}/activate", headers=demo_api.headers("admin"))
    assert r.status_code == 200 and vid in r.json()["message"]
    listed = demo_api.client.get("/api/v1/models", headers=demo_api.headers("admin")).json()
    assert any(v["active"] for v in listed if v["version"] == vid)
    row = store.audit_events(demo_api.ctx.engine, action="model.activate").iloc[0]
    assert row["actor"] == "admin" and row["object_id"] == vid
    r = demo_api.client.post("/api/v1/models/no-such-version/activate", headers=demo_api.headers("admin"))
    assert r.status_code == 422


def test_bad_forecast_requests_are_422_with_field_paths(demo_api):
    h = demo_api.headers("planner")
    r = demo_api.client.post("/api/v1/forecast", headers=h,
                             json={"series": [], "horizon_days": 0, "model": "crystal_ball", "folds": 9})
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {("body", "series"), ("body", "horizon_days"),
                                                              ("body", "model"), ("body", "folds")}
    r = demo_api.client.post("/api/v1/forecast", headers=h, json={"series": ["fax"], "horizon_days": 3})
    assert r.status_code == 422 and "fax" in r.json()["detail"]
    r = demo_api.client.post("/api/v1/forecast", headers=h,
                             json={"series": ["calls"], "horizon_days": fc.MAX_HORIZON_DAYS + 1})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "horizon_days"]
    r = demo_api.client.get("/api/v1/forecast/0", headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "run_id"]
    r = demo_api.client.get("/api/v1/forecast/99999", headers=h)
    assert r.status_code == 422 and "does not exist" in r.json()["detail"]
