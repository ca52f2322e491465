"""Absence endpoints over the demo data (record → list → the ranking excludes the person → delete), and a person's
rostered week. Each test uses its own people and days: the demo store is shared by the whole module."""

from __future__ import annotations

import typing
from datetime import date, timedelta

import pytest

from src.api.routes_overtime import AbsenceReason
from src.data import store
from src.services import overtime as ot
from tests.conftest import ADMIN

pytestmark = pytest.mark.usefixtures("fresh_limiter")

ABSENCES = "/api/v1/overtime/absences"


def _day(offset: int) -> str:
    return str(date.today() + timedelta(days=offset))


def _request(demo_api, offset: int) -> dict:
    r = demo_api.client.post("/api/v1/overtime/requests", headers=demo_api.headers("planner"),
                             json={"site": "Haus Lindenhof", "shift_type": "early", "shift_date": _day(offset)})
    assert r.status_code == 201, r.text
    return r.json()


def _staff_ids(demo_api) -> list[str]:
    return list(ot.staff_list(demo_api.ctx, ADMIN)["staff_id"])


def test_absence_reasons_match_the_service():
    assert typing.get_args(AbsenceReason) == tuple(ot.ABSENCE_REASONS)


@pytest.mark.parametrize("method,path", [
    ("get", ABSENCES), ("post", ABSENCES), ("delete", f"{ABSENCES}/1"),
    ("get", "/api/v1/overtime/staff/S0001/roster?week=2026-11-02")])
def test_every_absence_endpoint_needs_a_token(demo_api, method, path):
    r = getattr(demo_api.client, method)(path)
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = getattr(demo_api.client, method)(path, headers={"Authorization": "Bearer wfp_wrong"})
    assert r.status_code == 401


@pytest.mark.parametrize("role,offset", [("planner", 4), ("admin", 5)])
def test_absence_flow_excludes_the_person_from_the_ranking_and_is_audited(demo_api, role, offset):
    h = demo_api.headers(role)
    owner = "pat" if role == "planner" else "admin"
    code = _request(demo_api, offset)["request"]["request_id"]
    view = demo_api.client.get(f"/api/v1/overtime/requests/{code}/candidates", headers=h).json()
    sid = view["candidates"][0]["staff_id"]
    assert demo_api.client.get(ABSENCES, headers=h, params={"staff_id": sid}).json() == []

    r = demo_api.client.post(ABSENCES, headers=h, json={"staff_id": sid, "date_from": _day(offset),
                                                        "date_to": _day(offset + 2), "reason": "sick",
                                                        "note": "called in"})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["staff_id"] == sid and made["name"] and made["days"] == 3 and made["reason"] == "sick"
    assert made["date_from"] == _day(offset) and made["date_to"] == _day(offset + 2)
    assert made["note"] == "called in" and made["created_by"] == owner and made["created_at"].endswith("Z")
    listed = demo_api.client.get(ABSENCES, headers=h, params={"staff_id": sid, "start": _day(offset),
                                                              "end": _day(offset)}).json()
    assert listed == [made]
    assert made in demo_api.client.get(ABSENCES, headers=h).json()
    assert demo_api.client.get(ABSENCES, headers=h, params={"staff_id": sid, "end": _day(offset - 1)}).json() == []

    # the ranking for that day no longer offers the person: excluded as absent, with the reason
    view = demo_api.client.get(f"/api/v1/overtime/requests/{code}/candidates", headers=h).json()
    assert sid not in {c["staff_id"] for c in view["candidates"]}
    excluded = {e["staff_id"]: e for e in view["excluded"]}
    assert "absent" in excluded[sid]["codes"]

    r = demo_api.client.delete(f"{ABSENCES}/{made['id']}", headers=h)
    assert r.status_code == 200, r.text
    assert r.json() == made
    assert demo_api.client.get(ABSENCES, headers=h, params={"staff_id": sid}).json() == []
    view = demo_api.client.get(f"/api/v1/overtime/requests/{code}/candidates", headers=h).json()
    assert sid in {c["staff_id"] for c in view["candidates"]}

    # newest first; the two newest events of this id are ours (SQLite may reuse a deleted absence's id)
    audit = store.audit_events(demo_api.ctx.engine)
    mine = audit[(audit["object_type"] == "ot_absence") & (audit["object_id"] == str(made["id"]))].head(2)
    assert list(mine["action"]) == ["overtime.absence.delete", "overtime.absence.create"]
    assert set(mine["actor"]) == {owner} and set(mine["role"]) == {role}


def test_absence_refused_by_the_service_is_422_with_its_message_and_stores_nothing(demo_api):
    h = demo_api.headers("planner")
    sid = _staff_ids(demo_api)[-1]
    r = demo_api.client.post(ABSENCES, headers=h, json={"staff_id": sid, "date_from": _day(10), "reason": "leave"})
    assert r.status_code == 201, r.text
    first = r.json()
    before = len(ot.list_absences(demo_api.ctx, ADMIN))
    cases = [
        ({"staff_id": "NOPE-1", "date_from": _day(10)}, "Unknown staff id"),
        ({"staff_id": sid, "date_from": _day(9), "date_to": _day(11)}, "already recorded as absent"),
        ({"staff_id": sid, "date_from": _day(20), "date_to": _day(20 + ot.MAX_ABSENCE_DAYS)}, "at most"),
        ({"staff_id": sid, "date_from": _day(20), "date_to": _day(19)}, "before it starts"),
        ({"staff_id": sid, "date_from": _day(400)}, "more than a year"),
    ]
    for body, message in cases:
        r = demo_api.client.post(ABSENCES, headers=h, json={"reason": "training", **body})
        assert r.status_code == 422 and message in r.json()["detail"], (body, r.text)
    assert len(ot.list_absences(demo_api.ctx, ADMIN)) == before
    assert demo_api.client.delete(f"{ABSENCES}/{first['id']}", headers=h).status_code == 200


def test_bad_absence_bodies_and_params_are_422_with_field_paths(demo_api):
    h = demo_api.headers("planner")
    r = demo_api.client.post(ABSENCES, headers=h, json={"staff_id": " ", "date_from": "31.12.2026",
                                                        "date_to": "0012-01-01", "reason": "holiday",
                                                        "note": "x" * (ot.MAX_ABSENCE_NOTE + 1)})
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {
        ("body", "staff_id"), ("body", "date_from"), ("body", "date_to"), ("body", "reason"), ("body", "note")}
    r = demo_api.client.post(ABSENCES, headers=h, json={"staff_id": "S0001", "date_from": _day(1),
                                                        "reason": "sick", "note": "a\x00b"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "note"]
    r = demo_api.client.get(ABSENCES, headers=h, params={"start": "yesterday", "end": "3000-01-01",
                                                         "staff_id": "x" * 65})
    assert r.status_code == 422
    assert {tuple(e["loc"]) for e in r.json()["detail"]} == {("query", "start"), ("query", "end"),
                                                              ("query", "staff_id")}


def test_unknown_and_invalid_absence_ids(demo_api):
    h = demo_api.headers("admin")
    r = demo_api.client.delete(f"{ABSENCES}/999999", headers=h)
    assert r.status_code == 404 and "does not exist" in r.json()["detail"]
    for bad in ("0", "-1", str(2**31), "abc"):  # 2**31 would be a DataError (500) on PostgreSQL
        r = demo_api.client.delete(f"{ABSENCES}/{bad}", headers=h)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "absence_id"], bad
    r = demo_api.client.delete(f"{ABSENCES}/{2**31 - 1}", headers=h)
    assert r.status_code == 404


def test_roster_week_is_the_services_week(demo_api):
    roster = store.load_frame(demo_api.ctx.engine, "roster")
    sid = str(roster["staff_id"].iloc[0])
    day = roster.loc[roster["staff_id"] == sid, "date"].min().date() + timedelta(days=2)  # mid-week
    r = demo_api.client.get(f"/api/v1/overtime/staff/{sid}/roster", headers=demo_api.headers("planner"),
                            params={"week": str(day)})
    assert r.status_code == 200, r.text
    out = r.json()
    direct = ot.roster_week(demo_api.ctx, ADMIN, sid, day)
    assert out["staff_id"] == sid and out["week_start"] == str(direct.week_start)
    assert date.fromisoformat(out["week_start"]).weekday() == 0 and out["week_end"] == str(
        direct.week_start + timedelta(days=6))
    assert out["rostered_hours"] == pytest.approx(direct.rostered_hours) and direct.rostered_hours > 0
    assert out["counted_hours"] == pytest.approx(direct.counted_hours)
    assert out["contract_hours"] == pytest.approx(direct.contract_hours)
    assert len(out["shifts"]) == len(direct.shifts) and sum(s["hours"] for s in out["shifts"]) == pytest.approx(
        out["rostered_hours"])
    first = out["shifts"][0]
    assert first["date"] >= out["week_start"] and first["start"][:10] == first["date"]
    assert first["start"][19:] in ("+01:00", "+02:00")  # Europe/Berlin wall-clock time with its offset
    # a week without roster: no shifts, the weekly maximum counts the contract hours
    r = demo_api.client.get(f"/api/v1/overtime/staff/{sid}/roster", headers=demo_api.headers("admin"),
                            params={"week": "2020-01-01"})
    empty = r.json()
    assert r.status_code == 200 and empty["shifts"] == [] and empty["rostered_hours"] == 0
    assert empty["counted_hours"] == empty["contract_hours"] == pytest.approx(direct.contract_hours)
    assert empty["week_start"] == "2019-12-30"


def test_roster_unknown_staff_is_404_and_bad_params_422(demo_api):
    h = demo_api.headers("planner")
    r = demo_api.client.get("/api/v1/overtime/staff/NOPE-1/roster", headers=h, params={"week": "2026-11-02"})
    assert r.status_code == 404 and "Unknown staff id" in r.json()["detail"]
    r = demo_api.client.get("/api/v1/overtime/staff/S0001/roster", headers=h)
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "week"]
    r = demo_api.client.get("/api/v1/overtime/staff/S0001/roster", headers=h, params={"week": "0012-01-01"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "week"]
    r = demo_api.client.get(f"/api/v1/overtime/staff/{'x' * 65}/roster", headers=h, params={"week": "2026-11-02"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["path", "staff_id"]
