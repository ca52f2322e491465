"""Tests for the seeded demo-data generator (src/data/demo.py) and the shipped sample files."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from src.data import demo
from src.data.demo import (
    ALL_SKILLS,
    CARE_HOMES,
    CC_QUEUES,
    CC_SKILLS,
    SAMPLE_FILES,
    SHIFT_TYPES,
    TASK_TYPES,
    DemoConfig,
    demo_outage,
    frame_to_csv_bytes,
    generate_demo,
    parse_skills,
    sample_frames,
    write_demo,
    write_samples,
)
from src.data.kinds import KINDS

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "sample"
SMALL = DemoConfig(seed=7, years=0.5, overtime_years=0.5, n_staff=40, n_assignments=1500, n_overtime_requests=150)
BERLIN_HOLIDAYS_2025 = [date(2025, 1, 1), date(2025, 3, 8), date(2025, 4, 18), date(2025, 4, 21), date(2025, 5, 1),
                        date(2025, 5, 29), date(2025, 6, 9), date(2025, 10, 3), date(2025, 12, 25),
                        date(2025, 12, 26)]


@pytest.fixture(scope="module")
def full() -> dict[str, pd.DataFrame]:
    return generate_demo()


@pytest.fixture(scope="module")
def calls(full: dict[str, pd.DataFrame]) -> pd.DataFrame:
    c = full["workload"][full["workload"]["queue"] == "calls"].copy()
    c["wd"] = c["timestamp"].dt.dayofweek
    c["h"] = c["timestamp"].dt.hour
    return c


@pytest.fixture(scope="module")
def samples_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    write_samples(out)
    return out


# ---------------------------------------------------------------- config


@pytest.mark.parametrize("kwargs", [
    {"seed": -1}, {"seed": 1.5}, {"seed": True}, {"years": 0}, {"years": 21}, {"overtime_years": 3.0},
    {"n_staff": 11}, {"n_assignments": -1}, {"n_overtime_requests": -5}, {"trend_per_year": 1.0},
    {"cc_site": " "}, {"cc_site": "Haus Lindenhof"}, {"end": pd.Timestamp("2026-10-31").to_pydatetime()},
])
def test_config_rejects_invalid_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        DemoConfig(**kwargs)


def test_config_is_frozen_and_start_covers_full_years() -> None:
    cfg = DemoConfig()
    with pytest.raises(AttributeError):
        cfg.seed = 1  # type: ignore[misc]
    assert cfg.start == date(2024, 10, 30)
    assert (cfg.end - cfg.start).days == 731
    assert cfg.overtime_start == date(2025, 10, 30)


# ---------------------------------------------------------------- shape, dtypes, keys


def test_frames_use_exact_canonical_columns_and_natural_dtypes(full: dict[str, pd.DataFrame]) -> None:
    assert list(full) == list(KINDS)
    for kind, df in full.items():
        spec = KINDS[kind]
        assert list(df.columns) == spec.column_names, kind
        for col in spec.columns:
            s = df[col.name]
            if col.type in ("datetime", "date", "time"):  # roster start/end: full timestamps on the row's day
                assert s.dtype == np.dtype("datetime64[ns]"), (kind, col.name)
            elif col.type == "count":
                assert s.dtype == np.int64, (kind, col.name)
            elif col.type == "number":
                assert s.dtype == np.float64, (kind, col.name)
            elif col.type == "bool":
                assert s.dtype == np.bool_, (kind, col.name)
            else:
                assert s.dtype == object and s.map(type).eq(str).all(), (kind, col.name)
        for col in spec.columns:
            if col.type == "date":
                assert (df[col.name] == df[col.name].dt.normalize()).all(), (kind, col.name)


def test_counts_are_non_negative_ints(full: dict[str, pd.DataFrame]) -> None:
    assert (full["workload"]["volume"] >= 0).all()
    assert full["unit_shifts"]["shifts"].between(1, 15).all()
    assert set(full["assignments"]["priority"]) == {1, 2, 3, 4, 5}


def test_key_columns_are_unique(full: dict[str, pd.DataFrame]) -> None:
    for kind, df in full.items():
        keys = list(KINDS[kind].key_columns)
        assert not df.duplicated(keys).any(), kind
        assert df[keys].notna().all().all(), kind


def test_row_counts_match_the_brief(full: dict[str, pd.DataFrame]) -> None:
    assert len(full["staff"]) == 150
    assert 8_000 <= len(full["assignments"]) <= 15_000
    n_req = full["overtime"]["request_id"].nunique()
    assert 600 <= n_req <= 1200
    units = full["unit_shifts"][["site", "unit"]].drop_duplicates()
    assert len(units) == 40 and units["site"].nunique() == 5
    assert set(full["workload"]["queue"]) == set(CC_QUEUES)
    assert set(full["workload"]["site"]) == {"CC-Berlin"}


def test_zero_tasks_and_requests_give_empty_frames_with_canonical_dtypes() -> None:
    frames = generate_demo(DemoConfig(years=0.1, overtime_years=0.1, n_staff=12, n_assignments=0,
                                      n_overtime_requests=0))
    for kind in ("assignments", "overtime"):
        df = frames[kind]
        assert df.empty and list(df.columns) == KINDS[kind].column_names
    assert frames["assignments"]["due"].dtype == np.dtype("datetime64[ns]")
    assert frames["overtime"]["accepted"].dtype == np.bool_
    assert len(frames["staff"]) == 12 and frames["staff"]["site"].nunique() == 6


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_byte_identical_csv(tmp_path: Path) -> None:
    a = write_demo(tmp_path / "a", SMALL)
    b = write_demo(tmp_path / "b", SMALL)
    assert [p.name for p in a] == [f"{k}.csv" for k in KINDS]
    for pa, pb in zip(a, b, strict=True):
        assert pa.read_bytes() == pb.read_bytes(), pa.name


def test_different_seed_differs_in_every_kind() -> None:
    a = generate_demo(SMALL)
    b = generate_demo(DemoConfig(**{**SMALL.__dict__, "seed": 8}))
    for kind in KINDS:
        assert frame_to_csv_bytes(a[kind]) != frame_to_csv_bytes(b[kind]), kind


def test_kinds_use_independent_random_streams() -> None:
    a = generate_demo(SMALL)
    b = generate_demo(DemoConfig(**{**SMALL.__dict__, "n_assignments": 900, "n_overtime_requests": 80}))
    for kind in ("workload", "unit_shifts", "staff"):
        pd.testing.assert_frame_equal(a[kind], b[kind])
    assert len(b["assignments"]) == 900


# ---------------------------------------------------------------- coverage


def test_history_covers_two_full_years(full: dict[str, pd.DataFrame]) -> None:
    cfg = DemoConfig()
    wl, us = full["workload"], full["unit_shifts"]
    assert wl["timestamp"].min() == pd.Timestamp("2024-10-30 00:00")
    assert wl["timestamp"].max() == pd.Timestamp("2026-10-31 23:00")
    assert (wl["timestamp"].max() - wl["timestamp"].min()) >= pd.Timedelta(days=2 * 365.25)
    n_days = (cfg.end - cfg.start).days + 1
    assert us.groupby(["site", "unit"]).size().eq(n_days).all()
    asg = full["assignments"]
    assert asg["assigned_at"].min() < pd.Timestamp("2024-11-03")
    assert asg["assigned_at"].max() > pd.Timestamp("2026-10-28")
    ot = full["overtime"]
    assert ot["shift_date"].min() >= pd.Timestamp(cfg.overtime_start)
    assert ot["shift_date"].max() <= pd.Timestamp(cfg.end)
    assert (ot["shift_date"].max() - ot["shift_date"].min()).days >= 350


def test_emails_have_every_hour_including_zeros(full: dict[str, pd.DataFrame]) -> None:
    em = full["workload"][full["workload"]["queue"] == "emails"]
    expected = pd.date_range("2024-10-30 00:00", "2026-10-31 23:00", freq="h")
    exists = ~expected.tz_localize("Europe/Berlin", ambiguous=np.zeros(len(expected), dtype=bool),
                                   nonexistent="NaT").isna()  # no row in the hour the clocks skip in spring
    assert len(expected) - exists.sum() == 2
    assert em["timestamp"].tolist() == list(expected[exists])
    assert (em["volume"] == 0).sum() > 50
    assert em[em["timestamp"].dt.hour.isin([2, 3])]["volume"].mean() < 5


# ---------------------------------------------------------------- calls: closed hours, holidays, profiles


def test_calls_have_no_rows_outside_opening_hours(calls: pd.DataFrame) -> None:
    weekday = calls[calls["wd"] < 5]
    saturday = calls[calls["wd"] == 5]
    assert set(weekday["h"]) == set(range(8, 20))
    assert set(saturday["h"]) == set(range(9, 14))
    assert not (calls["wd"] == 6).any()
    assert (calls["timestamp"].dt.minute == 0).all()


def test_public_holidays_closed_for_calls_and_outbound_and_low_for_emails(full: dict[str, pd.DataFrame]) -> None:
    wl = full["workload"]
    days = wl["timestamp"].dt.date
    hol = set(BERLIN_HOLIDAYS_2025)
    for q in ("calls", "outbound_OOK", "outbound_OMK", "outbound_NB"):
        assert not days[wl["queue"] == q].isin(hol).any(), q
    em = wl[wl["queue"] == "emails"].assign(day=days)
    daily = em.groupby("day")["volume"].sum()
    weekday_days = [d for d in daily.index if d.weekday() < 5 and d not in hol]
    hol_weekdays = [d for d in hol if d.weekday() < 5]
    assert daily[hol_weekdays].mean() < 0.6 * daily[weekday_days].mean()


def test_weekday_profiles_differ(calls: pd.DataFrame) -> None:
    prof = calls.groupby(["wd", "h"])["volume"].mean().unstack(fill_value=0.0).reindex(columns=range(24),
                                                                                       fill_value=0.0)
    assert np.corrcoef(prof.loc[0], prof.loc[5])[0, 1] < 0.95
    assert prof.loc[5].idxmax() != prof.loc[0].idxmax() or prof.loc[5].max() < 0.6 * prof.loc[0].max()
    # Monday morning peak above mid-week, Friday afternoon dip below mid-week
    assert prof.loc[0, 9:11].mean() > 1.1 * prof.loc[2, 9:11].mean()
    fri_pm = prof.loc[4, 14:19].sum() / prof.loc[4].sum()
    wed_pm = prof.loc[2, 14:19].sum() / prof.loc[2].sum()
    assert fri_pm < 0.8 * wed_pm
    # Saturday: short hours and lower volume
    assert prof.loc[5].sum() < 0.5 * prof.loc[2].sum()


def test_call_volumes_and_aht_are_realistic(full: dict[str, pd.DataFrame], calls: pd.DataFrame) -> None:
    daily_peak = calls.groupby(calls["timestamp"].dt.date)["volume"].max()
    weekday_peaks = daily_peak[[d.weekday() < 5 for d in daily_peak.index]]
    assert 150 <= weekday_peaks.median() <= 300
    wl = full["workload"]
    mean_by_queue = wl.groupby("queue")["volume"].mean()
    assert mean_by_queue["emails"] < mean_by_queue["calls"]
    for q in ("outbound_OOK", "outbound_OMK", "outbound_NB"):
        assert mean_by_queue[q] < 0.3 * mean_by_queue["calls"], q
    assert (wl["aht_seconds"] > 0).all()
    assert calls["aht_seconds"].between(200, 380).all()
    aht_by_hour = calls.groupby("h")["aht_seconds"].mean()
    assert 240 <= aht_by_hour.min() and aht_by_hour.max() <= 340
    assert aht_by_hour.loc[[18, 19]].mean() - aht_by_hour.loc[[8, 9]].mean() > 30


def test_calls_grow_about_eight_percent_a_year(calls: pd.DataFrame) -> None:
    first = calls[calls["timestamp"] < "2025-10-30"]["volume"].sum()
    second = calls[calls["timestamp"] >= "2025-10-30"]["volume"].sum()
    assert 1.03 < second / first < 1.14


def test_outage_drops_calls_then_catch_up(calls: pd.DataFrame) -> None:
    start, end = demo_outage()
    assert start.dayofweek < 5 and 9 <= start.hour <= 12
    assert pd.Timedelta(hours=3) <= end - start <= pd.Timedelta(hours=5)
    inside = calls[(calls["timestamp"] >= start) & (calls["timestamp"] < end)]
    assert len(inside) == (end - start) / pd.Timedelta(hours=1)
    same = calls[(calls["wd"] == start.dayofweek) & (calls["timestamp"].dt.date != start.date())]
    typical = same.groupby("h")["volume"].median()
    assert (inside["volume"].to_numpy() < 0.1 * typical[inside["h"]].to_numpy()).all()
    after = calls[calls["timestamp"] == end].iloc[0]
    assert after["volume"] > 1.15 * typical[after["h"]]
    assert demo_outage(DemoConfig(outage=False)) is None


# ---------------------------------------------------------------- care homes


def test_unit_shifts_weekend_dip_and_flu_season(full: dict[str, pd.DataFrame]) -> None:
    us = full["unit_shifts"]
    by_wd = us.groupby(us["date"].dt.dayofweek)["shifts"].mean()
    assert by_wd[[5, 6]].mean() < 0.95 * by_wd[[1, 2, 3]].mean()
    by_month = us.groupby(us["date"].dt.month)["shifts"].mean()
    assert by_month[[1, 2]].mean() > 1.04 * by_month[[6, 7, 8]].mean()
    per_unit = us.groupby("unit")["shifts"].mean()
    assert per_unit.min() < 4.5 and per_unit.max() > 7.5


# ---------------------------------------------------------------- staff


def test_staff_attributes(full: dict[str, pd.DataFrame]) -> None:
    st = full["staff"]
    assert st["staff_id"].tolist() == [f"S{i:04d}" for i in range(1, 151)]
    assert st["name"].is_unique and st["name"].str.fullmatch(r"\S+ \S+").all()
    assert set(st["site"]) == {"CC-Berlin", *CARE_HOMES}
    assert set(st["role"]) == {"Pflegefachkraft", "Pflegehelfer", "Wohnbereichsleitung", "Agent", "Senior Agent",
                               "Team Lead"}
    cc = st["site"] == "CC-Berlin"
    assert st.loc[cc, "role"].isin(["Agent", "Senior Agent", "Team Lead"]).all()
    token = re.compile(r"[a-z_]+:[1-5]")
    for row in st.itertuples():
        skills = parse_skills(row.skills)
        assert all(token.fullmatch(t) for t in row.skills.split("|")), row.skills
        allowed = set(CC_SKILLS) if row.site == "CC-Berlin" else set(ALL_SKILLS) - set(CC_SKILLS)
        assert skills and set(skills) <= allowed, row
        prefs = row.preferred_sites.split("|")
        assert 1 <= len(prefs) <= 2 and row.site in prefs
    assert set(st["contract_hours"]) == {20.0, 25.0, 30.0, 38.5, 40.0}
    assert 0.6 <= st["ot_willing"].mean() <= 0.8
    span = st["hire_date"].max() - st["hire_date"].min()
    assert span > pd.Timedelta(days=8 * 365) and st["hire_date"].max() <= pd.Timestamp("2026-10-31")
    assert st["hire_date"].is_monotonic_increasing  # personnel numbers follow hiring order


# ---------------------------------------------------------------- assignments


def test_assignments_are_consistent(full: dict[str, pd.DataFrame]) -> None:
    asg, st = full["assignments"], full["staff"]
    assert set(asg["outcome"]) == {"success", "failure"}
    assert (asg["due"] > asg["assigned_at"]).all()
    assert asg["assigned_at"].is_monotonic_increasing
    assert asg["task_id"].is_unique
    assert asg["staff_id"].isin(st["staff_id"]).all()
    hire = asg["staff_id"].map(st.set_index("staff_id")["hire_date"])
    assert (hire <= asg["assigned_at"]).all()
    assert (asg["required_skill"] == asg["task_type"].map({t: v[1] for t, v in TASK_TYPES.items()})).all()
    assert (asg["hours"] > 0).all() and ((asg["hours"] * 4) % 1 == 0).all()
    home = asg["staff_id"].map(st.set_index("staff_id")["site"])
    cc_task = asg["site"] == "CC-Berlin"
    assert (home[cc_task] == "CC-Berlin").all() and (home[~cc_task] != "CC-Berlin").all()
    assert 0.05 < (home != asg["site"]).mean() < 0.3  # some cross-home help in care
    assert 0.65 <= (asg["outcome"] == "success").mean() <= 0.85


def test_assignment_outcomes_carry_skill_signal(full: dict[str, pd.DataFrame]) -> None:
    asg, st = full["assignments"], full["staff"]
    skills = {r.staff_id: parse_skills(r.skills) for r in st.itertuples()}
    level = np.array([skills[s].get(k, 0) for s, k in zip(asg["staff_id"], asg["required_skill"], strict=True)])
    ok = (asg["outcome"] == "success").to_numpy()
    assert 0.1 < (level == 0).mean() < 0.5  # the dispatcher made imperfect choices to learn from
    assert ok[level > 0].mean() - ok[level == 0].mean() > 0.15
    assert ok[level >= 4].mean() > ok[(level > 0) & (level <= 2)].mean() + 0.08
    hard = asg["task_type"].eq("palliative_care").to_numpy()
    assert ok[hard].mean() < ok[asg["task_type"].eq("mobilisation").to_numpy()].mean() - 0.15


def _tasks_in_window(asg: pd.DataFrame, forward: bool) -> np.ndarray:
    """Tasks given to the same person in the 7 days before (or after) each row."""
    out = np.zeros(len(asg))
    week = np.timedelta64(7, "D")
    for _, g in asg.groupby("staff_id"):
        t = g["assigned_at"].to_numpy()
        if forward:
            lo, hi = np.searchsorted(t, t, "right"), np.searchsorted(t, t + week, "right")
        else:
            lo, hi = np.searchsorted(t, t - week, "left"), np.searchsorted(t, t, "left")
        out[g.index.to_numpy()] = hi - lo
    return out


def test_assignment_outcomes_depend_on_past_load_not_future_load(full: dict[str, pd.DataFrame]) -> None:
    """No leakage: an outcome reacts to the load *before* the task, never to tasks given later."""
    from sklearn.linear_model import LogisticRegression

    asg, st = full["assignments"], full["staff"]
    fte = 38.5 / asg["staff_id"].map(st.set_index("staff_id")["contract_hours"]).to_numpy()
    past = _tasks_in_window(asg, forward=False) * fte
    future = _tasks_in_window(asg, forward=True) * fte
    assert np.corrcoef(past, future)[0, 1] > 0.4  # future load is a tempting proxy, so this test can fail
    skills = {r.staff_id: parse_skills(r.skills) for r in st.itertuples()}
    level = np.array([skills[s].get(k, 0) for s, k in zip(asg["staff_id"], asg["required_skill"], strict=True)])
    x = np.column_stack([np.clip(past - 1.5, 0, None), np.clip(future - 1.5, 0, None), level > 0, level])
    coef = LogisticRegression(C=100.0, max_iter=1000).fit(x, asg["outcome"].eq("success")).coef_[0]
    assert coef[0] < -0.25
    assert abs(coef[1]) < 0.1


def test_assignment_logit_is_monotone_in_the_documented_directions() -> None:
    base = dict(has_skill=np.array([True]), level=np.array([3.0]), difficulty=np.array([0.5]),
                exp_years=np.array([2.0]), recent_load=np.array([1.0]), priority=np.array([3.0]),
                slack_hours=np.array([24.0]), site_mismatch=np.array([False]), late_hour=np.array([False]))
    z0 = demo.assignment_success_logit(**base)[0]
    worse = {"has_skill": np.array([False]), "difficulty": np.array([0.9]), "recent_load": np.array([5.0]),
             "priority": np.array([1.0]), "slack_hours": np.array([0.5]), "site_mismatch": np.array([True]),
             "late_hour": np.array([True]), "exp_years": np.array([0.1]), "level": np.array([1.0])}
    for name, value in worse.items():
        assert demo.assignment_success_logit(**{**base, name: value})[0] < z0, name


# ---------------------------------------------------------------- overtime


def test_overtime_request_structure(full: dict[str, pd.DataFrame]) -> None:
    ot, st = full["overtime"], full["staff"]
    g = ot.groupby("request_id")
    assert g.size().between(1, 8).all()
    assert g["accepted"].sum().le(1).all()
    assert 0.7 < g["accepted"].any().mean() < 1.0
    for col in ("shift_date", "site", "unit", "shift_type"):
        assert g[col].nunique().eq(1).all(), col
    acc = ot[ot["accepted"]].set_index("request_id")["responded_at"]
    accept_time = ot["request_id"].map(acc)
    has_acc = accept_time.notna()
    assert (ot.loc[has_acc, "contacted_at"] <= accept_time[has_acc]).all()  # nobody contacted after acceptance
    assert ot.loc[ot["accepted"], "responded_at"].notna().all()
    responded = ot["responded_at"].notna()
    assert (ot.loc[responded, "responded_at"] > ot.loc[responded, "contacted_at"]).all()
    assert 0.05 < (~responded).mean() < 0.3
    shift_hours = ot["shift_type"].map({k: v[1] for k, v in SHIFT_TYPES.items()})
    assert (ot["hours_worked"] == np.where(ot["accepted"], shift_hours, 0.0)).all()
    shift_start = ot["shift_date"] + pd.to_timedelta(ot["shift_type"].map({k: v[0] for k, v in SHIFT_TYPES.items()}),
                                                     unit="h")
    assert (ot["contacted_at"] < shift_start).all()
    assert set(ot["site"]) <= set(CARE_HOMES)
    assert all(u in CARE_HOMES[s] for s, u in zip(ot["site"], ot["unit"], strict=True))
    staff = st.set_index("staff_id")
    assert (ot["staff_id"].map(staff["site"]) != "CC-Berlin").all()
    assert (ot["staff_id"].map(staff["hire_date"]) <= ot["contacted_at"]).all()
    assert ot["staff_id"].map(staff["ot_willing"]).mean() > 0.85
    minutes = (ot.loc[responded, "responded_at"] - ot.loc[responded, "contacted_at"]).dt.total_seconds() / 60
    assert 15 < minutes.median() < 90 and minutes.quantile(0.95) > 120


def test_overtime_acceptance_driven_by_willingness_and_preference(full: dict[str, pd.DataFrame]) -> None:
    ot, st = full["overtime"], full["staff"].set_index("staff_id")
    willing = ot["staff_id"].map(st["ot_willing"])
    assert ot.loc[willing, "accepted"].mean() > ot.loc[~willing, "accepted"].mean() + 0.1
    pref = [s in p.split("|") for s, p in zip(ot["site"], ot["staff_id"].map(st["preferred_sites"]), strict=True)]
    pref = np.array(pref)
    assert ot.loc[pref, "accepted"].mean() > ot.loc[~pref, "accepted"].mean()


# ---------------------------------------------------------------- progress and writing


def test_progress_callback_is_monotone_and_finishes() -> None:
    seen: list[tuple[float, str]] = []
    generate_demo(SMALL, on_progress=lambda f, t: seen.append((f, t)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(isinstance(t, str) and t for _, t in seen)


def test_write_demo_csv_round_trips_and_xlsx_opens(tmp_path: Path) -> None:
    cfg = DemoConfig(seed=3, years=0.25, overtime_years=0.25, n_staff=20, n_assignments=100, n_overtime_requests=20)
    frames = generate_demo(cfg)
    paths = write_demo(tmp_path, cfg, formats=("csv", "xlsx"))
    assert [p.name for p in paths] == [f"{k}{ext}" for k in KINDS for ext in (".csv", ".xlsx")]
    for kind, df in frames.items():
        spec = KINDS[kind]
        dt_cols = [c.name for c in spec.columns if c.type in ("date", "datetime", "time")]
        back = pd.read_csv(tmp_path / f"{kind}.csv", parse_dates=dt_cols, keep_default_na=False,
                           na_values={c: [""] for c in dt_cols})
        for c in spec.columns:
            if c.type == "bool":
                back[c.name] = back[c.name].map({True: True, False: False, "true": True, "false": False})
        pd.testing.assert_frame_equal(back, df, check_dtype=False, obj=kind)
    from openpyxl import load_workbook
    ws = load_workbook(tmp_path / "overtime.xlsx").active
    assert [c.value for c in ws[1]] == KINDS["overtime"].column_names
    assert ws.max_row == len(frames["overtime"]) + 1
    with pytest.raises(ValueError):
        write_demo(tmp_path, cfg, formats=("parquet",))


# ---------------------------------------------------------------- samples


def test_sample_frames_have_the_documented_sizes() -> None:
    s = sample_frames()
    assert set(s["workload"]["queue"]) == {"calls", "emails"}
    span = s["workload"]["timestamp"].max() - s["workload"]["timestamp"].min()
    assert pd.Timedelta(days=27) < span <= pd.Timedelta(weeks=4)
    assert len(s["unit_shifts"]) == 6 * 56 and s["unit_shifts"].groupby(["site", "unit"]).ngroups == 6
    assert len(s["staff"]) == 20
    assert len(s["assignments"]) == 200 and s["assignments"]["staff_id"].isin(s["staff"]["staff_id"]).all()
    ot = s["overtime"]
    assert 150 <= len(ot) <= 160
    full_sizes = generate_demo()["overtime"].groupby("request_id").size()
    assert (ot.groupby("request_id").size() == full_sizes[ot["request_id"].unique()]).all()  # whole requests


def test_written_samples_exist_are_small_and_in_user_formats(samples_dir: Path) -> None:
    for name in SAMPLE_FILES:
        p = samples_dir / name
        assert p.is_file() and 0 < p.stat().st_size < 300_000, name
    wl = (samples_dir / "workload_sample.csv").read_text("utf-8").splitlines()
    assert wl[0] == "timestamp,queue,volume,site,aht_seconds"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:00:00,(calls|emails),\d+,CC-Berlin,\d+\.\d", wl[1])
    raw = (samples_dir / "unit_shifts_sample_de.csv").read_bytes()
    assert "ä".encode("cp1252") in raw  # Wohnbereich Lärche, legacy Windows encoding
    de = raw.decode("cp1252").splitlines()
    assert de[0] == "Datum;Einrichtung;Station;Schichten"
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4};[^;]+;[^;]+;\d+", de[1])
    ot = (samples_dir / "overtime_sample_de.csv").read_bytes()
    assert ot.startswith(b"\xef\xbb\xbf")
    text = ot.decode("utf-8-sig").splitlines()
    assert text[0].startswith("Anfrage-ID;Schichtdatum;Einrichtung;Schichtart;Personalnummer;Kontaktiert am")
    assert any(";ja;" in line for line in text) and any(";nein;0,0;" in line for line in text)
    df = pd.read_csv(io.BytesIO(ot), sep=";", encoding="utf-8-sig", decimal=",")
    assert df["Angenommen"].isin(["ja", "nein"]).all() and df["Geleistete Stunden"].dtype == float


def test_sample_xlsx_have_date_cells_bold_header_and_widths(samples_dir: Path) -> None:
    from datetime import datetime

    from openpyxl import load_workbook
    ws = load_workbook(samples_dir / "unit_shifts_sample_de.xlsx").active
    assert [c.value for c in ws[1]] == ["Datum", "Einrichtung", "Station", "Schichten"]
    assert all(c.font.bold for c in ws[1])
    assert isinstance(ws["A2"].value, datetime) and ws["A2"].number_format == "DD.MM.YYYY"
    assert ws.column_dimensions["C"].width >= len("Wohnbereich Rosengarten")
    assert ws.freeze_panes == "A2"
    ws = load_workbook(samples_dir / "workload_sample.xlsx").active
    assert isinstance(ws["A2"].value, datetime) and ws["A2"].number_format == "YYYY-MM-DD HH:MM"
    assert isinstance(ws["C2"].value, int)
    ws = load_workbook(samples_dir / "staff_sample_de.xlsx").active
    assert ws["H1"].value == "Überstunden bereit" and ws["H2"].value in ("ja", "nein")
    ws = load_workbook(samples_dir / "overtime_sample.xlsx").active
    assert isinstance(ws["H2"].value, bool)


def test_shipped_sample_files_are_current(samples_dir: Path) -> None:
    """data/sample/ must be regenerated (write_samples) whenever the generator changes."""
    assert (SHIPPED / "README.md").is_file()
    for name in SAMPLE_FILES:
        shipped = SHIPPED / name
        assert shipped.is_file(), name
        if name.endswith(".csv"):
            assert shipped.read_bytes() == (samples_dir / name).read_bytes(), name
        assert name in (SHIPPED / "README.md").read_text("utf-8"), name


# ---------------------------------------------------------------- validation (module by another engineer)


def _as_validated(kind: str, df: pd.DataFrame) -> pd.DataFrame:
    """What validation turns a demo frame into: outcomes become booleans (True = success)."""
    df = df.reset_index(drop=True)
    if kind == "assignments":
        df = df.assign(outcome=df["outcome"].eq("success"))
    return df


def test_generated_frames_and_samples_validate(full: dict[str, pd.DataFrame], samples_dir: Path) -> None:
    validation = pytest.importorskip("src.data.validation")
    for kind, df in full.items():
        report = validation.validate_frame(kind, df)
        assert report.ok, (kind, report.errors[:5])
    samples = sample_frames()
    for name in SAMPLE_FILES:
        kind = next(k for k in sorted(KINDS, key=len, reverse=True) if name.startswith(k))
        report = validation.validate_upload(kind, name, (samples_dir / name).read_bytes())
        assert report.ok, (name, report.errors[:5])
        assert not report.warnings, (name, report.warnings[:5])
        # every format (German headers, cp1252, dd.mm.yyyy, decimal comma, ja/nein, date cells) reads back exactly
        got = report.frame[KINDS[kind].column_names].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, _as_validated(kind, samples[kind]), check_dtype=False, obj=name)
