"""Erlang A (M/M/N+M) against an independent discrete-event simulation and known closed forms."""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from scipy import special

from src.models.capacity.erlang import erlang_b, required_agents
from src.models.capacity.erlang_a import erlang_a_metrics, required_agents_erlang_a


def simulate(lam: float, aht: float, patience: float, n: int, t: float, customers: int, seed: int) -> dict:
    """FCFS M/M/n+M: a caller is answered by the first agent to free up unless their patience runs out first."""
    rng = np.random.default_rng(seed)
    arrivals = np.cumsum(rng.exponential(1 / lam, customers))
    service = rng.exponential(aht, customers)
    patience_draw = rng.exponential(patience, customers)
    free = [0.0] * n
    waited = np.zeros(customers)
    abandoned = np.zeros(customers, dtype=bool)
    for i in range(customers):
        start = max(arrivals[i], free[0])
        w = start - arrivals[i]
        if w > patience_draw[i]:
            abandoned[i] = True
            continue
        heapq.heapreplace(free, start + service[i])
        waited[i] = w
    keep = slice(customers // 10, None)  # drop the warm-up
    w, ab = waited[keep], abandoned[keep]
    answered = ~ab
    return {
        "p_wait": float(np.mean(ab | (w > 0))),
        "p_abandon": float(ab.mean()),
        "sl_offered": float(np.mean(answered & (w <= t))),
        "sl_answered": float(np.mean(w[answered] <= t)),
        "asa": float(w[answered].mean()),
    }


@pytest.mark.parametrize(
    ("calls", "aht", "patience", "n", "t"),
    [(100, 180, 120, 9, 20), (300, 240, 300, 38, 15), (60, 300, 600, 8, 30)],
)
def test_matches_discrete_event_simulation(calls, aht, patience, n, t):
    lam = calls / 1800
    sim = simulate(lam, aht, patience, n, t, customers=120_000, seed=11)
    m = erlang_a_metrics(n, calls, aht, patience, interval_seconds=1800, answer_within_s=t)
    ma = erlang_a_metrics(n, calls, aht, patience, interval_seconds=1800, answer_within_s=t, sl_basis="answered")
    # 120k callers (correlated) give standard errors well below 0.01 for these probabilities
    assert float(m.p_wait) == pytest.approx(sim["p_wait"], abs=0.015)
    assert float(m.p_abandon) == pytest.approx(sim["p_abandon"], abs=0.01)
    assert float(m.service_level) == pytest.approx(sim["sl_offered"], abs=0.015)
    assert float(ma.service_level) == pytest.approx(sim["sl_answered"], abs=0.015)
    assert float(m.asa_seconds) == pytest.approx(sim["asa"], rel=0.08, abs=0.5)


def test_abandonment_matches_garnett_mandelbaum_reiman_closed_form():
    calls, aht, patience, n = 100, 180, 120, 9
    lam, mu, theta = calls / 1800, 1 / aht, 1 / patience
    x, y = n * mu / theta, lam / theta
    a_xy = x * np.exp(y) / y**x * special.gamma(x) * special.gammainc(x, y)
    e = float(erlang_b(n, lam / mu))
    p_wait = a_xy * e / (1 + (a_xy - 1) * e)
    rho = lam / (n * mu)
    p_ab = (1 / (rho * a_xy) + 1 - 1 / rho) * p_wait
    m = erlang_a_metrics(n, calls, aht, patience, interval_seconds=1800)
    assert float(m.p_wait) == pytest.approx(p_wait, rel=1e-9)
    assert float(m.p_abandon) == pytest.approx(p_ab, rel=1e-9)
    # occupancy = carried load / N
    assert float(m.occupancy) == pytest.approx(lam * aht * (1 - p_ab) / n, rel=1e-9)


def test_window_sums_agree_with_closed_forms_when_overstaffed():
    # far over-staffed rows use the explicit window; neighbours use the gamma closed forms: results must join up
    ns = np.arange(40, 400, 20)
    m = erlang_a_metrics(ns, 3000, 60, 2000, interval_seconds=1800, answer_within_s=10)
    assert np.all(np.diff(m.service_level) >= -1e-12)
    assert np.all(np.diff(m.p_abandon) <= 1e-15)
    assert np.all(np.isfinite(m.asa_seconds))


def test_requirement_can_be_below_offered_load():
    # very impatient callers: many abandon, so fewer agents than Erlangs reach 50 % in 20 s of offered calls
    r = required_agents_erlang_a(600, 300, 10, sl_target=0.5, answer_within_s=20)
    assert int(r.agents_raw) < float(r.traffic) == 100.0
    n = int(r.agents_raw)
    assert float(r.service_level) >= 0.5
    assert float(erlang_a_metrics(n - 1, 600, 300, 10, answer_within_s=20).service_level) < 0.5


def test_long_patience_approaches_erlang_c():
    a = erlang_a_metrics(14, 100, 180, 1e7, interval_seconds=1800, answer_within_s=20)
    c = required_agents(100, 180)
    assert float(a.service_level) == pytest.approx(float(c.service_level), abs=1e-4)
    assert float(a.asa_seconds) == pytest.approx(float(c.asa_seconds), rel=1e-3)
    assert float(a.p_abandon) < 1e-4


def test_required_agents_rules():
    r = required_agents_erlang_a([0, 100], 180, 120, sl_target=0.8, shrinkage=0.3, max_occupancy=0.85)
    assert r.agents.tolist()[0] == 0 and float(r.service_level[0]) == 1.0
    raw = int(r.agents_raw[1])
    assert float(r.occupancy[1]) <= 0.85
    assert int(r.agents[1]) == -(-raw * 10 // 7)
    capped = required_agents_erlang_a(100, 180, 120, sl_target=None, max_occupancy=0.6)
    n = int(capped.agents_raw)
    assert float(capped.occupancy) <= 0.6 < float(erlang_a_metrics(n - 1, 100, 180, 120).occupancy)
    with pytest.raises(ValueError, match="Service-level"):
        required_agents_erlang_a(100, 180, 120, sl_target=1.0)
    with pytest.raises(ValueError, match="patience"):
        required_agents_erlang_a(100, 180, 0)
    ab = required_agents_erlang_a(100, 180, 120, sl_target=None, abandon_target=0.02)
    n = int(ab.agents_raw)
    assert float(ab.p_abandon) <= 0.02 < float(erlang_a_metrics(n - 1, 100, 180, 120).p_abandon)
    asa = required_agents_erlang_a(100, 180, 120, sl_target=None, asa_target_s=5)
    n = int(asa.agents_raw)
    assert float(asa.asa_seconds) <= 5 < float(erlang_a_metrics(n - 1, 100, 180, 120).asa_seconds)


def test_zero_agents_and_answered_basis():
    m = erlang_a_metrics(0, 100, 180, 120)
    assert float(m.p_abandon) == 1.0 and float(m.service_level) == 0.0
    off = erlang_a_metrics(9, 100, 180, 120)
    ans = erlang_a_metrics(9, 100, 180, 120, sl_basis="answered")
    assert float(ans.service_level) == pytest.approx(float(off.service_level) / (1 - float(off.p_abandon)))
    with pytest.raises(ValueError):
        erlang_a_metrics(9, 100, 180, 120, sl_basis="both")  # type: ignore[arg-type]


def test_huge_traffic_is_stable():
    r = required_agents_erlang_a(1e6, 180, 600, sl_target=0.8)  # 100,000 Erlangs
    assert np.isfinite(r.service_level).all() and float(r.service_level) >= 0.8
    n = int(r.agents_raw)
    # overloaded (N < A): the fluid limit says P(abandon) ≈ 1 − N/A and the wait of answered calls ≈ ln(A/N)·patience
    assert n < 100_000
    assert float(r.p_abandon) == pytest.approx(1 - n / 100_000, abs=1e-3)
    assert float(r.asa_seconds) == pytest.approx(np.log(100_000 / n) * 600, rel=0.02)
    assert float(erlang_a_metrics(n - 1, 1e6, 180, 600).service_level) < 0.8
