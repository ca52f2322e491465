"""Erlang C: textbook values, every staffing rule of issue 4, stability at huge traffic, monotonicity."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from src.models.capacity.erlang import (
    apply_shrinkage,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    occupancy_agents,
    required_agents,
    safe_ceil,
    service_level,
    traffic_intensity,
)


def recursion_b(n: int, a: float) -> float:
    """Independent Erlang B by the classic stable recursion 1/B(k) = 1 + k/A · 1/B(k−1)."""
    inv = 1.0
    for k in range(1, n + 1):
        inv = 1.0 + inv * k / a
    return 1.0 / inv


def recursion_sl(n: int, a: float, aht: float, t: float) -> float:
    b = recursion_b(n, a)
    c = n * b / (n - a * (1 - b))
    return 1 - c * math.exp(-(n - a) * t / aht)


def test_textbook_100_calls_30_minutes():
    r = required_agents(100, 180, interval_seconds=1800, sl_target=0.8, answer_within_s=20)
    row = r.row()
    assert row["traffic"] == 10.0
    assert row["agents_raw"] == 14 and row["agents"] == 14
    assert row["service_level"] == pytest.approx(0.8884, abs=5e-4)
    assert row["occupancy"] == pytest.approx(10 / 14)
    # 13 agents really are not enough
    assert service_level(13, 10.0, 180, 20) < 0.8


def test_textbook_with_30_percent_shrinkage_is_20():
    r = required_agents(100, 180, sl_target=0.8, answer_within_s=20, shrinkage=0.3)
    assert int(r.agents) == 20 and int(r.agents_raw) == 14
    assert float(r.agents_fractional) == pytest.approx(14 / 0.7)


def test_shrinkage_ceiling_is_exact():
    assert math.ceil(21 / (1 - 0.3)) == 31  # the float trap this guards against
    assert apply_shrinkage(np.array([21]), 0.3).tolist() == [30]
    assert apply_shrinkage(np.array([0, 1, 7, 14, 22]), 0.3).tolist() == [0, 2, 10, 20, 32]
    assert apply_shrinkage(np.array([5]), 0.0).tolist() == [5]


def test_occupancy_ceiling_is_exact_and_search_starts_at_floor_a_plus_one():
    # A = 221 × 180 / 1800 = 22.1; 22.1 / 0.85 = 26 exactly, but float gives 26.000000000000004
    assert 221 * 180 / 1800 / 0.85 > 26
    assert occupancy_agents(np.array([221.0]), np.array([180.0]), np.array([1800.0]), 0.85).tolist() == [26]
    assert occupancy_agents(np.array([221.5]), np.array([180.0]), np.array([1800.0]), 0.85).tolist() == [27]
    r = required_agents(221, 180, sl_target=0.0, max_occupancy=0.85)
    assert int(r.agents_raw) == 26
    # A = 10.6, no SL pressure: floor(A) + 1 = 11 agents, not round(A) + 1 = 12
    r = required_agents(106, 180, sl_target=0.0)
    assert int(r.agents_raw) == 11
    # A integer: N = A is unstable, so A + 1
    assert int(required_agents(100, 180, sl_target=0.0).agents_raw) == 11


def test_safe_ceil_ignores_only_float_noise():
    assert safe_ceil(np.array([30.000000000000004, 30.00001, 29.0, 0.0])).tolist() == [30, 31, 29, 0]


def test_zero_calls_zero_agents():
    r = required_agents([0, 0.0], 300, shrinkage=0.3, max_occupancy=0.85)
    assert r.agents.tolist() == [0, 0]
    assert r.service_level.tolist() == [1.0, 1.0]
    assert r.asa_seconds.tolist() == [0.0, 0.0]
    assert r.p_wait.tolist() == [0.0, 0.0]


def test_answer_within_zero_is_allowed():
    r = required_agents(100, 180, sl_target=0.8, answer_within_s=0)
    n = int(r.agents_raw)
    assert 1 - erlang_c(n, 10.0) >= 0.8 > 1 - erlang_c(n - 1, 10.0)
    assert float(r.service_level) == pytest.approx(1 - float(erlang_c(n, 10.0)))


@pytest.mark.parametrize("target", [1.0, 1.2, -0.01, float("nan")])
def test_impossible_sl_target_is_a_clear_error(target):
    with pytest.raises(ValueError, match="Service-level target"):
        required_agents(100, 180, sl_target=target)


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [({"shrinkage": 1.0}, "Shrinkage"), ({"shrinkage": -0.1}, "Shrinkage"), ({"max_occupancy": 0}, "occupancy"),
     ({"max_occupancy": 1.1}, "occupancy"), ({"asa_target_s": 0}, "ASA"), ({"answer_within_s": -1}, "Answer")],
)
def test_invalid_parameters(kwargs, msg):
    with pytest.raises(ValueError, match=msg):
        required_agents(100, 180, **kwargs)


def test_negative_or_non_finite_inputs_rejected():
    with pytest.raises(ValueError):
        required_agents(-1, 180)
    with pytest.raises(ValueError):
        required_agents(10, 0)
    with pytest.raises(ValueError):
        required_agents(np.inf, 180)


def test_asa_target_and_order_of_rules():
    r = required_agents(100, 180, sl_target=None, asa_target_s=5.0)
    n = int(r.agents_raw)
    assert average_speed_of_answer(n, 10.0, 180) <= 5.0 < average_speed_of_answer(n - 1, 10.0, 180)
    assert float(r.asa_seconds) <= 5.0
    both = required_agents(100, 180, sl_target=0.8, asa_target_s=5.0, max_occupancy=0.5, shrinkage=0.3)
    raw = max(14, n, 20)  # SL → 14, ASA → n, occupancy 10 / 0.5 → 20
    assert int(both.agents_raw) == raw
    assert int(both.agents) == -(-raw * 10 // 7)


def test_erlang_b_matches_recursion_and_edge_cases():
    for n, a in [(1, 0.5), (5, 3.0), (14, 10.0), (100, 80.0), (200, 400.0), (10, 1e5), (99_000, 1e5)]:
        assert float(erlang_b(n, a)) == pytest.approx(recursion_b(n, a), rel=1e-8)
    assert float(erlang_b(0, 5.0)) == 1.0
    assert float(erlang_b(3, 0.0)) == 0.0
    assert float(erlang_c(5, 5.0)) == 1.0  # N <= A: everybody waits
    assert float(service_level(5, 6.0, 180, 20)) == 0.0
    assert math.isinf(float(average_speed_of_answer(5, 6.0, 180)))


def test_ten_thousand_erlangs_matches_independent_recursion():
    a = 10_000.0
    r = required_agents(a * 1800 / 180, 180, sl_target=0.8, answer_within_s=20)
    n = int(r.agents_raw)
    assert n == 10_013
    assert recursion_sl(n, a, 180, 20) >= 0.8 > recursion_sl(n - 1, a, 180, 20)
    assert float(r.service_level) == pytest.approx(recursion_sl(n, a, 180, 20), abs=1e-9)


def test_hundred_thousand_erlangs_is_finite_and_stable():
    r = required_agents(1e6, 180, sl_target=0.8, answer_within_s=20)
    assert int(r.agents_raw) > 100_000
    assert np.isfinite(r.service_level).all() and 0.8 <= float(r.service_level) < 0.81
    assert service_level(int(r.agents_raw) - 1, 1e5, 180, 20) < 0.8


def test_vectorised_equals_scalar_calls():
    rng = np.random.default_rng(1)
    calls = rng.integers(0, 600, 60).astype(float)
    aht = rng.integers(60, 600, 60).astype(float)
    vec = required_agents(calls, aht, shrinkage=0.25, max_occupancy=0.9)
    for i in range(60):
        one = required_agents(calls[i], aht[i], shrinkage=0.25, max_occupancy=0.9)
        assert int(one.agents) == vec.agents[i]
        assert float(one.service_level) == pytest.approx(vec.service_level[i])
    assert vec.agents.shape == (60,)


def test_traffic_intensity():
    assert traffic_intensity([100, 0], 180, 1800).tolist() == [10.0, 0.0]


@settings(max_examples=60, deadline=None)
@given(
    calls=st.integers(0, 2000), extra=st.integers(0, 500), aht=st.integers(30, 900),
    sl=st.floats(0.0, 0.99), t=st.integers(0, 120), shrink=st.sampled_from([0.0, 0.1, 0.3, 0.35]),
)
def test_monotonicity(calls, extra, aht, sl, t, shrink):
    base = required_agents(calls, aht, sl_target=sl, answer_within_s=t, shrinkage=shrink)
    more_calls = required_agents(calls + extra, aht, sl_target=sl, answer_within_s=t, shrinkage=shrink)
    longer_aht = required_agents(calls, aht + extra, sl_target=sl, answer_within_s=t, shrinkage=shrink)
    stricter = required_agents(calls, aht, sl_target=min(0.99, sl + 0.05), answer_within_s=t, shrinkage=shrink)
    slower_ok = required_agents(calls, aht, sl_target=sl, answer_within_s=t + 30, shrinkage=shrink)
    more_shrink = required_agents(calls, aht, sl_target=sl, answer_within_s=t, shrinkage=shrink + 0.1)
    n = int(base.agents)
    assert int(more_calls.agents) >= n
    assert int(longer_aht.agents) >= n
    assert int(stricter.agents) >= n
    assert int(slower_ok.agents) <= n
    assert int(more_shrink.agents) >= n
    if calls:
        raw = int(base.agents_raw)
        a = calls * aht / 1800
        assert raw > a and float(base.service_level) >= sl - 1e-12
        if raw - 1 > a:  # minimality: one agent fewer misses the target
            assert service_level(raw - 1, a, aht, t) < sl
