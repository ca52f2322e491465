"""CLI validate checks local times in APP_TIMEZONE, like ingest and the app (it used Europe/Berlin always)."""

from __future__ import annotations

from src import cli


def _file(tmp_path, stamp: str):
    path = tmp_path / "w.csv"
    path.write_text(f"timestamp,queue,volume\n{stamp},calls,5\n2026-03-02 09:00,calls,7\n", encoding="utf-8")
    return path


def test_validate_uses_the_configured_time_zone(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("APP_TIMEZONE", "America/New_York")
    us_gap = _file(tmp_path, "2026-03-08 02:30")  # the US spring-forward gap
    assert cli.main(["validate", "workload", str(us_gap)]) == 1
    assert "2026-03-08 02:30" in capsys.readouterr().out
    eu_gap = _file(tmp_path, "2026-03-29 02:30")  # a Berlin gap, an ordinary time in New York
    assert cli.main(["validate", "workload", str(eu_gap)]) == 0


def test_validate_default_zone_is_berlin(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("APP_TIMEZONE", raising=False)
    assert cli.main(["validate", "workload", str(_file(tmp_path, "2026-03-29 02:30"))]) == 1
