"""``python -m src.cli overtime rank|fairness`` on the stored data: JSON shape, text output, exit 1 on bad args."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from src.cli import main
from src.services.context import set_app
from tests.unit.test_overtime_service import _seed


@pytest.fixture
def cli_app(sqlite_app):
    today = _seed(sqlite_app)
    set_app(sqlite_app)
    yield sqlite_app, today
    set_app(None)


def test_rank_json_lists_candidates_with_factor_contributions_and_exclusions(cli_app, capsys):
    _, today = cli_app
    day = (today + timedelta(days=2)).isoformat()
    assert main(["overtime", "rank", "--site", "Haus A", "--date", day, "--shift-type", "late", "--unit", "WB1",
                 "--hours", "6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["request"] == {**out["request"], "site": "Haus A", "unit": "WB1", "shift_date": day, "hours": 6.0}
    cands = out["candidates"]
    assert [c["rank"] for c in cands] == [1, 2]
    for c in cands:
        assert set(c["factors"]) == {"availability", "acceptance", "fairness", "site_preference", "reliability"}
        assert c["total"] == pytest.approx(sum(f["contribution"] for f in c["factors"].values()))
        for f in c["factors"].values():
            assert f["contribution"] == pytest.approx(100 * f["weight"] * f["value"])
    assert cands[0]["total"] >= cands[1]["total"]
    excluded = {e["staff_id"]: e["reasons"] for e in out["excluded"]}
    assert excluded["S3"] == ["not willing to work overtime"] and "Haus A" in excluded["S4"][0]


def test_rank_text_output(cli_app, capsys):
    _, today = cli_app
    assert main(["overtime", "rank", "--site", "Haus A", "--date", today.isoformat(), "--shift-type", "night"]) == 0
    out = capsys.readouterr().out
    assert "2 eligible, 2 excluded" in out and "excluded S3 Cem: not willing" in out


def test_fairness_json(cli_app, capsys):
    assert main(["overtime", "fairness", "--days", "90", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["days"] == 90 and out["formula"].startswith("score = 100 × (1 − Gini)")
    assert {"score", "gini", "jain", "max_mean", "average"} <= set(out["metrics"])
    people = {p["staff_id"]: p for p in out["people"]}
    assert set(people) == {"S1", "S2"}  # OT-willing staff of the home that requests overtime
    assert people["S2"]["hours_worked"] == 8.0 and people["S2"]["charged_per_40"] == pytest.approx(32.0)
    assert [w["days"] for w in out["windows"]] == [30, 60, 90, 180, 365]


def test_fairness_text(cli_app, capsys):
    assert main(["overtime", "fairness", "--days", "30"]) == 0
    assert "score" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["overtime", "rank", "--date", "2026-01-01"], "missing required argument(s): --site, --shift-type"),
    (["overtime", "rank", "--site", "Haus A", "--date", "01.02.2026", "--shift-type", "early"], "YYYY-MM-DD"),
    (["overtime", "rank", "--site", "Haus A", "--date", "2026-01-01", "--shift-type", "brunch"], "Unknown shift"),
    (["overtime", "rank", "--site", "Haus Z", "--date", "2026-01-01", "--shift-type", "early"], "Unknown site"),
    (["overtime", "rank", "--site", "Haus A", "--date", "2026-01-01", "--shift-type", "early", "--hours", "x"],
     "--hours must be a number"),
    (["overtime", "rank", "--site", "Haus A", "--date", "2026-01-01", "--shift-type", "early", "--hours", "30"],
     "at most 24"),
    (["overtime", "fairness", "--days", "ninety"], "--days must be a whole number"),
    (["overtime", "fairness", "--days", "0"], "at least 1"),
    (["overtime", "fairness", "--as-of", "2999-01-01"], "future"),
    (["overtime", "fairness", "--basis", "hours"], "invalid choice"),
    (["overtime", "nonsense"], "invalid choice"),
])
def test_bad_arguments_exit_1_with_a_clear_message(cli_app, capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    assert code == 1
    assert message in capsys.readouterr().err


def test_rank_without_staff_data_fails_cleanly(sqlite_app, capsys):
    set_app(sqlite_app)
    try:
        assert main(["overtime", "rank", "--site", "Haus A", "--date", "2026-01-01", "--shift-type", "early"]) == 1
    finally:
        set_app(None)
    assert "staff" in capsys.readouterr().err


def test_rank_honours_stored_absences(cli_app, capsys):
    from src.services import overtime as ot
    from tests.conftest import PLANNER

    app, today = cli_app
    day = today + timedelta(days=2)
    ot.record_absence(app, PLANNER, staff_id="S1", date_from=day, reason="sick")
    assert main(["overtime", "rank", "--site", "Haus A", "--date", day.isoformat(), "--shift-type", "early",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert "S1" not in {c["staff_id"] for c in out["candidates"]}
    assert {e["staff_id"]: e["reasons"] for e in out["excluded"]}["S1"] == [f"absent on {day:%Y-%m-%d} (sick)"]
    assert main(["overtime", "rank", "--site", "Haus A", "--date", day.isoformat(), "--shift-type", "early"]) == 0
    assert f"excluded S1 Anna: absent on {day:%Y-%m-%d} (sick)" in capsys.readouterr().out
