"""Overtime ranking: exact scores on a hand-made fixture, every exclusion rule, charged hours, priors,
weights validation, tie-breaks and no look-ahead. Expected numbers are worked out by hand in each test."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from src.models.overtime import (
    EXCLUSION_CODES,
    FACTORS,
    PRIOR_LABEL,
    OvertimeRules,
    ShiftRequest,
    normalise_shift_type,
    prepare_history,
    rank_candidates,
    shift_interval,
)

AS_OF = pd.Timestamp("2026-03-02 12:00")  # a Monday
WEIGHTS = {"availability": 0.40, "acceptance": 0.25, "fairness": 0.20, "site_preference": 0.10, "reliability": 0.05}


def person(sid: str, name: str, site: str = "North", role: str = "carer", skills: str = "", hire: str = "2019-01-01",
           contract: float = 20.0, willing: bool = True, preferred: str = "") -> dict:
    return dict(staff_id=sid, name=name, site=site, role=role, skills=skills, hire_date=pd.Timestamp(hire),
                contract_hours=contract, ot_willing=willing, preferred_sites=preferred)


def offer(rid: str, day: str, stype: str, sid: str, contacted: str, responded: str | None, accepted: bool,
          hours: float, site: str = "North") -> dict:
    return dict(request_id=rid, shift_date=pd.Timestamp(day), site=site, shift_type=stype, staff_id=sid,
                contacted_at=pd.Timestamp(contacted), responded_at=pd.Timestamp(responded) if responded else pd.NaT,
                accepted=accepted, hours_worked=hours)


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows)


@pytest.fixture()
def staff() -> pd.DataFrame:
    return frame([
        person("A", "Anna", "North", "carer", "medication:3|dementia", "2015-01-01", 30.0),
        person("B", "Ben", "South", "carer", "dementia", "2018-01-01", 20.0, preferred="North"),
        person("C", "Cara", "West", "nurse", "", "2020-01-01", 40.0, preferred="West|North"),
    ])


@pytest.fixture()
def history() -> pd.DataFrame:
    return frame([
        offer("R1", "2026-02-10", "late", "A", "2026-02-08 09:00", "2026-02-08 09:30", True, 8.0),
        offer("R1", "2026-02-10", "late", "B", "2026-02-08 09:00", "2026-02-08 10:00", False, 0.0),
        offer("R2", "2026-02-20", "early", "B", "2026-02-18 09:00", None, False, 0.0),
    ])


@pytest.fixture()
def request_() -> ShiftRequest:
    return ShiftRequest(site="North", shift_date="2026-03-04", shift_type="early", hours=8)


RULES = OvertimeRules(as_of=AS_OF)


# ---------------------------------------------------------------- exact scores


def test_exact_scores_and_order(staff, history, request_):
    res = rank_candidates(request_, staff, history, RULES)
    # charged hours per 40 contract h: A 8·40/30 = 32/3, B (8 declined + 8 no answer)·40/20 = 32, C 0
    # pool mean m = (32/3 + 32 + 0)/3 = 128/9; fairness = 1 − x/(2m): A 1 − (32/3)/(256/9) = 0.625, B 0, C 1
    a = 40 * 1 + 25 * (2 / 3) + 20 * 0.625 + 10 * 1.0 + 5 * 0.5 ** 0.5
    b = 40 * 1 + 25 * 0.25 + 20 * 0.0 + 10 * 0.75 + 5 * 0.0
    c = 40 * 0.5 + 25 * 0.5 + 20 * 1.0 + 10 * 0.75 + 5 * 0.5
    assert [x.staff_id for x in res.candidates] == ["A", "C", "B"]
    assert [x.rank for x in res.candidates] == [1, 2, 3]
    totals = {x.staff_id: x.total for x in res.candidates}
    assert totals["A"] == pytest.approx(a, abs=1e-9)
    assert totals["B"] == pytest.approx(b, abs=1e-9)
    assert totals["C"] == pytest.approx(c, abs=1e-9)
    assert a == pytest.approx(82.70220057, abs=1e-6)
    assert res.excluded == ()

    anna = res.candidates[0]
    assert anna.factor("acceptance").value == pytest.approx(2 / 3)
    assert anna.factor("acceptance").label == "1/1 accepted (smoothed 67%)"
    assert anna.factor("fairness").value == pytest.approx(0.625)
    assert anna.factor("reliability").value == pytest.approx(2 ** -0.5)
    assert anna.factor("reliability").label == "median response 30 min"
    assert anna.factor("site_preference").label == "own site"
    assert anna.details["rest_gap_hours"] == pytest.approx(512.0)  # Feb 10 22:00 → Mar 4 06:00
    assert anna.details["headroom_hours"] == pytest.approx(10.0)  # 48 − (30 + 0 + 8)
    for f in anna.factors:
        assert f.contribution == pytest.approx(100 * f.weight * f.value)
    assert sum(f.contribution for f in anna.factors) == pytest.approx(anna.total)

    ben = res.candidates[2]
    assert ben.factor("acceptance").value == pytest.approx(0.25)  # (0 + 1)/(2 + 2)
    assert ben.factor("reliability").value == 0.0  # responses [60 min, no answer] → median = no answer
    assert ben.factor("reliability").label == "median response: no answer"
    assert ben.factor("site_preference").value == 0.75
    assert ben.details["charged_hours"] == pytest.approx(16.0)

    cara = res.candidates[1]
    assert cara.factor("availability").value == pytest.approx(0.5)  # no shift nearby; 48 − 48 headroom → 0
    assert cara.factor("site_preference").label == "preferred site"


def test_cold_start_is_a_labelled_prior(staff, history, request_):
    res = rank_candidates(request_, staff, history, RULES)
    cara = next(c for c in res.candidates if c.staff_id == "C")
    assert cara.labels == ("acceptance", "reliability")
    assert cara.factor("acceptance").label == PRIOR_LABEL
    assert cara.factor("acceptance").value == 0.5
    assert cara.factor("acceptance").is_prior
    assert cara.factor("reliability").label == PRIOR_LABEL
    assert cara.factor("reliability").value == 0.5
    anna = next(c for c in res.candidates if c.staff_id == "A")
    assert anna.labels == ()
    assert res.to_frame().set_index("staff_id").loc["C", "prior_factors"] == "acceptance, reliability"


def test_prior_pseudo_counts_are_configurable(staff, history, request_):
    strong = rank_candidates(request_, staff, history, OvertimeRules(as_of=AS_OF, prior_strength=8.0,
                                                                      prior_acceptance=0.25))
    anna = next(c for c in strong.candidates if c.staff_id == "A")
    assert anna.factor("acceptance").value == pytest.approx((1 + 2) / (1 + 8))  # a = 2, b = 6
    none = rank_candidates(request_, staff, history, OvertimeRules(as_of=AS_OF, prior_strength=0.0))
    assert next(c for c in none.candidates if c.staff_id == "A").factor("acceptance").value == 1.0


def test_to_dict_is_json_and_carries_value_weight_contribution(staff, history, request_):
    res = rank_candidates(request_, staff, history, RULES)
    d = json.loads(json.dumps(res.to_dict()))
    first = d["candidates"][0]
    assert first["staff_id"] == "A"
    assert set(first["factors"]) == set(FACTORS)
    fac = first["factors"]["fairness"]
    assert fac == {"value": 0.625, "weight": 0.2, "contribution": pytest.approx(12.5), "label": fac["label"],
                   "is_prior": False}
    assert d["request"]["start"] == "2026-03-04T06:00:00"
    assert d["request"]["end"] == "2026-03-04T14:00:00"
    assert d["as_of"] == "2026-03-02T12:00:00"
    breakdown = res.breakdown_frame()
    assert len(breakdown) == 3 * 5
    assert breakdown.groupby("staff_id")["points"].sum()["A"] == pytest.approx(res.candidates[0].total)


# ---------------------------------------------------------------- exclusions


def _excluded(res) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    return {e.staff_id: (e.codes, e.reasons) for e in res.excluded}


def test_not_willing_is_excluded(history, request_):
    staff = frame([person("A", "Anna"), person("D", "Dora", willing=False)])
    res = rank_candidates(request_, staff, history, RULES)
    assert _excluded(res) == {"D": (("not_willing",), ("not willing to work overtime",))}
    assert [c.staff_id for c in res.candidates] == ["A"]


def test_site_scope(staff, request_):
    staff = pd.concat([staff, frame([person("O", "Olaf", "CC-Berlin", "Agent", preferred="CC-Berlin")])])
    res = rank_candidates(request_, staff, None, RULES)
    assert {k: v for k, v in _excluded(res).items()} == {
        "O": (("site",), ("North is not among their own or preferred sites (home: CC-Berlin)",))}
    own = rank_candidates(request_, staff, None, OvertimeRules(as_of=AS_OF, site_scope="own"))
    assert {e.staff_id for e in own.excluded} == {"B", "C", "O"}
    assert own.excluded[0].reasons == ("North is not among their own site (home: South)",)
    anyone = rank_candidates(request_, staff, None, OvertimeRules(as_of=AS_OF, site_scope="any"))
    assert anyone.excluded == ()
    olaf = next(c for c in anyone.candidates if c.staff_id == "O")
    assert olaf.factor("site_preference").value == 0.0
    assert olaf.factor("site_preference").label == "other site (home: CC-Berlin)"


def test_fairness_team_mean_only_counts_staff_in_scope_for_the_site(staff, history, request_):
    # a contact-centre agent with no overtime must not pull the North team mean down
    cc = frame([person("O", "Olaf", "CC-Berlin", "Agent", preferred="CC-Berlin")])
    res = rank_candidates(request_, pd.concat([staff, cc]), history, RULES)
    anna = next(c for c in res.candidates if c.staff_id == "A")
    assert anna.details["team_mean_charged_per_reference"] == pytest.approx(128 / 9)
    assert anna.factor("fairness").value == pytest.approx(0.625)


def test_absent_on_shift_day_and_on_the_morning_of_a_night_shift(staff):
    absences = frame([{"staff_id": "A", "date": pd.Timestamp("2026-03-04")},
                      {"staff_id": "B", "date": pd.Timestamp("2026-03-05")}])
    early = ShiftRequest("North", "2026-03-04", "early", 8)
    res = rank_candidates(early, staff, None, RULES, absences=absences)
    assert _excluded(res) == {"A": (("absent",), ("absent on 2026-03-04",))}
    night = ShiftRequest("North", "2026-03-04", "night", 8)  # 22:00 → 06:00 on the 5th
    res = rank_candidates(night, staff, None, RULES, absences=absences)
    assert set(_excluded(res)) == {"A", "B"}
    assert _excluded(res)["B"][1] == ("absent on 2026-03-05",)


def test_already_working_in_the_schedule_or_in_accepted_overtime(staff, request_):
    schedule = frame([{"staff_id": "A", "start": pd.Timestamp("2026-03-04 10:00"),
                       "end": pd.Timestamp("2026-03-04 18:00")}])
    hist = frame([offer("R9", "2026-03-04", "early", "B", "2026-03-01 08:00", "2026-03-01 08:05", True, 8.0)])
    res = rank_candidates(request_, staff, hist, RULES, schedule=schedule)
    ex = _excluded(res)
    assert ex["A"] == (("already_working",), ("already working then (scheduled shift 2026-03-04 10:00–18:00)",))
    assert ex["B"] == (("already_working",), ("already working then (overtime shift 2026-03-04 06:00–14:00)",))
    # a shift that ends exactly when the request starts does not overlap (but breaks the rest rule instead)
    touching = frame([{"staff_id": "C", "start": pd.Timestamp("2026-03-03 22:00"),
                       "end": pd.Timestamp("2026-03-04 06:00")}])
    res = rank_candidates(request_, staff, None, RULES, schedule=touching)
    assert _excluded(res)["C"][0] == ("min_rest",)


def test_max_weekly_hours_counts_contract_overtime_that_week_and_this_shift(request_):
    staff = frame([person("E", "Emil", contract=36.0), person("F", "Fay", contract=40.0),
                   person("G", "Gus", contract=36.0)])
    hist = frame([
        # Monday of the same ISO week: counts for E (36 + 8 + 8 = 52 > 48)
        offer("R5", "2026-03-02", "early", "E", "2026-02-27 08:00", "2026-02-27 08:10", True, 8.0),
        # Sunday of the previous week: does not count for G (36 + 0 + 8 = 44)
        offer("R6", "2026-03-01", "early", "G", "2026-02-27 08:00", "2026-02-27 08:10", True, 8.0),
    ])
    res = rank_candidates(request_, staff, hist, RULES)
    ex = _excluded(res)
    assert set(ex) == {"E"}
    assert ex["E"] == (("max_weekly_hours",), (
        "would work 52.0 h in the week of 2026-03-02 (contract 36.0 h + overtime 8.0 h + this shift 8.0 h; "
        "max 48.0 h)",))
    fay = next(c for c in res.candidates if c.staff_id == "F")  # 40 + 8 = 48 is exactly allowed
    assert fay.details["week_hours_after"] == 48.0
    assert fay.details["headroom_score"] == 0.0
    gus = next(c for c in res.candidates if c.staff_id == "G")
    assert gus.details["overtime_this_week"] == 0.0
    strict = rank_candidates(request_, staff, hist, OvertimeRules(as_of=AS_OF, max_weekly_hours=47.0))
    assert set(_excluded(strict)) == {"E", "F"}


def test_min_rest_before_and_after_and_the_exact_boundary(staff, request_):
    schedule = frame([
        # A: late shift the day before ends 22:00 → only 8 h before 06:00
        {"staff_id": "A", "start": pd.Timestamp("2026-03-03 14:00"), "end": pd.Timestamp("2026-03-03 22:00")},
        # B: night shift starting 22:00 the same day → only 8 h after 14:00
        {"staff_id": "B", "start": pd.Timestamp("2026-03-04 22:00"), "end": pd.Timestamp("2026-03-05 06:00")},
        # C: ends 19:00 the day before → exactly 11 h rest: allowed
        {"staff_id": "C", "start": pd.Timestamp("2026-03-03 11:00"), "end": pd.Timestamp("2026-03-03 19:00")},
    ])
    res = rank_candidates(request_, staff, None, RULES, schedule=schedule)
    ex = _excluded(res)
    assert set(ex) == {"A", "B"}
    assert ex["A"] == (("min_rest",), ("only 8.0 h rest after scheduled shift ending 2026-03-03 22:00 (min 11.0 h)",))
    assert ex["B"] == (("min_rest",), ("only 8.0 h rest before scheduled shift starting 2026-03-04 22:00 "
                                       "(min 11.0 h)",))
    cara = res.candidates[0]
    assert cara.details["rest_gap_hours"] == pytest.approx(11.0)
    assert cara.details["rest_score"] == 0.0  # (11 − 11)/13
    assert cara.factor("availability").value == pytest.approx(0.0)  # headroom 48 − 48 = 0 too


def test_min_rest_against_accepted_overtime_and_rest_score(staff, request_):
    hist = frame([offer("R7", "2026-03-03", "late", "A", "2026-02-28 08:00", "2026-02-28 08:05", True, 8.0),
                  offer("R8", "2026-03-05", "early", "B", "2026-02-28 08:00", "2026-02-28 08:05", True, 8.0)])
    res = rank_candidates(request_, staff, hist, RULES)
    ex = _excluded(res)
    assert ex == {"A": (("min_rest",), ("only 8.0 h rest after overtime shift ending 2026-03-03 22:00 "
                                        "(min 11.0 h)",))}
    ben = next(c for c in res.candidates if c.staff_id == "B")
    # B's next shift starts Mar 5 06:00: 16 h rest → (16 − 11)/13; weekly 20 + 8 + 8 = 36 → headroom 12 ≥ 8
    assert ben.details["rest_gap_hours"] == pytest.approx(16.0)
    assert ben.factor("availability").value == pytest.approx(0.5 * 5 / 13 + 0.5)


def test_role_and_skill_requirements(staff):
    nurse = ShiftRequest("North", "2026-03-04", "early", 8, required_role="Nurse")
    res = rank_candidates(nurse, staff, None, RULES)
    assert {k: v[0] for k, v in _excluded(res).items()} == {"A": ("role",), "B": ("role",)}
    assert _excluded(res)["A"][1] == ("role 'carer' is not the required 'Nurse'",)
    either = ShiftRequest("North", "2026-03-04", "early", 8, required_role=("nurse", "team lead"))
    ex = _excluded(rank_candidates(either, staff, None, RULES))
    assert ex["B"][1] == ("role 'carer' is not the required 'nurse' or 'team lead'",)
    piped = ShiftRequest("North", "2026-03-04", "early", 8, required_role="nurse|carer")
    assert _excluded(rank_candidates(piped, staff, None, RULES)) == {}
    med = ShiftRequest("North", "2026-03-04", "early", 8, required_skill="Medication")
    ex = _excluded(rank_candidates(med, staff, None, RULES))
    assert set(ex) == {"B", "C"}
    assert ex["B"][1] == ("lacks required skill 'medication'",)
    med4 = ShiftRequest("North", "2026-03-04", "early", 8, required_skill="medication:4")
    ex = _excluded(rank_candidates(med4, staff, None, RULES))
    assert ex["A"] == (("skill",), ("skill 'medication' at level 3, needs 4",))
    med3 = ShiftRequest("North", "2026-03-04", "early", 8, required_skill="medication:3")
    assert "A" not in _excluded(rank_candidates(med3, staff, None, RULES))


def test_every_reason_is_listed_and_codes_are_known(request_):
    staff = frame([person("Z", "Zoe", role="cook", contract=44.0, willing=False)])
    absences = frame([{"staff_id": "Z", "date": pd.Timestamp("2026-03-04")}])
    req = ShiftRequest("North", "2026-03-04", "early", 8, required_role="carer", required_skill="dementia")
    res = rank_candidates(req, staff, None, RULES, absences=absences)
    assert res.candidates == ()
    assert res.excluded[0].codes == ("not_willing", "absent", "max_weekly_hours", "role", "skill")
    assert set(res.excluded[0].codes) <= set(EXCLUSION_CODES)
    ef = res.excluded_frame()
    assert ef.loc[0, "codes"] == "not_willing,absent,max_weekly_hours,role,skill"
    assert ef.loc[0, "reasons"].startswith("not willing to work overtime; absent on 2026-03-04; would work 52.0 h")


# ---------------------------------------------------------------- charged hours


def test_charged_hours_accounting():
    hist = frame([
        offer("R1", "2026-02-10", "late", "A", "2026-02-08 09:00", "2026-02-08 09:30", True, 7.5),
        offer("R1", "2026-02-10", "late", "B", "2026-02-08 09:00", "2026-02-08 10:00", False, 0.0),
        offer("R1", "2026-02-10", "late", "C", "2026-02-08 09:00", None, False, 0.0),
        offer("R2", "2026-02-12", "night", "B", "2026-02-11 09:00", "2026-02-11 09:01", False, 0.0),
    ])
    h = prepare_history(hist, OvertimeRules()).set_index(["request_id", "staff_id"])
    assert h.loc[("R1", "A"), "status"] == "accepted"
    assert h.loc[("R1", "B"), "status"] == "declined"
    assert h.loc[("R1", "C"), "status"] == "no_answer"
    # declined offers are charged the hours the person who took the shift worked (7.5)
    assert h.loc[("R1", "A"), "charged_hours"] == 7.5
    assert h.loc[("R1", "B"), "charged_hours"] == 7.5
    assert h.loc[("R1", "C"), "charged_hours"] == 7.5  # no answer is charged like a decline by default
    # nobody took R2 → the default shift length is charged
    assert h.loc[("R2", "B"), "charged_hours"] == 8.0
    assert h.loc[("R2", "B"), "response_minutes"] == 1.0
    assert h.loc[("R1", "A"), "shift_end"] == pd.Timestamp("2026-02-10 21:30")
    lenient = prepare_history(hist, OvertimeRules(charge_no_answer=False)).set_index(["request_id", "staff_id"])
    assert lenient.loc[("R1", "C"), "charged_hours"] == 0.0
    assert lenient.loc[("R1", "C"), "no_answer_hours"] == 7.5
    explicit = prepare_history(hist.assign(offered_hours=6.0), OvertimeRules()).set_index(["request_id", "staff_id"])
    assert explicit.loc[("R1", "B"), "charged_hours"] == 6.0
    assert explicit.loc[("R1", "A"), "charged_hours"] == 7.5  # worked hours stay what was worked


def test_no_answer_charging_changes_the_fairness_factor(staff, history, request_):
    res = rank_candidates(request_, staff, history, OvertimeRules(as_of=AS_OF, charge_no_answer=False))
    ben = next(c for c in res.candidates if c.staff_id == "B")
    # B now charged 8 (decline only) → 16 per 40; m = (32/3 + 16 + 0)/3 = 80/9; 1 − 16/(160/9) = 0.1
    assert ben.details["charged_hours"] == 8.0
    assert ben.factor("fairness").value == pytest.approx(0.1)


def test_part_timers_are_compared_pro_rata(request_):
    staff = frame([person("P", "Part", contract=20.0), person("Q", "Full", contract=40.0)])
    hist = frame([offer("R1", "2026-02-10", "early", "P", "2026-02-08 09:00", "2026-02-08 09:10", True, 8.0),
                  offer("R2", "2026-02-11", "early", "Q", "2026-02-09 09:00", "2026-02-09 09:10", True, 8.0)])
    res = rank_candidates(request_, staff, hist, RULES)
    fair = {c.staff_id: c.factor("fairness").value for c in res.candidates}
    # P 16 per 40, Q 8 per 40; m = 12 → P 1 − 16/24 = 1/3, Q 1 − 8/24 = 2/3
    assert fair["P"] == pytest.approx(1 / 3)
    assert fair["Q"] == pytest.approx(2 / 3)


# ---------------------------------------------------------------- weights, rules, requests


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({**WEIGHTS, "availability": 0.5}, "sum to 1"),
        ({**WEIGHTS, "availability": 0.45, "reliability": -0.05 + 1e-12}, ">= 0"),
        ({k: v for k, v in WEIGHTS.items() if k != "reliability"}, "missing: reliability"),
        ({**WEIGHTS, "speed": 0.0}, "unknown: speed"),
        ({**WEIGHTS, "fairness": math.nan}, "finite"),
    ],
)
def test_weights_are_validated(weights, message):
    with pytest.raises(ValueError, match=message):
        OvertimeRules(weights=weights)


def test_weights_within_tolerance_are_accepted_and_used(staff, history, request_):
    w = {"availability": 0.4 + 5e-10, "acceptance": 0.25, "fairness": 0.2, "site_preference": 0.1,
         "reliability": 0.05}
    assert OvertimeRules(weights=w).weights["availability"] == 0.4 + 5e-10
    only_site = {"availability": 0.0, "acceptance": 0.0, "fairness": 0.0, "site_preference": 1.0, "reliability": 0.0}
    res = rank_candidates(request_, staff, history, OvertimeRules(as_of=AS_OF, weights=only_site))
    assert {c.staff_id: c.total for c in res.candidates} == {"A": 100.0, "B": 75.0, "C": 75.0}


def test_rules_and_request_validation():
    with pytest.raises(ValueError, match="tie_break"):
        OvertimeRules(tie_break="random")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="site_scope"):
        OvertimeRules(site_scope="region")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="lookback_days"):
        OvertimeRules(lookback_days=0)
    with pytest.raises(ValueError, match="HH:MM"):
        OvertimeRules(shift_starts={"early": "6 am"})
    with pytest.raises(ValueError, match="hours"):
        ShiftRequest("North", "2026-03-04", "early", 0)
    with pytest.raises(ValueError, match="1..5"):
        ShiftRequest("North", "2026-03-04", "early", 8, required_skill="medication:9")
    with pytest.raises(ValueError, match="Unknown shift type 'split'"):
        shift_interval(ShiftRequest("North", "2026-03-04", "split", 8), OvertimeRules())


def test_shift_start_is_derived_configurable_and_explicit():
    rules = OvertimeRules(shift_starts={"early": "07:00", "late": "15:00", "night": "21:30"})
    assert shift_interval(ShiftRequest("N", "2026-03-04", "Frühdienst", 8), rules) == (
        pd.Timestamp("2026-03-04 07:00"), pd.Timestamp("2026-03-04 15:00"))
    assert shift_interval(ShiftRequest("N", "2026-03-04", "Nacht", 10), rules) == (
        pd.Timestamp("2026-03-04 21:30"), pd.Timestamp("2026-03-05 07:30"))
    assert shift_interval(ShiftRequest("N", "2026-03-04", "odd", 4, start="2026-03-04 09:15"), rules) == (
        pd.Timestamp("2026-03-04 09:15"), pd.Timestamp("2026-03-04 13:15"))
    assert normalise_shift_type(" Spätdienst ") == "late"


# ---------------------------------------------------------------- tie-break


@pytest.mark.parametrize(
    ("rule", "order"),
    [("staff_id", ["T1", "T2", "T3"]), ("seniority", ["T2", "T3", "T1"]), ("fewest_hours", ["T3", "T1", "T2"])],
)
def test_tie_break_rules(request_, rule, order):
    staff = frame([person("T1", "One", hire="2020-01-01"), person("T2", "Two", hire="2010-01-01"),
                   person("T3", "Three", hire="2015-01-01")])
    hist = frame([
        offer("R1", "2026-02-10", "early", "T1", "2026-02-08 09:00", "2026-02-08 09:00", False, 0.0),
        offer("R2", "2026-02-11", "early", "T2", "2026-02-08 09:00", "2026-02-08 09:00", False, 0.0),
        offer("R3", "2026-02-12", "early", "T3", "2026-02-08 09:00", "2026-02-08 09:00", False, 0.0),
    ]).assign(offered_hours=[8.0, 12.0, 4.0])
    # fairness weight 0 so different charged hours give equal totals; everything else is identical
    weights = {"availability": 0.5, "acceptance": 0.2, "fairness": 0.0, "site_preference": 0.2, "reliability": 0.1}
    res = rank_candidates(request_, staff, hist, OvertimeRules(as_of=AS_OF, weights=weights, tie_break=rule))
    # availability 1, acceptance 0/1 → 1/3, own site 1, reliability (answered at once) 1
    assert [c.total for c in res.candidates] == pytest.approx([50 + 20 / 3 + 20 + 10] * 3)
    assert [c.staff_id for c in res.candidates] == order


# ---------------------------------------------------------------- no look-ahead


def test_nothing_after_as_of_changes_the_ranking(staff, history, request_):
    base = rank_candidates(request_, staff, history, RULES).to_dict()
    future = frame([
        # contacted after as_of
        offer("R10", "2026-03-03", "late", "A", "2026-03-02 13:00", "2026-03-02 13:05", True, 8.0),
        # contacted before as_of but answered after it: still pending at as_of
        offer("R11", "2026-03-06", "early", "C", "2026-03-02 11:00", "2026-03-02 12:30", True, 8.0),
        # unanswered offer whose shift has not started yet: not yet a "no answer"
        offer("R12", "2026-03-05", "early", "B", "2026-03-02 11:00", None, False, 0.0),
    ])
    later = rank_candidates(request_, staff, pd.concat([history, future], ignore_index=True), RULES).to_dict()
    assert later == base
    # ...but once as_of passes the responses, both acceptances count: A's late shift on Mar 3 breaks the rest,
    # C's Friday overtime fills her week (40 + 8 + 8 = 56 > 48)
    moved = rank_candidates(request_, staff, pd.concat([history, future], ignore_index=True),
                            OvertimeRules(as_of="2026-03-02 14:00"))
    assert {e.staff_id: e.codes for e in moved.excluded} == {"A": ("min_rest",), "C": ("max_weekly_hours",)}


def test_as_of_defaults_to_shift_start_and_lookback_limits_history(staff, history, request_):
    res = rank_candidates(request_, staff, history, OvertimeRules())
    assert res.as_of == pd.Timestamp("2026-03-04 06:00")
    short = rank_candidates(request_, staff, history, OvertimeRules(as_of=AS_OF, lookback_days=10))
    # only R2 (contacted Feb 18) is inside 10 days of Mar 2 12:00 → A has no history now
    anna = next(c for c in short.candidates if c.staff_id == "A")
    assert anna.labels == ("acceptance", "reliability")


def test_request_id_ignores_the_request_own_rows(staff, request_):
    hist = frame([offer("NOW", "2026-03-04", "early", "A", "2026-03-01 08:00", "2026-03-01 08:01", True, 8.0)])
    assert "A" in _excluded(rank_candidates(request_, staff, hist, RULES))
    again = ShiftRequest("North", "2026-03-04", "early", 8, request_id="NOW")
    assert "A" not in _excluded(rank_candidates(again, staff, hist, RULES))


def test_acceptance_override_replaces_the_historical_rate(staff, history, request_):
    res = rank_candidates(request_, staff, history, RULES, acceptance_override={"A": 0.9, "C": 0.1},
                          acceptance_source="lightgbm")
    fac = {c.staff_id: c.factor("acceptance") for c in res.candidates}
    assert fac["A"].value == 0.9 and fac["A"].label == "lightgbm: 90%"
    assert fac["C"].value == 0.1 and not fac["C"].is_prior
    assert fac["B"].value == pytest.approx(0.25)  # not overridden → smoothed rate
    assert res.to_dict()["acceptance_source"] == "lightgbm"


def test_progress_callback_and_empty_inputs(staff, request_):
    calls: list[tuple[float, str]] = []
    res = rank_candidates(request_, staff, pd.DataFrame(), RULES, on_progress=lambda f, t: calls.append((f, t)))
    assert calls[0][0] == 0.0 and calls[-1] == (1.0, "3 candidates, 0 excluded")
    assert len(res.candidates) == 3
    assert all(c.labels == ("acceptance", "reliability") for c in res.candidates)
    # nobody has charged hours → the team mean is 0 and everybody gets the full fairness value
    assert all(c.factor("fairness").value == 1.0 for c in res.candidates)
    empty = rank_candidates(request_, staff.iloc[0:0], None, RULES)
    assert empty.candidates == () and empty.excluded == ()
    assert list(empty.to_frame().columns[:6]) == ["rank", "staff_id", "name", "site", "role", "total"]


# ---------------------------------------------------------------- optional LightGBM acceptance model


def _weekend_world() -> tuple[pd.DataFrame, pd.DataFrame]:
    """6 people; every request goes to two of them; weekday shifts are always accepted, weekend ones never —
    a pattern the per-person historical rate cannot see."""
    staff = frame([person(f"W{i}", f"Worker {i}") for i in range(6)])
    rows = []
    day0 = pd.Timestamp("2025-06-02")
    for r in range(160):
        day = day0 + pd.Timedelta(days=r)
        for j in range(2):
            sid = f"W{(r + 3 * j) % 6}"
            contacted = day - pd.Timedelta(days=1) + pd.Timedelta(hours=9, minutes=j)
            ok = day.dayofweek < 5
            rows.append(offer(f"R{r:03d}", str(day.date()), "early", sid, str(contacted),
                              str(contacted + pd.Timedelta(minutes=10)), ok, 8.0 if ok and j == 0 else 0.0))
    hist = frame(rows)
    # a request is filled by one person only: the second contact of a weekday request declines
    hist.loc[hist["hours_worked"].eq(0) & hist["accepted"], "accepted"] = False
    return staff, hist


def test_acceptance_model_beats_the_rate_when_there_is_a_pattern():
    from src.models.overtime.acceptance_model import (
        FEATURES,
        AcceptanceModel,
        acceptance_override,
        fit_acceptance_model,
        offer_features,
    )

    staff, hist = _weekend_world()
    feats = offer_features(staff, hist)
    assert len(feats) == 320 and list(feats.columns[3:-1]) == list(FEATURES)
    first = feats.groupby("staff_id").head(1)
    assert (first["prior_offers"] == 0).all() and (first["hist_rate"] == 0.5).all()  # nothing known yet
    model = fit_acceptance_model(staff, hist, test_fraction=0.25, n_jobs=1, n_estimators=60)
    rep = model.report
    assert rep.n_train + rep.n_test == 320 and rep.n_test == 80
    assert rep.use_model and rep.logloss_model < rep.logloss_rate
    assert rep.auc_model > 0.8 > rep.auc_rate
    rules = OvertimeRules(as_of="2025-11-10 09:00")
    weekday = acceptance_override(model, ShiftRequest("North", "2025-11-12", "early", 8), staff, hist, rules)
    weekend = acceptance_override(model, ShiftRequest("North", "2025-11-15", "early", 8), staff, hist, rules)
    assert weekday is not None and weekend is not None and set(weekday) == {f"W{i}" for i in range(6)}
    assert min(weekday.values()) > max(weekend.values())
    again = AcceptanceModel.from_model_string(model.model_string(), rep)
    f = offer_features(staff, hist).head(5)
    assert again.predict(f) == pytest.approx(model.predict(f))


def test_acceptance_model_is_not_used_when_it_does_not_win_and_needs_data():
    from dataclasses import replace

    from src.models.overtime.acceptance_model import acceptance_override, fit_acceptance_model

    staff, hist = _weekend_world()
    model = fit_acceptance_model(staff, hist, n_estimators=20)
    loser = replace(model, report=replace(model.report, use_model=False))
    req = ShiftRequest("North", "2025-11-12", "early", 8)
    assert acceptance_override(loser, req, staff, hist, OvertimeRules(as_of="2025-11-10")) is None
    with pytest.raises(ValueError, match="at least 40 offers"):
        fit_acceptance_model(staff, hist.head(30))


def test_results_and_rules_pickle_and_stay_read_only(staff, history, request_):
    """Streamlit's cache pickles arguments and results; frozen mappings must survive that."""
    import pickle

    rules = OvertimeRules(as_of=AS_OF)
    assert pickle.loads(pickle.dumps(rules)) == rules and hash(rules) == hash(OvertimeRules(as_of=AS_OF))
    res = rank_candidates(request_, staff, history, rules)
    back = pickle.loads(pickle.dumps(res))
    assert back.to_dict() == res.to_dict()
    with pytest.raises(TypeError, match="read-only"):
        rules.weights["fairness"] = 1.0  # type: ignore[index]
    with pytest.raises(TypeError, match="read-only"):
        res.candidates[0].details["charged_hours"] = 0.0  # type: ignore[index]
