"""Overtime endpoints over the demo data: request → ranked candidates → contacts → responses → fairness."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from src.data import store
from src.services import overtime as ot
from tests.conftest import ADMIN

pytestmark = pytest.mark.usefixtures("fresh_limiter")

SHIFT = {"site": "Haus Lindenhof", "shift_type": "early"}


def _day(offset: int = 3) -> str:
    return str(date.today() + timedelta(days=offset))


def _create(demo_api, role: str = "planner", **extra) -> dict:
    r = demo_api.client.post("/api/v1/overtime/requests", headers=demo_api.headers(role),
                             json={**SHIFT, "shift_date": _day(), **extra})
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("method,path", [
    ("post", "/api/v1/overtime/requests"), ("get", "/api/v1/overtime/requests"),
    ("get", "/api/v1/overtime/requests/OTR-000001/candidates"),
    ("post", "/api/v1/overtime/requests/OTR-000001/contacts"),
    ("post", "/api/v1/overtime/requests/OTR-000001/responses"), ("get", "/api/v1/overtime/fairness")])
def test_every_overtime_endpoint_needs_a_token(demo_api, method, path):
    r = getattr(demo_api.client, method)(path)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = getattr(demo_api.client, method)(path, headers={"Authorization": "Bearer wfp_wrong"})
    assert r.status_code == 401


def test_create_request_returns_ranked_candidates_and_is_audited_with_token_owner(demo_api):
    body = _create(demo_api, "planner", hours=6, note="sick leave")
    req = body["request"]
    assert req["request_id"].startswith("OTR-") and req["status"] == "open" and req["hours"] == 6.0
    assert req["site"] == "Haus Lindenhof" and req["created_by"] == "pat" and req["created_at"].endswith("Z")
    assert body["ranked"] is True and body["candidates"] and body["shift_start"][10:19] == "T06:00:00"
    assert body["shift_start"][19:] in ("+01:00", "+02:00")  # Europe/Berlin wall-clock time with its offset
    first = body["candidates"][0]
    assert first["rank"] == 1 and first["status"] == "not contacted"
    assert set(first["factors"]) == set(body["weights"]) and abs(sum(body["weights"].values()) - 1) < 1e-9
    total = sum(f["contribution"] for f in first["factors"].values())
    assert first["total"] == pytest.approx(total)
    totals = [c["total"] for c in body["candidates"]]
    assert totals == sorted(totals, reverse=True)
    assert all(e["reasons"] and len(e["reasons"]) == len(e["codes"]) for e in body["excluded"])
    audit = store.audit_events(demo_api.ctx.engine, action="overtime.request.create")
    row = audit[audit["object_id"] == req["request_id"]].iloc[0]
    assert row["actor"] == "pat" and row["role"] == "planner"


def test_create_request_bad_input_is_422_with_field_paths_and_stores_nothing(demo_api):
    before = len(ot.list_requests(demo_api.ctx, ADMIN))
    r = demo_api.client.post("/api/v1/overtime/requests", headers=demo_api.headers("planner"),
                             json={"site": "", "shift_date": "31.12.2026", "shift_type": "early", "hours": 30})
    assert r.status_code == 422
    locs = {tuple(e["loc"]) for e in r.json()["detail"]}
    assert {("body", "site"), ("body", "shift_date"), ("body", "hours")} <= locs
    r = demo_api.client.post("/api/v1/overtime/requests", headers=demo_api.headers("planner"),
                             json={**SHIFT, "site": "Haus Nirgendwo", "shift_date": _day()})
    assert r.status_code == 422 and "Unknown site" in r.json()["detail"]
    r = demo_api.client.post("/api/v1/overtime/requests", headers=demo_api.headers("planner"),
                             json={**SHIFT, "shift_type": "brunch", "shift_date": _day()})
    assert r.status_code == 422 and "shift type" in r.json()["detail"]
    assert len(ot.list_requests(demo_api.ctx, ADMIN)) == before


def test_contact_respond_fill_flow(demo_api):
    body = _create(demo_api, "admin")
    code = body["request"]["request_id"]
    a, b = body["candidates"][0]["staff_id"], body["candidates"][1]["staff_id"]
    h = demo_api.headers("planner")
    r = demo_api.client.post(f"/api/v1/overtime/requests/{code}/responses", headers=h,
                             json={"staff_id": a, "response": "accepted"})
    assert r.status_code == 422 and "not contacted" in r.json()["detail"]
    r = demo_api.client.post(f"/api/v1/overtime/requests/{code}/contacts", headers=h,
                             json={"staff_ids": [a, b], "channel": "sms"})
    assert r.status_code == 200 and r.json()["contacted"] == [a, b]
    r = demo_api.client.post(f"/api/v1/overtime/requests/{code}/responses", headers=h,
                             json={"staff_id": b, "response": "declined"})
    assert r.status_code == 200 and r.json()["filled"] is False
    r = demo_api.client.get(f"/api/v1/overtime/requests/{code}/candidates", headers=h)
    status = {c["staff_id"]: c["status"] for c in r.json()["candidates"]}
    assert status[a] == "waiting" and status[b] == "declined"
    r = demo_api.client.post(f"/api/v1/overtime/requests/{code}/responses", headers=h,
                             json={"staff_id": a, "response": "accepted"})
    assert r.status_code == 200
    out = r.json()
    assert out["filled"] is True and out["request_id"] == code and "is filled" in out["message"]
    r = demo_api.client.get(f"/api/v1/overtime/requests/{code.replace('OTR-', '').lstrip('0')}/candidates",
                            headers=h)
    view = r.json()
    assert view["request"]["status"] == "filled" and view["request"]["filled_staff_id"] == a
    assert view["ranked"] is False and {c["staff_id"] for c in view["contacts"]} == {a, b}
    # a filled request takes no more answers; every write was audited with the token's owner
    r = demo_api.client.post(f"/api/v1/overtime/requests/{code}/responses", headers=h,
                             json={"staff_id": b, "response": "accepted"})
    assert r.status_code == 422 and "already filled" in r.json()["detail"]
    audit = store.audit_events(demo_api.ctx.engine)
    mine = audit[audit["object_id"] == code]
    assert set(mine["action"]) >= {"overtime.contact", "overtime.response", "overtime.fill"}
    assert set(mine.loc[mine["action"] != "overtime.request.create", "actor"]) == {"pat"}
    listed = demo_api.client.get("/api/v1/overtime/requests?status=filled", headers=h).json()
    assert code in {x["request_id"] for x in listed}


def test_contact_rejects_excluded_people_and_stores_nothing(demo_api):
    body = _create(demo_api, "planner")
    code = body["request"]["request_id"]
    assert body["excluded"], "demo data always has someone who cannot take a shift"
    bad = body["excluded"][0]["staff_id"]
    ok = body["candidates"][0]["staff_id"]
    r = demo_api.client.post(f"/api/v1/overtime/requests/{code}/contacts", headers=demo_api.headers("planner"),
                             json={"staff_ids": [ok, bad]})
    assert r.status_code == 422 and bad in r.json()["detail"] and "Nobody was contacted" in r.json()["detail"]
    view = demo_api.client.get(f"/api/v1/overtime/requests/{code}/candidates",
                               headers=demo_api.headers("planner")).json()
    assert view["contacts"] == [] and view["request"]["contacts"] == 0


def test_bad_request_ids_and_bodies_are_422(demo_api):
    h = demo_api.headers("planner")
    r = demo_api.client.get("/api/v1/overtime/requests/OTR-99999999999999/candidates", headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "request_id"]
    r = demo_api.client.get("/api/v1/overtime/requests/OTR-999999/candidates", headers=h)
    assert r.status_code == 422 and "does not exist" in r.json()["detail"]
    r = demo_api.client.post("/api/v1/overtime/requests/OTR-000001/contacts", headers=h,
                             json={"staff_ids": [], "channel": "pigeon"})
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {("body", "staff_ids"), ("body", "channel")}
    r = demo_api.client.post("/api/v1/overtime/requests/OTR-000001/responses", headers=h,
                             json={"staff_id": "S0001", "response": "maybe"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "response"]


def test_fairness_report(demo_api):
    r = demo_api.client.get("/api/v1/overtime/fairness?days=90&as_of=2026-10-31&periods=3",
                            headers=demo_api.headers("planner"))
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["days"] == 90 and rep["basis"] == "charged" and rep["as_of"].startswith("2026-11-01")
    assert 0 <= rep["metrics"]["score"] <= 100 and rep["metrics"]["n"] == len(rep["people"]) > 10
    values = [p["value"] for p in rep["people"]]
    assert values == sorted(values, reverse=True)
    avg = rep["metrics"]["average"]
    assert all(p["under_utilised"] == (p["value"] < avg - 1e-9) for p in rep["people"])
    assert [w["days"] for w in rep["windows"]] == [30, 60, 90, 180, 365] and len(rep["trend"]) == 3
    one = demo_api.client.get("/api/v1/overtime/fairness?site=Haus Lindenhof&basis=worked&as_of=2026-10-31",
                              headers=demo_api.headers("admin")).json()
    direct = ot.fairness(demo_api.ctx, ADMIN, as_of_date="2026-10-31", basis="worked", sites=["Haus Lindenhof"],
                         periods=0).report  # the page's numbers, unchanged
    assert one["basis"] == "worked" and [p["staff_id"] for p in one["people"]] == list(direct.per_person["staff_id"])
    assert one["metrics"]["score"] == pytest.approx(direct.score)
    assert len(one["people"]) < len(rep["people"])


def test_fairness_bad_params_are_422(demo_api):
    h = demo_api.headers("planner")
    r = demo_api.client.get("/api/v1/overtime/fairness?days=0&basis=hours&as_of=yesterday", headers=h)
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {("query", "days"), ("query", "basis"),
                                                              ("query", "as_of")}
    r = demo_api.client.get("/api/v1/overtime/fairness?as_of=0012-01-01", headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "as_of"]
    r = demo_api.client.get(f"/api/v1/overtime/fairness?as_of={_day(30)}", headers=h)
    assert r.status_code == 422 and "future" in r.json()["detail"]


def test_candidates_tie_break_documents_exactly_the_values_that_work(demo_api):
    """#13.22: the document advertised `random` (always 422) and not the service's `fewest_hours`."""
    from src.models.overtime.rules import TIE_BREAKS

    doc = demo_api.client.get("/openapi.json").json()
    op = doc["paths"]["/api/v1/overtime/requests/{request_id}/candidates"]["get"]
    param = next(p for p in op["parameters"] if p["name"] == "tie_break")
    assert set(param["schema"]["enum"]) == set(TIE_BREAKS)
    code = _create(demo_api)["request"]["request_id"]
    for value in TIE_BREAKS:
        r = demo_api.client.get(f"/api/v1/overtime/requests/{code}/candidates", params={"tie_break": value},
                                headers=demo_api.headers("planner"))
        assert r.status_code == 200 and r.json()["ranked"], (value, r.text)
    r = demo_api.client.get(f"/api/v1/overtime/requests/{code}/candidates", params={"tie_break": "random"},
                            headers=demo_api.headers("planner"))
    assert r.status_code == 422
    with pytest.raises(ot.ServiceError, match="Tie-break"):
        ot.request_view(demo_api.ctx, ADMIN, code, tie_break="random")
