"""limit_breaches: the pure re-check of per-person limits that finalize runs before writing a preview."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from src.models.assignment import LimitBreach, limit_breaches


def _batch(*pairs: tuple[str, float]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["staff_id", "hours"])


def _done(*rows: tuple[str, float, bool]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["staff_id", "hours", "since"]).astype({"since": bool})


CAPS = {"S1": 5.0, "S2": 10.0}


def test_hours_over_capacity_counts_finalized_and_newer_ones():
    out = limit_breaches(_batch(("S1", 2.0), ("S1", 1.0), ("S2", 4.0)),
                         _done(("S1", 1.5, False), ("S1", 2.5, True), ("S2", 1.0, True)), CAPS, use_hours=True)
    assert out == [LimitBreach("S1", "hours", 7.0, 5.0, 4.0, 1)]


def test_exactly_at_capacity_is_allowed_and_tolerance_only_absorbs_float_noise():
    assert limit_breaches(_batch(("S1", 3.0)), _done(("S1", 2.0, True)), CAPS, use_hours=True) == []
    # 0.1 + 0.2 is 0.30000000000000004 in floats: still within a 0.3 h limit
    assert 0.1 + 0.2 > 0.3
    assert limit_breaches(_batch(("S1", 0.1), ("S1", 0.2)), _done(), {"S1": 0.3}, use_hours=True) == []
    assert limit_breaches(_batch(("S1", 0.1), ("S1", 0.2)), _done(), {"S1": 0.3}, use_hours=True,
                          tolerance=0.0) == [LimitBreach("S1", "hours", 0.1 + 0.2, 0.3)]
    over = limit_breaches(_batch(("S1", 3.01)), _done(("S1", 2.0, True)), CAPS, use_hours=True)
    assert [(b.staff_id, b.limit, b.amount, b.cap) for b in over] == [("S1", "hours", pytest.approx(5.01), 5.0)]


def test_no_hour_limit_when_the_preview_did_not_use_hours():
    batch, done = _batch(("S1", 20.0)), _done(("S1", 20.0, True))
    assert limit_breaches(batch, done, CAPS, use_hours=False) == []
    assert len(limit_breaches(batch, done, CAPS, use_hours=True)) == 1


def test_only_people_with_work_in_the_batch_are_checked():
    # S2 is already over capacity from finalized work but gets nothing new; unassigned rows are ignored
    out = limit_breaches(_batch(("S1", 1.0), ("", 50.0), (None, 50.0)), _done(("S2", 30.0, True)), CAPS,
                         use_hours=True)
    assert out == []


def test_person_without_capacity_has_no_hour_limit():
    assert limit_breaches(_batch(("S9", 100.0)), _done(), CAPS, use_hours=True) == []
    caps = pd.Series({"S1": np.nan})
    assert limit_breaches(_batch(("S1", 100.0)), _done(), caps, use_hours=True) == []


def test_finalized_without_since_column_and_empty_frames():
    done = pd.DataFrame({"staff_id": ["S1"], "hours": [4.0]})
    assert limit_breaches(_batch(("S1", 2.0)), done, CAPS, use_hours=True) == [
        LimitBreach("S1", "hours", 6.0, 5.0, 4.0, 0)]
    assert limit_breaches(_batch(), done, CAPS, use_hours=True, max_tasks=1) == []
    assert limit_breaches(_batch(("S1", 6.0)), _done(), CAPS, use_hours=True) == [
        LimitBreach("S1", "hours", 6.0, 5.0, 0.0, 0)]


def test_task_limit_counts_the_batch_only_like_the_solver():
    batch = _batch(("S1", 1.0), ("S1", 1.0), ("S1", 1.0), ("S2", 1.0), ("S2", 1.0))
    done = _done(("S2", 1.0, True), ("S2", 1.0, True))  # finalized tasks are not part of the count limit
    assert limit_breaches(batch, done, CAPS, use_hours=False, max_tasks=2) == [LimitBreach("S1", "tasks", 3.0, 2.0)]
    assert limit_breaches(batch, done, CAPS, use_hours=False, max_tasks=3) == []
    assert limit_breaches(batch, done, CAPS, use_hours=False, max_tasks=0) == []


def test_both_limits_sorted_by_person_then_limit():
    batch = _batch(("S2", 6.0), ("S2", 5.0), ("S1", 3.0), ("S1", 3.0))
    out = limit_breaches(batch, _done(), CAPS, use_hours=True, max_tasks=1)
    assert [(b.staff_id, b.limit, b.amount) for b in out] == [
        ("S1", "hours", 6.0), ("S1", "tasks", 2.0), ("S2", "hours", 11.0), ("S2", "tasks", 2.0)]


def test_bad_arguments():
    with pytest.raises(ValueError, match="max_tasks"):
        limit_breaches(_batch(), _done(), CAPS, use_hours=True, max_tasks=-1)
    with pytest.raises(ValueError, match="limit"):
        LimitBreach("S1", "minutes", 1.0, 1.0)
    with pytest.raises(ValueError, match="finalized_since"):
        LimitBreach("S1", "hours", 1.0, 1.0, 0.0, -1)
