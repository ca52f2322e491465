"""Overtime fairness report, windows, time series, dashboard numbers and staff detail on hand-made data."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from src.models.overtime import (
    SCORE_FORMULA,
    OvertimeRules,
    ShiftRequest,
    acceptance_trend,
    fairness_by_window,
    fairness_report,
    fairness_score,
    fairness_timeseries,
    overtime_dashboard,
    rank_candidates,
    recent_requests,
    response_time_distribution,
    staff_detail,
)

AS_OF = pd.Timestamp("2026-06-01")


def person(sid: str, contract: float = 40.0, willing: bool = True, site: str = "North") -> dict:
    return dict(staff_id=sid, name=f"Name {sid}", site=site, role="carer", skills="",
                hire_date=pd.Timestamp("2020-01-01"), contract_hours=contract, ot_willing=willing,
                preferred_sites=site)


def worked(rid: str, sid: str, days_before: int, hours: float = 10.0, site: str = "North") -> dict:
    """An accepted offer answered after 20 minutes, contacted ``days_before`` days before AS_OF."""
    contacted = AS_OF - pd.Timedelta(days=days_before)
    return dict(request_id=rid, shift_date=contacted.normalize() + pd.Timedelta(days=1), site=site,
                shift_type="early", staff_id=sid, contacted_at=contacted,
                responded_at=contacted + pd.Timedelta(minutes=20), accepted=True, hours_worked=hours)


def declined(rid: str, sid: str, days_before: int, minutes: float | None = 5.0, offered: float = 10.0) -> dict:
    contacted = AS_OF - pd.Timedelta(days=days_before)
    return dict(request_id=rid, shift_date=contacted.normalize() + pd.Timedelta(days=1), site="North",
                shift_type="early", staff_id=sid, contacted_at=contacted,
                responded_at=contacted + pd.Timedelta(minutes=minutes) if minutes is not None else pd.NaT,
                accepted=False, hours_worked=0.0, offered_hours=offered)


def frames(people: list[dict], rows: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    hist = pd.DataFrame(rows)
    if "offered_hours" not in hist.columns:
        hist["offered_hours"] = float("nan")
    return pd.DataFrame(people), hist


# ---------------------------------------------------------------- metrics on known distributions


def test_equal_distribution_scores_100():
    staff, hist = frames([person(f"W{i}") for i in range(4)], [worked(f"R{i}", f"W{i}", 5) for i in range(4)])
    rep = fairness_report(staff, hist, AS_OF, 30)
    assert rep.summary.gini == 0.0
    assert rep.summary.jain == 1.0
    assert rep.summary.max_mean == 1.0
    assert rep.score == 100.0
    assert rep.average == 10.0
    assert rep.under_utilised == [] and rep.over_utilised == []


def test_one_person_has_everything():
    n = 4
    staff, hist = frames([person(f"W{i}") for i in range(n)], [worked("R1", "W0", 5), worked("R2", "W0", 6)])
    rep = fairness_report(staff, hist, AS_OF, 30)
    assert rep.summary.gini == pytest.approx(1 - 1 / n)
    assert rep.summary.jain == pytest.approx(1 / n)
    assert rep.summary.max_mean == pytest.approx(n)
    assert rep.score == pytest.approx(100 / n)
    assert rep.over_utilised == ["W0"]
    assert sorted(rep.under_utilised) == ["W1", "W2", "W3"]
    assert rep.per_person.iloc[0]["staff_id"] == "W0"  # sorted by value, largest first
    assert rep.per_person.iloc[0]["hours_worked"] == 20.0


def test_known_distribution_flags_and_metrics():
    # loads 0, 10, 20, 50 h (all 40-h contracts): mean 20; under < 20; over > 30
    staff = [person("W0"), person("W1"), person("W2"), person("W3")]
    rows = [worked("R1", "W1", 3)] + [worked(f"R2{i}", "W2", 3 + i) for i in range(2)] + [
        worked(f"R3{i}", "W3", 3 + i) for i in range(5)]
    rep = fairness_report(*frames(staff, rows), AS_OF, 30)
    pp = rep.per_person.set_index("staff_id")
    assert pp["value"].to_dict() == {"W3": 50.0, "W2": 20.0, "W1": 10.0, "W0": 0.0}
    assert rep.average == 20.0
    assert sorted(rep.under_utilised) == ["W0", "W1"]
    assert rep.over_utilised == ["W3"]
    assert not pp.loc["W2", "under_utilised"] and not pp.loc["W2", "over_utilised"]  # exactly average
    # Gini: (−3·0 − 1·10 + 1·20 + 3·50) / (4 · 80) = 0.5; Jain: 80² / (4 · 3000) = 0.5333…
    assert rep.summary.gini == pytest.approx(0.5)
    assert rep.summary.jain == pytest.approx(6400 / 12000)
    assert rep.summary.max_mean == pytest.approx(2.5)
    assert rep.score == pytest.approx(50.0)
    assert rep.formula.startswith(SCORE_FORMULA)
    assert fairness_score(0.25) == 75.0


def test_over_flag_is_strictly_above_one_and_a_half_times_the_average():
    # loads 0, 0, 30, 30 → mean 15, 1.5 × mean = 22.5
    rep = fairness_report(*frames([person("A"), person("B"), person("C"), person("D")],
                                  [worked("R1", "C", 2, 30.0), worked("R2", "D", 2, 30.0)]), AS_OF, 30)
    assert sorted(rep.over_utilised) == ["C", "D"]
    two = frames([person("A"), person("B")], [worked("R1", "A", 2, 15.0), worked("R2", "B", 2, 5.0)])
    rep = fairness_report(*two, AS_OF, 30)
    assert rep.average == 10.0 and rep.over_utilised == []  # 15 == 1.5 × 10 is not above
    assert rep.under_utilised == ["B"]


def test_part_timers_are_pro_rata():
    staff, hist = frames([person("P", contract=20.0), person("F", contract=40.0)],
                         [worked("R1", "P", 3, 10.0), worked("R2", "F", 3, 20.0)])
    rep = fairness_report(staff, hist, AS_OF, 30)
    pp = rep.per_person.set_index("staff_id")
    assert pp.loc["P", "worked_per_40"] == 20.0 and pp.loc["F", "worked_per_40"] == 20.0
    assert rep.summary.gini == 0.0 and rep.score == 100.0


def test_charged_versus_worked_basis():
    # A worked 10 h; B declined a 10-h offer; C never answered a 10-h offer
    staff, hist = frames([person("A"), person("B"), person("C")],
                         [worked("R1", "A", 3), declined("R2", "B", 3), declined("R3", "C", 3, minutes=None)])
    charged = fairness_report(staff, hist, AS_OF, 30)
    assert charged.basis == "charged"
    assert charged.summary.gini == 0.0 and charged.score == 100.0
    pp = charged.per_person.set_index("staff_id")
    assert pp.loc["B", "hours_declined"] == 10.0 and pp.loc["C", "hours_no_answer"] == 10.0
    assert pp["hours_charged"].to_dict() == {"A": 10.0, "B": 10.0, "C": 10.0}
    worked_rep = fairness_report(staff, hist, AS_OF, 30, basis="worked")
    # worked loads 10, 0, 0 → Gini 2/3
    assert worked_rep.summary.gini == pytest.approx(2 / 3)
    assert worked_rep.score == pytest.approx(100 / 3)
    assert worked_rep.summary_charged == charged.summary
    lenient = fairness_report(staff, hist, AS_OF, 30, rules=OvertimeRules(charge_no_answer=False))
    assert lenient.per_person.set_index("staff_id").loc["C", "hours_charged"] == 0.0


def test_population_windows_and_no_look_ahead():
    staff = [person("A"), person("B"), person("N", willing=False), person("X", site="CC")]
    rows = [worked("R1", "A", 10), worked("R2", "B", 100), declined("R3", "N", 5),
            worked("R9", "A", -2)]  # contacted two days after as_of: invisible
    staff_f, hist = frames(staff, rows)
    rep = fairness_report(staff_f, hist, AS_OF, 30)
    # N is not willing but was offered → counted; X's site never asks for overtime → not counted
    assert sorted(rep.per_person["staff_id"]) == ["A", "B", "N"]
    assert rep.per_person.set_index("staff_id")["hours_charged"].to_dict() == {"A": 10.0, "N": 10.0, "B": 0.0}
    win = fairness_by_window(staff_f, hist, AS_OF).set_index("days")
    assert list(win.index) == [30, 60, 90, 180, 365]
    assert win.loc[90, "total"] == 20.0  # B's offer 100 days ago is outside 90 days
    assert win.loc[180, "total"] == 30.0
    assert win.loc[180, "gini"] == 0.0 and win.loc[180, "score"] == 100.0
    assert win.loc[30, "gini"] == pytest.approx(1 / 3)  # loads 10, 10, 0
    only_cc = fairness_report(staff_f, hist, AS_OF, 30, sites=["CC"])
    assert only_cc.per_person["staff_id"].tolist() == ["X"] and only_cc.summary.total == 0.0


def test_timeseries_only_sees_the_past():
    staff, hist = frames([person("A"), person("B")], [worked("R1", "A", 10), worked("R2", "B", 3)])
    calls = []
    ts = fairness_timeseries(staff, hist, AS_OF, 30, periods=3, step_days=7,
                             on_progress=lambda f, t: calls.append(f))
    assert ts["date"].tolist() == [AS_OF - pd.Timedelta(days=14), AS_OF - pd.Timedelta(days=7), AS_OF]
    assert ts["total"].tolist() == [0.0, 10.0, 20.0]
    assert ts["score"].tolist() == [100.0, 50.0, 100.0]  # nothing, then one of two, then equal
    assert calls == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_report_to_dict_is_json():
    staff, hist = frames([person("A"), person("B")], [worked("R1", "A", 3)])
    d = json.loads(json.dumps(fairness_report(staff, hist, AS_OF, 90).to_dict()))
    assert d["days"] == 90 and d["metrics"]["gini"] == 0.5 and d["metrics"]["score"] == 50.0
    assert d["people"][0] == {**d["people"][0], "staff_id": "A", "hours_worked": 10.0, "over_utilised": True}
    assert d["formula"].startswith("score = 100 × (1 − Gini)")


# ---------------------------------------------------------------- dashboard and staff detail


@pytest.fixture()
def busy() -> tuple[pd.DataFrame, pd.DataFrame]:
    staff = [person("A"), person("B"), person("C"), person("N", willing=False)]
    rows = [
        worked("R1", "A", 20), declined("R1", "B", 20, minutes=40),
        worked("R2", "A", 12), declined("R2", "C", 12, minutes=None),
        worked("R3", "B", 5),
        declined("R4", "C", 2, minutes=300),
    ]
    return frames(staff, rows)


def test_dashboard_numbers(busy):
    staff, hist = busy
    d = overtime_dashboard(staff, hist, AS_OF, 30)
    assert d.ot_willing_staff == 3
    assert d.total_ot_shifts == 3
    assert d.total_requests == 4 and d.filled_requests == 3
    assert d.acceptance_rate == pytest.approx(3 / 6)
    # responses: 20, 40, 20, 20, 300 minutes (one no answer)
    assert d.avg_response_minutes == pytest.approx(80.0)
    assert d.median_response_minutes == 20.0
    assert d.top_responders["staff_id"].tolist() == ["A", "B", "C"]
    assert d.top_responders["accepted"].tolist() == [2, 1, 0]
    # charged per 40: A 20, B 20 (10 worked + 10 declined), C 20 (no answer + decline) → equal
    assert d.fairness_score == 100.0
    assert json.loads(json.dumps(d.to_dict()))["top_responders"][0]["staff_id"] == "A"


def test_trend_distribution_and_recent_requests(busy):
    staff, hist = busy
    trend = acceptance_trend(hist, AS_OF, freq="W", days=30)
    assert trend["offers"].sum() == 6 and trend["accepted"].sum() == 3
    assert (trend["period"].dt.dayofweek == 0).all()  # weeks start on Monday
    first = trend.iloc[0]
    assert first["offers"] == 2 and first["acceptance_rate"] == 0.5
    dist = response_time_distribution(hist, AS_OF, days=30).set_index("bucket")["responses"]
    assert dist["15–30 min"] == 3 and dist["30–60 min"] == 1 and dist["240–480 min"] == 1
    assert dist["no answer"] == 1 and dist.sum() == 6
    with pytest.raises(ValueError):
        acceptance_trend(hist, AS_OF, freq="D")  # type: ignore[arg-type]
    # R5: contacted before as_of, answer still pending at as_of → open
    pending = declined("R5", "A", 0, minutes=None)
    pending["contacted_at"] = AS_OF - pd.Timedelta(hours=1)
    pending["shift_date"] = AS_OF + pd.Timedelta(days=2)
    hist2 = pd.concat([hist, pd.DataFrame([pending])], ignore_index=True)
    rr = recent_requests(hist2, AS_OF).set_index("request_id")
    assert rr["status"].to_dict() == {"R5": "open", "R4": "unfilled", "R3": "filled", "R2": "filled",
                                      "R1": "filled"}
    assert rr.loc["R1", "accepted_by"] == "A" and rr.loc["R1", "contacts"] == 2
    assert list(rr.index) == ["R5", "R4", "R3", "R2", "R1"]  # latest first


def test_staff_detail(busy):
    staff, hist = busy
    det = staff_detail(staff, hist, "C", AS_OF, 90)
    assert det.offers == 2 and det.accepted == 0 and det.acceptance_rate == 0.0
    assert det.acceptance_smoothed == pytest.approx(1 / 4)
    assert det.hours_charged == 20.0 and det.hours_worked == 0.0
    assert det.avg_response_minutes == 300.0
    assert det.preferred_sites == ("North",)
    assert det.recent_shifts.empty
    assert det.recent_offers["status"].tolist() == ["declined", "no_answer"]
    a = staff_detail(staff, hist, "A", AS_OF, 90)
    assert a.recent_shifts["request_id"].tolist() == ["R2", "R1"] and a.hours_worked == 20.0
    assert json.loads(json.dumps(a.to_dict()))["recent_shifts"][0]["request_id"] == "R2"
    with pytest.raises(KeyError):
        staff_detail(staff, hist, "nobody", AS_OF)


# ---------------------------------------------------------------- demo data smoke test


def test_ranking_and_report_run_on_demo_data():
    from src.data.demo import DemoConfig, generate_demo

    data = generate_demo(DemoConfig())
    staff, history = data["staff"], data["overtime"]
    end = pd.Timestamp(history["contacted_at"].max())
    site = history["site"].iloc[-1]
    req = ShiftRequest(site=site, shift_date=end.normalize() + pd.Timedelta(days=2), shift_type="late", hours=8)
    res = rank_candidates(req, staff, history, OvertimeRules(as_of=end))
    assert len(res.candidates) > 5
    assert len(res.candidates) + len(res.excluded) == len(staff)
    assert all(c.site == site or site in str(staff.set_index("staff_id").loc[c.staff_id, "preferred_sites"])
               for c in res.candidates)  # contact-centre staff are never candidates for a care home
    assert [c.total for c in res.candidates] == sorted((c.total for c in res.candidates), reverse=True)
    json.dumps(res.to_dict())
    rep = fairness_report(staff, history, end, 90)
    assert 0 < rep.score < 100 and rep.summary.n > 10
    assert not rep.per_person["site"].eq("CC-Berlin").any()
    json.dumps(rep.to_dict())
    dash = overtime_dashboard(staff, history, end, 90)
    assert dash.total_ot_shifts > 0 and dash.fairness_score == pytest.approx(rep.score)
