"""Seeded, deterministic demo data: realistic history for a contact centre and five care homes.

Why this exists: the product must be explorable (and testable end to end) without anyone's real
data. The generated frames therefore have to look like genuine exports — closed hours really
missing, holidays, weekday-specific intraday profiles, trend, noise, an outage — and the people
data has to carry a learnable signal (a hidden logistic "ground truth") for the ranking models,
without information from the future leaking into earlier rows.

Everything is derived from ``DemoConfig.seed`` through independent ``numpy`` streams (one per
dataset kind), so the same seed gives byte-identical CSV output and changing, say, the number of
assignments does not change the workload history. All heavy lifting is vectorised; only the
overtime request loop (~1k iterations, sequential by nature: recent overtime load depends on
earlier acceptances) and the per-person staff loop run in Python.

Public API: :class:`DemoConfig`, :func:`generate_demo`, :func:`sample_frames`, :func:`write_demo`,
:func:`write_samples`, :func:`demo_outage`, :func:`frame_to_csv_bytes`, :func:`parse_skills`, the
hidden ground truths :func:`assignment_success_logit` / :func:`overtime_accept_logit`, and the
constants ``CC_QUEUES``, ``CARE_HOMES``, ``TASK_TYPES``, ``SHIFT_TYPES``, ``SAMPLE_FILES``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import holidays as holidays_lib
import numpy as np
import pandas as pd

from src.data.kinds import DEFAULT_TIMEZONE, KINDS

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float, str], None]

# --------------------------------------------------------------------------------------------
# Fixed world: sites, units, queues, skills, task types, names
# --------------------------------------------------------------------------------------------

CC_SITE_DEFAULT = "CC-Berlin"
CC_QUEUES: tuple[str, ...] = ("calls", "emails", "outbound_OOK", "outbound_OMK", "outbound_NB")

#: care homes and their units (40 units in total); names use umlauts on purpose (encodings).
CARE_HOMES: dict[str, tuple[str, ...]] = {
    "Haus Lindenhof": (
        "Wohnbereich Rosengarten", "Wohnbereich Fliederweg", "Wohnbereich Ahornhain", "Wohnbereich Sonnenblick",
        "Station Demenz 1", "Station Demenz 2", "Wohnbereich Gartenblick", "Kurzzeitpflege",
    ),
    "Seniorenzentrum Am Park": tuple(f"Station {i}" for i in range(1, 10)),
    "Pflegeheim Sonnenhof": tuple(f"Wohnbereich {c}" for c in "ABCDEFG"),
    "Haus Abendrot": (
        "Wohnbereich Lärche", "Wohnbereich Birke", "Wohnbereich Eiche", "Wohnbereich Linde",
        "Wohnbereich Kastanie", "Beschützender Bereich",
    ),
    "Wohnstift Müggelsee": (
        "Station Seeblick", "Station Uferweg", "Station Kiefernhain", "Station Schilfgrund", "Station Möwennest",
        "Palliativstation", "Station Waldrand", "Station Bootshaus", "Station Dorfaue", "Station Fischerhütte",
    ),
}

CARE_SKILLS: tuple[str, ...] = ("wound_care", "dementia", "medication", "palliative", "mobility", "documentation")
CC_SKILLS: tuple[str, ...] = ("calls", "emails", "outbound", "complaints")
ALL_SKILLS: tuple[str, ...] = CARE_SKILLS + CC_SKILLS

#: task type -> (sector, required skill, difficulty 0..1, hours low, hours high, relative frequency)
TASK_TYPES: dict[str, tuple[str, str, float, float, float, float]] = {
    "medication_round": ("care", "medication", 0.35, 1.0, 2.0, 0.22),
    "wound_dressing": ("care", "wound_care", 0.60, 0.5, 1.0, 0.16),
    "dementia_care": ("care", "dementia", 0.55, 1.0, 3.0, 0.18),
    "palliative_care": ("care", "palliative", 0.90, 2.0, 4.0, 0.08),
    "mobilisation": ("care", "mobility", 0.20, 0.5, 1.5, 0.20),
    "care_documentation": ("care", "documentation", 0.10, 0.5, 1.0, 0.16),
    "callback": ("cc", "calls", 0.30, 0.25, 1.0, 0.40),
    "complaint": ("cc", "complaints", 0.80, 0.5, 2.0, 0.15),
    "email_backlog": ("cc", "emails", 0.20, 2.0, 4.0, 0.25),
    "outbound_campaign": ("cc", "outbound", 0.50, 3.0, 6.0, 0.20),
}

#: shift type -> (start hour as float, paid hours)
SHIFT_TYPES: dict[str, tuple[float, float]] = {"early": (6.0, 8.0), "late": (14.0, 8.0), "night": (21.5, 9.0)}

FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Maria", "Sabine", "Petra", "Claudia", "Monika", "Ursula", "Katrin", "Julia", "Laura", "Lena", "Sarah",
    "Lisa", "Nicole", "Stefanie", "Andrea", "Birgit", "Heike", "Sandra", "Melanie", "Jana", "Marie", "Sophie",
    "Hannah", "Emma", "Leonie", "Elif", "Olga", "Katarzyna", "Ivana", "Thomas", "Michael", "Andreas", "Stefan",
    "Markus", "Christian", "Frank", "Jürgen", "Klaus", "Peter", "Matthias", "Daniel", "Tobias", "Jan", "Lukas",
    "Felix", "Jonas", "Florian", "Sebastian", "Alexander", "Dirk", "Uwe", "Ralf", "Sven", "Tim", "Niklas", "Paul",
    "Max", "Mehmet", "René",
)
LAST_NAMES: tuple[str, ...] = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Neumann", "Schwarz", "Zimmermann",
    "Braun", "Krüger", "Hofmann", "Hartmann", "Lange", "Schmitt", "Werner", "Schmitz", "Krause", "Meier",
    "Lehmann", "Schmid", "Schulze", "Maier", "Köhler", "Herrmann", "König", "Walter", "Mayer", "Huber", "Kaiser",
    "Fuchs", "Peters", "Lang", "Scholz", "Möller", "Weiß", "Jung", "Hahn", "Schubert", "Vogel", "Friedrich",
    "Keller", "Günther", "Berger", "Winkler", "Roth", "Beck", "Lorenz", "Yilmaz", "Wójcik", "Nowak", "Popescu",
    "Demir",
)

# Intraday call profiles (relative to the weekday's peak level), hours 0..23; 0 = closed.
_CALLS_TUE_THU = {8: 0.55, 9: 0.85, 10: 1.0, 11: 0.97, 12: 0.82, 13: 0.78, 14: 0.88, 15: 0.86, 16: 0.78,
                  17: 0.66, 18: 0.50, 19: 0.36}
_CALLS_MON = {8: 0.78, 9: 1.12, 10: 1.20, 11: 1.08, 12: 0.88, 13: 0.80, 14: 0.84, 15: 0.80, 16: 0.72,
              17: 0.60, 18: 0.45, 19: 0.32}
_CALLS_FRI = {8: 0.60, 9: 0.90, 10: 1.0, 11: 0.95, 12: 0.80, 13: 0.68, 14: 0.60, 15: 0.50, 16: 0.41,
              17: 0.33, 18: 0.25, 19: 0.18}
_CALLS_SAT = {9: 0.50, 10: 0.66, 11: 0.70, 12: 0.60, 13: 0.45}
_EMAILS = (0.08, 0.06, 0.05, 0.05, 0.06, 0.10, 0.18, 0.35, 0.70, 0.95, 1.0, 0.95, 0.80, 0.85, 0.90, 0.85, 0.75,
           0.60, 0.50, 0.45, 0.40, 0.33, 0.25, 0.15)
_OUTBOUND = {10: 0.80, 11: 1.0, 12: 0.85, 13: 0.75, 14: 0.95, 15: 1.0, 16: 0.90, 17: 0.70}

_STREAMS = {"workload": 1, "unit_shifts": 2, "staff": 3, "assignments": 4, "overtime": 5, "outage": 6, "layout": 7,
            "roster": 8}


def _profile(d: dict[int, float]) -> np.ndarray:
    arr = np.zeros(24)
    for h, v in d.items():
        arr[h] = v
    return arr


#: weekday (0 = Monday) x hour relative call intensity
CALL_PROFILE = np.vstack([
    _profile(_CALLS_MON), _profile(_CALLS_TUE_THU), _profile(_CALLS_TUE_THU), _profile(_CALLS_TUE_THU),
    _profile(_CALLS_FRI), _profile(_CALLS_SAT), np.zeros(24),
])


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoConfig:
    """Parameters of the demo world. Same config → identical frames (and byte-identical CSVs).

    ``end`` is the last day of history (inclusive); history starts ``ceil(365.25 * years)`` days
    earlier, so ``years=2`` really covers two full years.
    """

    seed: int = 42
    end: date = date(2026, 10, 31)
    years: float = 2.0
    n_staff: int = 150
    n_assignments: int = 12_000
    n_overtime_requests: int = 900
    overtime_years: float = 1.0
    cc_site: str = CC_SITE_DEFAULT
    holiday_subdiv: str = "BE"
    trend_per_year: float = 0.08
    outage: bool = True
    #: weeks of published roster after the history (from the first Monday after ``end``); 0 = no roster
    roster_weeks: int = 13

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {self.seed!r}")
        if isinstance(self.end, datetime) or not isinstance(self.end, date):
            raise ValueError(f"end must be a datetime.date (not a datetime), got {self.end!r}")
        if not (0 < self.years <= 20):
            raise ValueError(f"years must be in (0, 20], got {self.years}")
        if not (0 < self.overtime_years <= self.years):
            raise ValueError(f"overtime_years must be in (0, years], got {self.overtime_years}")
        if self.n_staff < 12:
            raise ValueError(f"n_staff must be >= 12 (every site needs people), got {self.n_staff}")
        if self.n_assignments < 0 or self.n_overtime_requests < 0:
            raise ValueError("n_assignments and n_overtime_requests must be >= 0")
        if not (-0.5 < self.trend_per_year < 1.0):
            raise ValueError(f"trend_per_year must be in (-0.5, 1.0), got {self.trend_per_year}")
        if isinstance(self.roster_weeks, bool) or not isinstance(self.roster_weeks, int) \
                or not 0 <= self.roster_weeks <= 104:
            raise ValueError(f"roster_weeks must be an int in [0, 104], got {self.roster_weeks!r}")
        if not self.cc_site.strip() or self.cc_site in CARE_HOMES:
            raise ValueError(f"cc_site must be a non-empty name distinct from the care homes, got {self.cc_site!r}")

    @property
    def start(self) -> date:
        """First day of history (inclusive)."""
        return self.end - timedelta(days=math.ceil(365.25 * self.years))

    @property
    def overtime_start(self) -> date:
        """First day of the overtime history (inclusive)."""
        return self.end - timedelta(days=math.ceil(365.25 * self.overtime_years))

    @property
    def roster_start(self) -> date:
        """First day of the demo roster: the first Monday after the history ends."""
        return self.end + timedelta(days=7 - self.end.weekday())


def _rng(config: DemoConfig, stream: str) -> np.random.Generator:
    """Independent generator per dataset so the kinds do not disturb each other's randomness."""
    return np.random.default_rng(np.random.SeedSequence(entropy=config.seed, spawn_key=(_STREAMS[stream],)))


def _holiday_set(config: DemoConfig, first: date, last: date) -> set[date]:
    hol = holidays_lib.country_holidays("DE", subdiv=config.holiday_subdiv, years=range(first.year, last.year + 1))
    return {d for d in hol if first <= d <= last}


def _days(config: DemoConfig, first: date | None = None) -> pd.DatetimeIndex:
    return pd.date_range(pd.Timestamp(first or config.start), pd.Timestamp(config.end), freq="D")


def _progress(on_progress: ProgressCallback | None, fraction: float, text: str) -> None:
    if on_progress is not None:
        on_progress(min(max(fraction, 0.0), 1.0), text)


# --------------------------------------------------------------------------------------------
# Workload (contact centre, hourly)
# --------------------------------------------------------------------------------------------


def demo_outage(config: DemoConfig | None = None) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The telephony outage built into the workload: ``(start, end)`` with ``end`` exclusive.

    Calls drop to near zero inside the window, the next three open hours carry a catch-up bump
    and e-mails rise while the phones are down. ``None`` when ``config.outage`` is False.
    """
    config = config or DemoConfig()
    if not config.outage:
        return None
    rng = _rng(config, "outage")
    days = _days(config)
    hol = _holiday_set(config, config.start, config.end)
    margin = min(60, len(days) // 4)
    cand = [d for d in days[margin: len(days) - margin] if d.dayofweek < 5 and d.date() not in hol]
    if not cand:
        cand = [d for d in days if d.dayofweek < 5 and d.date() not in hol] or list(days)
    day = cand[int(rng.integers(len(cand)))]
    start_hour = int(rng.integers(9, 13))  # 9..12
    length = int(rng.integers(3, 6))  # 3..5 hours -> ends at 17:00 latest, catch-up fits before 20:00
    start = day + pd.Timedelta(hours=start_hour)
    return start, start + pd.Timedelta(hours=length)


def _nb_counts(rng: np.random.Generator, mu: np.ndarray, shape_k: float) -> np.ndarray:
    """Negative-binomial counts as a gamma-Poisson mixture (overdispersed, like real arrivals)."""
    lam = mu * rng.gamma(shape_k, 1.0 / shape_k, size=mu.shape)
    return rng.poisson(lam).astype(np.int64)


def _generate_workload(config: DemoConfig) -> pd.DataFrame:
    rng = _rng(config, "workload")
    days = _days(config)
    n_days = len(days)
    hol = _holiday_set(config, config.start, config.end)
    is_hol = np.array([d.date() in hol for d in days])
    wd = days.dayofweek.to_numpy()
    doy = days.dayofyear.to_numpy().astype(float)
    t_years = (days - days[0]).days.to_numpy() / 365.25
    trend = (1.0 + config.trend_per_year) ** t_years

    # yearly pattern: winter high, August holiday dip, quiet days between Christmas and New Year,
    # January catch-up, plus a bump on the first open day after a public holiday
    season = (1.0 + 0.08 * np.cos(2 * np.pi * (doy - 20) / 365.25)
              - 0.10 * np.exp(-(((doy - 220) / 18.0) ** 2)))
    month, dom = days.month.to_numpy(), days.day.to_numpy()
    season = np.where((month == 12) & (dom >= 20), season * 0.80, season)
    season = np.where((month == 1) & (dom >= 2) & (dom <= 10), season * 1.12, season)
    after_hol = np.zeros(n_days, dtype=bool)
    pending = False
    for i in range(n_days):  # one pass over days (~730), not rows
        if is_hol[i] or wd[i] == 6:
            pending = pending or (is_hol[i] and wd[i] < 6)  # a holiday on a Sunday closes nothing extra
        elif pending:
            after_hol[i] = True
            pending = False
    season = np.where(after_hol, season * 1.18, season)

    hours = np.arange(24)
    ts = days.to_numpy()[:, None] + (hours * np.timedelta64(1, "h"))[None, :]
    out_win = demo_outage(config)
    frames: list[pd.DataFrame] = []
    # local times that exist (02:00 on the spring-forward day does not; validation refuses it like an export would)
    clock_shows = ~pd.DatetimeIndex(ts.ravel()).tz_localize(
        DEFAULT_TIMEZONE, ambiguous=np.zeros(ts.size, dtype=bool), nonexistent="NaT").isna()

    for q in CC_QUEUES:
        day_noise = np.exp(rng.normal(0.0, 0.06, size=(n_days, 1)))
        if q == "calls":
            weekday_level = np.array([1.0, 1.0, 0.98, 0.97, 0.92, 0.85, 0.0])[wd]  # Monday's peak is in its profile
            mu = 175.0 * CALL_PROFILE[wd] * weekday_level[:, None]
            open_mask = (CALL_PROFILE[wd] > 0) & ~is_hol[:, None]
            mu = mu * (season * trend)[:, None] * day_noise
            k_shape = 60.0
            aht = (255.0 + 70.0 * np.clip((hours - 8) / 11.0, 0, 1))[None, :] + np.where(wd == 0, 10.0, 0.0)[:, None]
            aht = aht + np.where(wd == 5, 15.0, 0.0)[:, None]
            aht = aht * (1.0 - 0.02 * t_years)[:, None] + rng.normal(0.0, 7.0, size=(n_days, 24))
            aht = np.clip(aht, 200.0, 380.0)
        elif q == "emails":
            weekday_level = np.array([1.20, 1.0, 1.0, 0.98, 0.90, 0.45, 0.40])[wd]
            weekday_level = np.where(is_hol, 0.45, weekday_level)
            mu = 60.0 * np.array(_EMAILS)[None, :] * weekday_level[:, None]
            mu = mu * (season * trend)[:, None] * day_noise
            open_mask = np.ones((n_days, 24), dtype=bool)
            k_shape = 25.0
            aht = 480.0 + rng.normal(0.0, 30.0, size=(n_days, 24))
            aht = np.clip(aht, 300.0, 720.0)
        else:
            level = {"outbound_OOK": 32.0, "outbound_OMK": 18.0, "outbound_NB": 12.0}[q]
            base_aht = {"outbound_OOK": 210.0, "outbound_OMK": 240.0, "outbound_NB": 260.0}[q]
            # campaigns switch on and off: a slowly moving weekly intensity between ~0.4 and ~1.3
            n_weeks = n_days // 7 + 2
            walk = np.cumsum(rng.normal(0.0, 0.12, size=n_weeks))
            walk = 0.85 + 0.45 * np.tanh(walk - walk.mean())
            campaign = walk[np.arange(n_days) // 7]
            prof = _profile(_OUTBOUND)
            open_mask = (wd < 5)[:, None] & ~is_hol[:, None] & (prof > 0)[None, :]
            mu = level * prof[None, :] * (campaign * trend)[:, None] * day_noise
            k_shape = 15.0
            aht = base_aht + rng.normal(0.0, 12.0, size=(n_days, 24))
            aht = np.clip(aht, 120.0, 420.0)

        if out_win is not None:
            in_out = (ts >= np.datetime64(out_win[0])) & (ts < np.datetime64(out_win[1]))
            if q == "calls":
                mu = np.where(in_out, mu * 0.03, mu)
                end64 = np.datetime64(out_win[1])
                for lag, bump in enumerate((1.45, 1.25, 1.10)):
                    mu = np.where(ts == end64 + np.timedelta64(lag, "h"), mu * bump, mu)
            elif q == "emails":
                mu = np.where(in_out, mu * 1.30, mu)

        vol = _nb_counts(rng, mu, k_shape)
        sel = open_mask.ravel() & clock_shows  # a 24/7 queue has no row in the hour the clocks skip
        frames.append(pd.DataFrame({
            "timestamp": ts.ravel()[sel],
            "queue": q,
            "volume": vol.ravel()[sel],
            "site": config.cc_site,
            "aht_seconds": np.round(aht.ravel()[sel], 1),
        }))

    df = pd.concat(frames, ignore_index=True)
    df = df.sort_values(["timestamp", "queue"], kind="mergesort").reset_index(drop=True)
    df["timestamp"] = df["timestamp"].astype("datetime64[ns]")
    df["volume"] = df["volume"].astype(np.int64)
    return df[KINDS["workload"].column_names]


# --------------------------------------------------------------------------------------------
# Unit shifts (care homes, daily)
# --------------------------------------------------------------------------------------------


def _unit_table(config: DemoConfig) -> pd.DataFrame:
    """Sites, units and each unit's base daily shift count (3..9, by unit size)."""
    rng = _rng(config, "layout")
    rows = [(site, unit) for site, units in CARE_HOMES.items() for unit in units]
    base = rng.uniform(3.6, 8.6, size=len(rows))
    return pd.DataFrame({"site": [r[0] for r in rows], "unit": [r[1] for r in rows], "base": base})


def _generate_unit_shifts(config: DemoConfig) -> pd.DataFrame:
    rng = _rng(config, "unit_shifts")
    units = _unit_table(config)
    days = _days(config)
    n_days, n_units = len(days), len(units)
    hol = _holiday_set(config, config.start, config.end)
    special = hol | {date(y, 12, 24) for y in range(config.start.year, config.end.year + 1)}
    is_hol = np.array([d.date() in special for d in days])
    wd = days.dayofweek.to_numpy()
    doy = days.dayofyear.to_numpy().astype(float)
    t_years = (days - days[0]).days.to_numpy() / 365.25

    weekday = np.array([1.02, 1.02, 1.01, 1.01, 1.0, 0.90, 0.86])[wd]
    flu = 1.0 + 0.11 * np.clip(np.cos(2 * np.pi * (doy - 30) / 365.25), 0, None) ** 2
    holiday = np.where(is_hol, 0.88, 1.0)
    trend = (1.0 + config.trend_per_year / 4.0) ** t_years
    unit_drift = np.cumsum(rng.normal(0.0, 0.004, size=(n_days, n_units)), axis=0)  # occupancy wanders slowly
    mu = units["base"].to_numpy()[None, :] * (weekday * flu * holiday * trend)[:, None] * np.exp(unit_drift)
    noise = rng.normal(0.0, 1.0, size=mu.shape) * (0.30 + 0.06 * mu)
    shifts = np.clip(np.rint(mu + noise), 1, None).astype(np.int64)

    df = pd.DataFrame({
        "date": np.repeat(days.to_numpy(), n_units),
        "site": np.tile(units["site"].to_numpy(), n_days),
        "unit": np.tile(units["unit"].to_numpy(), n_days),
        "shifts": shifts.ravel(),
    })
    df["date"] = df["date"].astype("datetime64[ns]")
    return df[KINDS["unit_shifts"].column_names]


# --------------------------------------------------------------------------------------------
# Staff
# --------------------------------------------------------------------------------------------


def _allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Largest-remainder split of ``total`` by ``weights`` with at least 1 per bucket."""
    w = np.asarray(weights, dtype=float)
    raw = w / w.sum() * (total - len(w))
    base = np.floor(raw).astype(int)
    rest = total - len(w) - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return [int(b) + 1 for b in base]


def _skills_for(rng: np.random.Generator, role: str, exp_years: float) -> dict[str, int]:
    if role == "Pflegefachkraft":
        have = ["medication", "documentation"] + [s for s, p in
                                                  (("wound_care", 0.6), ("dementia", 0.5), ("palliative", 0.3),
                                                   ("mobility", 0.4)) if rng.random() < p]
        base = 2.3
    elif role == "Pflegehelfer":
        have = ["mobility"] + [s for s, p in (("dementia", 0.5), ("wound_care", 0.15), ("documentation", 0.3),
                                              ("palliative", 0.15)) if rng.random() < p]
        base = 1.6
    elif role == "Wohnbereichsleitung":
        have = ["medication", "documentation", "wound_care", "dementia"] + [
            s for s, p in (("palliative", 0.5), ("mobility", 0.3)) if rng.random() < p]
        base = 2.8
    elif role == "Agent":
        have = ["calls"] + [s for s, p in (("emails", 0.6), ("outbound", 0.45), ("complaints", 0.15))
                            if rng.random() < p]
        base = 1.6
    elif role == "Senior Agent":
        have = ["calls", "emails", "complaints"] + (["outbound"] if rng.random() < 0.6 else [])
        base = 2.3
    else:  # Team Lead
        have = list(CC_SKILLS)
        base = 2.8
    levels = {}
    for s in sorted(have, key=ALL_SKILLS.index):
        levels[s] = int(np.clip(np.rint(base + 0.25 * min(exp_years, 8.0) + rng.normal(0.0, 0.8)), 1, 5))
    return levels


def _generate_staff(config: DemoConfig) -> pd.DataFrame:
    rng = _rng(config, "staff")
    homes = list(CARE_HOMES)
    n_cc = max(3, round(0.3 * config.n_staff))
    care_counts = _allocate(config.n_staff - n_cc, [len(CARE_HOMES[h]) for h in homes])
    end_ts = pd.Timestamp(config.end)
    lead_min_years = min(config.years + 0.25, 9.5)

    people: list[dict[str, object]] = []
    # contact centre
    n_tl = max(1, round(n_cc / 12))
    n_senior = max(1, round(0.2 * n_cc))
    cc_roles = ["Team Lead"] * n_tl + ["Senior Agent"] * n_senior + ["Agent"] * (n_cc - n_tl - n_senior)
    site_roles: list[tuple[str, str]] = [(config.cc_site, r) for r in cc_roles]
    for home, cnt in zip(homes, care_counts, strict=True):
        rest = ["Pflegefachkraft" if rng.random() < 0.5 else "Pflegehelfer" for _ in range(cnt - 1)]
        site_roles += [(home, "Wohnbereichsleitung")] + [(home, r) for r in rest]

    for site, role in site_roles:
        if role in ("Team Lead", "Wohnbereichsleitung"):
            years_ago = rng.uniform(lead_min_years, 10.0)  # leads were there before the history starts
        elif role == "Senior Agent":
            years_ago = rng.uniform(1.5, 10.0)
        else:
            years_ago = rng.uniform(30 / 365.25, 10.0)
        hire = (end_ts - pd.Timedelta(days=int(years_ago * 365.25))).normalize()
        exp_years = (end_ts - hire).days / 365.25
        skills = _skills_for(rng, role, exp_years)
        part_time = rng.random() < (0.35 if site != config.cc_site else 0.30)
        hours = float(rng.choice([20.0, 25.0, 30.0])) if part_time else float(rng.choice([38.5, 40.0]))
        ot_willing = bool(rng.random() < 0.70)
        if site == config.cc_site:
            preferred = [site]
        else:
            preferred = [site]
            if rng.random() < 0.4:
                others = [h for h in homes if h != site]
                preferred.append(others[int(rng.integers(len(others)))])  # own home first
        people.append({
            "site": site, "role": role, "hire_date": hire,
            "skills": "|".join(f"{k}:{v}" for k, v in skills.items()),
            "contract_hours": hours, "ot_willing": ot_willing, "preferred_sites": "|".join(preferred),
        })

    name_idx = rng.choice(len(FIRST_NAMES) * len(LAST_NAMES), size=len(people), replace=False)
    for p, k in zip(people, name_idx, strict=True):
        p["name"] = f"{FIRST_NAMES[k // len(LAST_NAMES)]} {LAST_NAMES[k % len(LAST_NAMES)]}"
    df = pd.DataFrame(people)
    # personnel numbers are handed out in order of hiring, like in a real HR system
    df = df.sort_values(["hire_date", "name"], kind="mergesort").reset_index(drop=True)
    df["staff_id"] = [f"S{i + 1:04d}" for i in range(len(df))]
    df["hire_date"] = df["hire_date"].astype("datetime64[ns]")
    df["contract_hours"] = df["contract_hours"].astype(float)
    df["ot_willing"] = df["ot_willing"].astype(bool)
    return df[KINDS["staff"].column_names]


def parse_skills(cell: str) -> dict[str, int]:
    """``"calls:4|emails:3"`` → ``{"calls": 4, "emails": 3}`` (a bare name counts as level 1)."""
    out: dict[str, int] = {}
    for tok in str(cell).replace(";", "|").replace(",", "|").split("|"):
        tok = tok.strip()
        if not tok:
            continue
        name, _, lvl = tok.partition(":")
        out[name.strip()] = int(lvl) if lvl.strip() else 1
    return out


def _skill_matrix(staff: pd.DataFrame) -> np.ndarray:
    """``[n_staff, len(ALL_SKILLS)]`` skill levels, 0 = skill missing."""
    mat = np.zeros((len(staff), len(ALL_SKILLS)), dtype=np.int64)
    for i, cell in enumerate(staff["skills"].to_numpy()):
        for name, lvl in parse_skills(cell).items():
            if name in ALL_SKILLS:
                mat[i, ALL_SKILLS.index(name)] = lvl
    return mat


# --------------------------------------------------------------------------------------------
# Assignments (task x person, with a hidden ground-truth success model)
# --------------------------------------------------------------------------------------------


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def assignment_success_logit(
    has_skill: np.ndarray, level: np.ndarray, difficulty: np.ndarray, exp_years: np.ndarray,
    recent_load: np.ndarray, priority: np.ndarray, slack_hours: np.ndarray, site_mismatch: np.ndarray,
    late_hour: np.ndarray,
) -> np.ndarray:
    """The hidden ground truth behind assignment outcomes (log-odds of success).

    Exposed so tests and benchmarks can compare a learned ranker with the best achievable one.
    Non-linear on purpose (interaction of difficulty and level, overload threshold, deadline
    pressure), so a simple "has the skill" rule cannot capture all of it. ``recent_load`` is the
    number of tasks the person was given in the 7 days before, scaled to a full-time contract
    (38.5 h); ``slack_hours`` = hours until due minus the task's effort; ``priority`` 1 = most urgent.
    """
    has = has_skill.astype(float)
    return (
        0.85
        + 1.10 * has
        + 0.30 * (level - 3.0) * has
        - 1.80 * difficulty
        + 1.00 * difficulty * has * (level - 1.0) / 4.0
        + 0.60 * np.tanh(exp_years / 3.0)
        - 0.40 * np.clip(recent_load - 1.5, 0.0, None)
        + 0.12 * (priority - 3.0)
        - 0.90 * np.exp(-np.clip(slack_hours, 0.0, None) / 6.0)
        - 0.45 * site_mismatch.astype(float)
        - 0.25 * late_hour.astype(float)
    )


def _generate_assignments(config: DemoConfig, staff: pd.DataFrame) -> pd.DataFrame:
    cols = KINDS["assignments"].column_names
    n = config.n_assignments
    if n == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            cols, ["object", "object", "object", "int64", "datetime64[ns]", "datetime64[ns]", "object", "object",
                   "object", "float64"], strict=True)})
    rng = _rng(config, "assignments")
    homes = list(CARE_HOMES)
    days = _days(config)
    hol = _holiday_set(config, config.start, config.end)
    is_hol = np.array([d.date() in hol for d in days])
    wd = days.dayofweek.to_numpy()
    t_years = (days - days[0]).days.to_numpy() / 365.25

    staff_site = staff["site"].to_numpy()
    is_cc_staff = staff_site == config.cc_site
    sector_share = float(is_cc_staff.mean())
    sector_cc = rng.random(n) < sector_share

    # day of the task: care every day (weekend lighter), contact centre Mon-Sat and not on holidays
    growth = (1.0 + config.trend_per_year / 2.0) ** t_years
    w_care = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.7, 0.6])[wd] * growth
    w_cc = np.where(is_hol, 0.0, np.array([1.1, 1.0, 1.0, 1.0, 0.9, 0.4, 0.0])[wd]) * growth
    day_idx = np.where(
        sector_cc,
        rng.choice(len(days), size=n, p=w_cc / w_cc.sum()),
        rng.choice(len(days), size=n, p=w_care / w_care.sum()),
    )
    minute = np.where(sector_cc, rng.integers(8 * 60, 20 * 60, size=n), rng.integers(6 * 60, 21 * 60, size=n))
    assigned = days.to_numpy()[day_idx] + minute.astype("timedelta64[m]")

    # site of the task (care: by number of carers at the home)
    care_sites = np.array(homes)
    carer_counts = np.array([(staff_site == h).sum() for h in homes], dtype=float)
    task_site = np.where(sector_cc, config.cc_site,
                         care_sites[rng.choice(len(homes), size=n, p=carer_counts / carer_counts.sum())])

    # task type and attributes
    types = list(TASK_TYPES)
    care_types = [t for t in types if TASK_TYPES[t][0] == "care"]
    cc_types = [t for t in types if TASK_TYPES[t][0] == "cc"]
    p_care = np.array([TASK_TYPES[t][5] for t in care_types])
    p_cc = np.array([TASK_TYPES[t][5] for t in cc_types])
    task_type = np.where(sector_cc, np.array(cc_types)[rng.choice(len(cc_types), size=n, p=p_cc / p_cc.sum())],
                         np.array(care_types)[rng.choice(len(care_types), size=n, p=p_care / p_care.sum())])
    req_skill = np.array([TASK_TYPES[t][1] for t in task_type])
    difficulty = np.array([TASK_TYPES[t][2] for t in task_type])
    lo = np.array([TASK_TYPES[t][3] for t in task_type])
    hi = np.array([TASK_TYPES[t][4] for t in task_type])
    hours = np.round(rng.uniform(lo, hi) * 4.0) / 4.0
    priority = rng.choice(np.arange(1, 6), size=n, p=[0.10, 0.20, 0.35, 0.20, 0.15])  # 1 = most urgent
    lead_lo = np.array([1.0, 4.0, 24.0, 48.0, 120.0])[priority - 1]
    lead_hi = np.array([6.0, 24.0, 72.0, 168.0, 336.0])[priority - 1]
    lead_h = rng.uniform(lead_lo, lead_hi)
    due = assigned + np.rint(lead_h * 60.0).astype("timedelta64[m]")
    # a deadline inside the hour the clocks skip in spring reads one hour later on the clock (no clock shows 02:12)
    due = pd.DatetimeIndex(due).tz_localize(DEFAULT_TIMEZONE, ambiguous=np.zeros(len(due), dtype=bool),
                                            nonexistent=pd.Timedelta(hours=1)).tz_localize(None).to_numpy()

    # who got it: a historical dispatcher (prefers same-site skill holders and its "go-to" people,
    # gives part-timers less; ignores current load and skill level)
    skill_idx = np.array([ALL_SKILLS.index(s) for s in req_skill])
    skills = _skill_matrix(staff)
    hire = staff["hire_date"].to_numpy()
    staff_home_idx = np.array([homes.index(s) if s in homes else -1 for s in staff_site])
    task_home_idx = np.array([homes.index(s) if s in homes else -1 for s in task_site])
    is_lead = staff["role"].isin(["Team Lead", "Wohnbereichsleitung"]).to_numpy()
    favour = rng.normal(0.0, 0.6, size=len(staff)) + np.log(staff["contract_hours"].to_numpy() / 38.5)
    chosen = np.empty(n, dtype=np.int64)
    chunk = 2000
    for a in range(0, n, chunk):
        b = min(n, a + chunk)
        same_sector = sector_cc[a:b, None] == is_cc_staff[None, :]
        same_site = task_home_idx[a:b, None] == staff_home_idx[None, :]
        has = skills[:, skill_idx[a:b]].T > 0
        logw = np.where(same_site, 0.0, np.log(0.06)) + np.where(has, np.log(3.0), 0.0)
        logw = logw + (np.where(is_lead, np.log(0.3), 0.0) + favour)[None, :]
        hired = hire[None, :] <= assigned[a:b, None]
        score = logw + rng.gumbel(size=logw.shape)
        ok = same_sector & hired
        fallback = same_sector & ~ok.any(axis=1, keepdims=True)  # nobody hired yet: take anyone in the sector
        score = np.where(ok | fallback, score, -np.inf)
        chosen[a:b] = np.argmax(score, axis=1)

    # features at assignment time (only the past is used: load counts earlier tasks only)
    t_min = ((assigned - assigned.min()) // np.timedelta64(1, "m")).astype(np.int64)
    order = np.lexsort((t_min, chosen))
    big = np.int64(10**9)
    keys = chosen[order] * big + t_min[order]
    cur = np.searchsorted(keys, keys, side="left")
    past = np.searchsorted(keys, keys - 7 * 24 * 60, side="left")
    recent_tasks = np.empty(n)
    recent_tasks[order] = cur - past  # tasks given to the same person in the 7 days before (strictly earlier)
    contract = staff["contract_hours"].to_numpy()[chosen]
    recent_load = recent_tasks * 38.5 / np.maximum(contract, 1.0)
    level = skills[chosen, skill_idx].astype(float)
    has_skill = level > 0
    exp_years = (assigned - hire[chosen]) / np.timedelta64(1, "D") / 365.25
    site_mismatch = staff_site[chosen] != task_site
    slack = lead_h - hours
    late = (minute >= 18 * 60)
    z = assignment_success_logit(has_skill, level, difficulty, np.clip(exp_years, 0.0, None), recent_load,
                                 priority.astype(float), slack, site_mismatch, late)
    success = rng.random(n) < _sigmoid(z)

    df = pd.DataFrame({
        "assigned_at": assigned.astype("datetime64[ns]"),
        "staff_id": staff["staff_id"].to_numpy()[chosen],
        "task_type": task_type,
        "priority": priority.astype(np.int64),
        "due": due.astype("datetime64[ns]"),
        "outcome": np.where(success, "success", "failure"),
        "site": task_site,
        "required_skill": req_skill,
        "hours": hours.astype(float),
    })
    df = df.sort_values(["assigned_at", "staff_id", "task_type"], kind="mergesort").reset_index(drop=True)
    df["task_id"] = [f"T{i + 1:06d}" for i in range(len(df))]
    for c in ("staff_id", "task_type", "outcome", "site", "required_skill"):
        df[c] = df[c].astype(object)
    return df[cols]


# --------------------------------------------------------------------------------------------
# Overtime (request x contacted person)
# --------------------------------------------------------------------------------------------


def overtime_accept_logit(
    willing: np.ndarray, recent_ot: np.ndarray, preferred: np.ndarray, same_home: np.ndarray,
    weekend: np.ndarray, night: np.ndarray, part_time: np.ndarray, short_notice: np.ndarray, holiday: np.ndarray,
) -> np.ndarray:
    """Hidden ground truth: log-odds that a contacted person accepts an overtime shift."""
    return (
        -1.55
        + 1.90 * willing.astype(float)
        - 0.55 * recent_ot
        + 0.90 * preferred.astype(float)
        + 0.35 * same_home.astype(float)
        - 0.55 * weekend.astype(float)
        - 0.90 * night.astype(float)
        + 0.45 * part_time.astype(float)
        - 0.50 * short_notice.astype(float)
        - 0.40 * holiday.astype(float)
    )


def _generate_overtime(config: DemoConfig, staff: pd.DataFrame) -> pd.DataFrame:
    cols = KINDS["overtime"].column_names
    n_req = config.n_overtime_requests
    rng = _rng(config, "overtime")
    homes = list(CARE_HOMES)
    units = _unit_table(config)
    days = _days(config, first=max(config.overtime_start, config.start))
    hol = _holiday_set(config, days[0].date(), config.end)
    is_hol = np.array([d.date() in hol for d in days])
    wd = days.dayofweek.to_numpy()
    doy = days.dayofyear.to_numpy().astype(float)

    care = np.flatnonzero(staff["site"].to_numpy() != config.cc_site)
    s_home = np.array([homes.index(s) for s in staff["site"].to_numpy()[care]])
    s_willing = staff["ot_willing"].to_numpy()[care].astype(bool)
    s_part = staff["contract_hours"].to_numpy()[care] < 35.0
    s_hire_min = (staff["hire_date"].to_numpy()[care] - np.datetime64("1970-01-01")) // np.timedelta64(1, "m")
    pref = np.zeros((len(care), len(homes)), dtype=bool)
    for i, cell in enumerate(staff["preferred_sites"].to_numpy()[care]):
        for tok in str(cell).split("|"):
            if tok in homes:
                pref[i, homes.index(tok)] = True
    s_ids = staff["staff_id"].to_numpy()[care]

    # requests: more gaps in flu season, at weekends and on holidays
    w = (1.0 + 0.5 * np.clip(np.cos(2 * np.pi * (doy - 30) / 365.25), 0, None)) * np.where(wd >= 5, 1.3, 1.0)
    w = w * np.where(is_hol, 1.5, 1.0)
    d_idx = np.sort(rng.choice(len(days), size=n_req, p=w / w.sum()))
    unit_w = units["base"].to_numpy()
    u_idx = rng.choice(len(units), size=n_req, p=unit_w / unit_w.sum())
    stypes = list(SHIFT_TYPES)
    st_idx = rng.choice(3, size=n_req, p=[0.40, 0.35, 0.25])
    lead_h = np.clip(rng.lognormal(np.log(30.0), 1.0, size=n_req), 1.5, 240.0)
    k_planned = rng.integers(3, 9, size=n_req)  # 3..8 people on the planner's list

    day_min = (days.to_numpy() - np.datetime64("1970-01-01")) // np.timedelta64(1, "m")
    accepted_log: dict[int, list[tuple[int, int]]] = {}  # staff -> [(accept minute, shift day minute)]
    rows: list[tuple] = []
    for r in range(n_req):
        site_i = homes.index(units["site"].iloc[u_idx[r]])
        shift_day = int(day_min[d_idx[r]])
        start_h, shift_hours = SHIFT_TYPES[stypes[st_idx[r]]]
        shift_start = shift_day + int(start_h * 60)
        t0 = shift_start - int(lead_h[r] * 60)
        tod = (t0 % 1440) / 60.0
        if tod < 6.0 or tod >= 21.0:  # planners phone people between 06:00 and 21:00
            midnight = t0 - (t0 % 1440)
            jitter = int(rng.integers(0, 60))
            if tod < 6.0 and midnight + 6 * 60 + jitter <= shift_start - 90:
                t0 = midnight + 6 * 60 + jitter  # first thing in the morning
            else:
                t0 = midnight + (20 * 60 if tod >= 21.0 else 20 * 60 - 1440) + jitter  # the evening before
        elig = np.flatnonzero(s_hire_min <= t0)
        if elig.size == 0:
            continue
        logw = (np.where(s_willing[elig], np.log(8.0), 0.0) + np.where(s_home[elig] == site_i, np.log(4.0), 0.0)
                + np.where(pref[elig, site_i], np.log(2.0), 0.0))
        k = int(min(k_planned[r], elig.size))
        pick = elig[np.argsort(-(logw + rng.gumbel(size=elig.size)), kind="stable")[:k]]
        gaps = 1 + np.rint(rng.exponential(25.0, size=k)).astype(np.int64)
        gaps[0] = 0
        contact = t0 + np.cumsum(gaps)
        keep = contact <= shift_start - 30
        keep[0] = True
        pick, contact = pick[keep], contact[keep]
        m = pick.size
        responds = rng.random(m) < np.where(s_willing[pick], 0.88, 0.65)
        delay = np.maximum(1, np.rint(rng.lognormal(np.log(40.0), 1.1, size=m))).astype(np.int64)
        resp = contact + delay
        responds &= resp <= shift_start
        recent = np.zeros(m)
        busy = np.zeros(m, dtype=bool)
        for j, s in enumerate(pick):
            for acc_t, acc_day in accepted_log.get(int(s), ()):
                if acc_t < contact[j] and shift_day - 30 * 1440 <= acc_day <= shift_day + 7 * 1440:
                    recent[j] += 1
                if acc_day == shift_day:
                    busy[j] = True
        z = overtime_accept_logit(
            s_willing[pick], recent, pref[pick, site_i], s_home[pick] == site_i,
            np.full(m, wd[d_idx[r]] >= 5), np.full(m, stypes[st_idx[r]] == "night"), s_part[pick],
            np.full(m, lead_h[r] < 12.0), np.full(m, bool(is_hol[d_idx[r]])),
        )
        yes = responds & ~busy & (rng.random(m) < _sigmoid(z))
        accepted = np.zeros(m, dtype=bool)
        if yes.any():
            win = int(np.flatnonzero(yes)[np.argmin(resp[yes])])
            win_t = int(resp[win])
            accepted[win] = True
            stay = contact <= win_t  # nobody is contacted once the shift is filled
            accepted_log.setdefault(int(pick[win]), []).append((win_t, shift_day))
        else:
            stay = np.ones(m, dtype=bool)
        for j in np.flatnonzero(stay):
            rows.append((r, shift_day, site_i, int(u_idx[r]), st_idx[r], int(pick[j]), int(contact[j]),
                         int(resp[j]) if responds[j] else -1, bool(accepted[j]),
                         shift_hours if accepted[j] else 0.0))

    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            cols, ["object", "datetime64[ns]", "object", "object", "object", "datetime64[ns]", "datetime64[ns]",
                   "bool", "float64", "object"], strict=True)})
    arr = np.array(rows, dtype=object)
    req = arr[:, 0].astype(np.int64)
    # request ids in order of first contact, like a ticket system numbering them
    first = pd.Series(arr[:, 6].astype(np.int64)).groupby(req).transform("min").to_numpy()
    uniq_first = pd.DataFrame({"req": req, "first": first}).drop_duplicates("req").sort_values(
        ["first", "req"], kind="mergesort")
    rid_map = {int(q): f"OT{i + 1:05d}" for i, q in enumerate(uniq_first["req"].to_numpy())}

    def to_ts(minutes: np.ndarray) -> np.ndarray:
        return (np.datetime64("1970-01-01", "m") + minutes.astype("timedelta64[m]")).astype("datetime64[ns]")

    resp_min = arr[:, 7].astype(np.int64)
    responded = to_ts(np.where(resp_min < 0, 0, resp_min))
    responded[resp_min < 0] = np.datetime64("NaT")
    df = pd.DataFrame({
        "request_id": [rid_map[int(q)] for q in req],
        "shift_date": to_ts(arr[:, 1].astype(np.int64)),
        "site": np.array(homes, dtype=object)[arr[:, 2].astype(np.int64)],
        "shift_type": np.array(stypes, dtype=object)[arr[:, 4].astype(np.int64)],
        "staff_id": s_ids[arr[:, 5].astype(np.int64)],
        "contacted_at": to_ts(arr[:, 6].astype(np.int64)),
        "responded_at": responded,
        "accepted": arr[:, 8].astype(bool),
        "hours_worked": arr[:, 9].astype(float),
        "unit": units["unit"].to_numpy()[arr[:, 3].astype(np.int64)],
    })
    df = df.sort_values(["request_id", "contacted_at", "staff_id"], kind="mergesort").reset_index(drop=True)
    for c in ("request_id", "site", "shift_type", "staff_id", "unit"):
        df[c] = df[c].astype(object)
    return df[cols]


# --------------------------------------------------------------------------------------------
# Roster (care homes, the weeks after the history)
# --------------------------------------------------------------------------------------------

#: minimum rest between two rostered shifts of one person (German ArbZG § 5), respected by the demo roster
ROSTER_MIN_REST_HOURS = 11.0
#: the demo roster never plans more than this in a week (the ArbZG ceiling the overtime rules default to)
ROSTER_MAX_WEEK_HOURS = 48.0


def _generate_roster(config: DemoConfig, staff: pd.DataFrame) -> pd.DataFrame:
    """The published roster of the care-home staff for ``config.roster_weeks`` weeks after the history.

    Plausible rather than optimal, like a hand-made rota: every care-home person works on one unit of their home;
    unit leads work early shifts on weekdays, about one in five others are permanent night staff, everyone else
    alternates early and late weeks. The number of shifts a week follows the contract (contract hours / shift
    length on average; the remainder is carried from week to week), about one person-week in ten has an extra
    shift covering for a colleague (a 48 h week for a full-timer, so one more overtime shift would break the
    weekly maximum; never more than :data:`ROSTER_MAX_WEEK_HOURS`), and about half of the people take one week
    of leave (no shifts that week). No one gets less than :data:`ROSTER_MIN_REST_HOURS` between two shifts.
    Contact-centre staff are not rostered here, so rankings use their contract hours.
    """
    cols = KINDS["roster"].column_names
    care = staff.loc[staff["site"] != config.cc_site].sort_values("staff_id", kind="mergesort")
    if config.roster_weeks == 0 or care.empty:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            cols, ["object", "datetime64[ns]", "object", "datetime64[ns]", "datetime64[ns]", "object", "object",
                   "float64"], strict=True)})
    rng = _rng(config, "roster")
    first = pd.Timestamp(config.roster_start)
    weeks = config.roster_weeks
    rows: list[tuple] = []
    for p in care.itertuples(index=False):
        units = CARE_HOMES[p.site]
        unit = units[int(rng.integers(len(units)))]
        lead = p.role == "Wohnbereichsleitung"
        nights = not lead and rng.random() < 0.2
        offset = int(rng.integers(2))  # which weeks are early weeks
        leave = int(rng.integers(weeks)) if rng.random() < 0.5 else -1
        carry = 0.0
        last_end: pd.Timestamp | None = None
        for w in range(weeks):
            kind = "early" if lead else "night" if nights else ("early", "late")[(w + offset) % 2]
            start_h, hours = SHIFT_TYPES[kind]
            carry += float(p.contract_hours) / hours
            count = int(carry)
            carry -= count
            extra = rng.random() < 0.1
            if w == leave:
                carry = 0.0
                continue
            days = np.arange(5) if lead else np.arange(7)
            count = min(count + int(extra), len(days), int(ROSTER_MAX_WEEK_HOURS // hours))
            chosen = np.sort(rng.choice(days, size=count, replace=False))
            for d in chosen:
                day = first + pd.Timedelta(weeks=w, days=int(d))
                start = day + pd.Timedelta(hours=start_h)
                if last_end is not None and (start - last_end) < pd.Timedelta(hours=ROSTER_MIN_REST_HOURS):
                    continue  # e.g. a late Sunday before an early Monday: that day stays free
                end = start + pd.Timedelta(hours=hours)
                rows.append((p.staff_id, day, kind, start, end, p.site, unit, float(hours)))
                last_end = end
    df = pd.DataFrame(rows, columns=cols)
    for c in ("date", "start", "end"):
        df[c] = df[c].astype("datetime64[ns]")
    for c in ("staff_id", "shift_type", "site", "unit"):
        df[c] = df[c].astype(object)
    df = df.sort_values(["date", "site", "unit", "start", "staff_id"], kind="mergesort").reset_index(drop=True)
    return df[cols]


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def generate_demo(
    config: DemoConfig | None = None, on_progress: ProgressCallback | None = None
) -> dict[str, pd.DataFrame]:
    """Generate every dataset kind; keys and column order follow :data:`src.data.kinds.KINDS`.

    Deterministic: the same ``config`` gives identical frames. ``on_progress(fraction, text)``
    is called after each dataset.
    """
    config = config or DemoConfig()
    logger.info("generating demo data seed=%s end=%s years=%s", config.seed, config.end, config.years)
    _progress(on_progress, 0.0, "Contact-centre workload")
    workload = _generate_workload(config)
    _progress(on_progress, 0.3, "Care-home unit shifts")
    unit_shifts = _generate_unit_shifts(config)
    _progress(on_progress, 0.45, "Staff")
    staff = _generate_staff(config)
    _progress(on_progress, 0.55, "Assignment history")
    assignments = _generate_assignments(config, staff)
    _progress(on_progress, 0.75, "Overtime history")
    overtime = _generate_overtime(config, staff)
    _progress(on_progress, 0.95, "Roster")
    roster = _generate_roster(config, staff)
    _progress(on_progress, 1.0, "Done")
    out = {"workload": workload, "unit_shifts": unit_shifts, "staff": staff, "assignments": assignments,
           "overtime": overtime, "roster": roster}
    logger.info("demo data ready: %s", {k: len(v) for k, v in out.items()})
    return {k: out[k] for k in KINDS}


def sample_frames(config: DemoConfig | None = None,
                  frames: dict[str, pd.DataFrame] | None = None) -> dict[str, pd.DataFrame]:
    """Small, self-consistent slices of the demo data (canonical columns) for ``data/sample/``.

    workload: the last 4 weeks of ``calls`` and ``emails``; unit_shifts: the last 8 weeks of 6
    units (3 of "Haus Lindenhof", 3 of "Haus Abendrot"); staff: 20 people (8 contact centre,
    6 + 6 from those two homes); assignments: the latest 200 tasks of those people; overtime: the
    latest complete requests at those two homes, ~150 rows (whole requests only); roster: the first two weeks of
    the care-home people among those 20 (about 100 shifts).
    """
    config = config or DemoConfig()
    frames = frames if frames is not None else generate_demo(config)
    end = pd.Timestamp(config.end) + pd.Timedelta(days=1)

    wl = frames["workload"]
    wl = wl[wl["queue"].isin(["calls", "emails"]) & (wl["timestamp"] >= end - pd.Timedelta(weeks=4))]

    homes = ["Haus Lindenhof", "Haus Abendrot"]
    units = [(h, u) for h in homes for u in CARE_HOMES[h][:3]]
    us = frames["unit_shifts"]
    unit_key = pd.MultiIndex.from_frame(us[["site", "unit"]])
    us = us[unit_key.isin(units) & (us["date"] >= end - pd.Timedelta(weeks=8)).to_numpy()]

    st = frames["staff"]
    def spread(site: str, k: int) -> pd.DataFrame:  # evenly over personnel numbers: new and long-serving staff
        g = st[st["site"] == site]
        return g.iloc[np.unique(np.linspace(0, len(g) - 1, min(k, len(g))).round().astype(int))] if len(g) else g

    parts = [spread(config.cc_site, 8)] + [spread(h, 6) for h in homes]
    st_s = pd.concat(parts).sort_values("staff_id", kind="mergesort")
    if len(st_s) < 20:
        st_s = pd.concat([st_s, st[~st["staff_id"].isin(st_s["staff_id"])].head(20 - len(st_s))])
        st_s = st_s.sort_values("staff_id", kind="mergesort")

    asg = frames["assignments"]
    asg_s = asg[asg["staff_id"].isin(st_s["staff_id"])].tail(200)
    if len(asg_s) < 200:
        asg_s = asg.tail(200)

    ot = frames["overtime"]
    ot_h = ot[ot["site"].isin(homes)]
    if ot_h.empty:
        ot_h = ot
    req_sizes = ot_h.groupby("request_id", sort=True).size()
    keep, total = [], 0
    for rid, size in req_sizes.iloc[::-1].items():
        if total >= 150:
            break
        keep.append(rid)
        total += int(size)
    ot_s = ot_h[ot_h["request_id"].isin(keep)]

    ro = frames["roster"]
    ro_s = ro[ro["staff_id"].isin(st_s["staff_id"]) & (ro["date"] < pd.Timestamp(config.roster_start)
                                                      + pd.Timedelta(weeks=2))]
    ro_s = ro_s.sort_values(["staff_id", "start"], kind="mergesort")

    return {k: v.reset_index(drop=True) for k, v in {
        "workload": wl, "unit_shifts": us, "staff": st_s, "assignments": asg_s, "overtime": ot_s,
        "roster": ro_s}.items()}


def _check_formats(formats: Iterable[str]) -> tuple[str, ...]:
    fmts = tuple(formats)
    bad = [f for f in fmts if f not in ("csv", "xlsx")]
    if bad or not fmts:
        raise ValueError(f"formats must be a non-empty subset of ('csv', 'xlsx'), got {fmts!r}")
    return fmts


def write_demo(out_dir: Path, config: DemoConfig | None = None, formats: Sequence[str] = ("csv",),
               on_progress: ProgressCallback | None = None) -> list[Path]:
    """Write the full demo data as ``<kind>.csv`` (utf-8, ',' separated, ISO timestamps) and/or
    ``<kind>.xlsx`` into ``out_dir``; returns the written paths in kinds order.

    CSV output is byte-identical for the same config, so it can be diffed and checksummed.
    """
    fmts = _check_formats(formats)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    frames = generate_demo(config, on_progress=None)
    paths: list[Path] = []
    for i, (kind, df) in enumerate(frames.items()):
        if "csv" in fmts:
            p = out_dir / f"{kind}.csv"
            p.write_bytes(frame_to_csv_bytes(df))
            paths.append(p)
        if "xlsx" in fmts:
            p = out_dir / f"{kind}.xlsx"
            _write_xlsx(df, p, sheet=kind)
            paths.append(p)
        _progress(on_progress, (i + 1) / len(frames), f"Wrote {kind}")
    logger.info("wrote demo data to %s (%d files)", out_dir, len(paths))
    return paths


def frame_to_csv_bytes(df: pd.DataFrame, sep: str = ",", encoding: str = "utf-8",
                       datetime_format: str = "%Y-%m-%d %H:%M:%S", date_format: str = "%Y-%m-%d",
                       decimal: str = ".", bool_values: tuple[str, str] = ("true", "false"),
                       headers: dict[str, str] | None = None) -> bytes:
    """Serialise a canonical frame to CSV bytes deterministically.

    Date-only columns (all values at midnight) use ``date_format``; other datetimes
    ``datetime_format``; missing datetimes are empty cells; booleans become ``bool_values``.
    """
    out = pd.DataFrame(index=df.index)
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            fmt = date_format if _is_date_only(s) else datetime_format
            out[c] = s.dt.strftime(fmt).fillna("")
        elif pd.api.types.is_bool_dtype(s):
            out[c] = np.where(s.to_numpy(), bool_values[0], bool_values[1])
        elif pd.api.types.is_float_dtype(s):
            out[c] = s.map(lambda v: "" if pd.isna(v) else _fmt_float(v, decimal))
        else:
            out[c] = s
    if headers:
        out = out.rename(columns=headers)
    text = out.to_csv(sep=sep, index=False, lineterminator="\r\n" if encoding == "cp1252" else "\n")
    return text.encode(encoding)


def _fmt_float(v: float, decimal: str) -> str:
    s = repr(round(float(v), 6))
    if s.endswith(".0"):
        s = s[:-2] + ".0"
    return s.replace(".", decimal) if decimal != "." else s


def _is_date_only(s: pd.Series) -> bool:
    v = s.dropna()
    return bool(len(v)) and bool((v == v.dt.normalize()).all())


def _write_xlsx(df: pd.DataFrame, path: Path, sheet: str, german: bool = False,
                headers: dict[str, str] | None = None, bool_values: tuple[str, str] | None = None) -> None:
    """Formatted workbook: real date cells, bold frozen header, autofilter, sensible widths."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet[:31]
    names = [headers.get(c, c) if headers else c for c in df.columns]
    ws.append(names)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    kinds_of: list[str] = []
    for c in df.columns:
        s = df[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            kinds_of.append("date" if _is_date_only(s) else "datetime")
        elif pd.api.types.is_bool_dtype(s):
            kinds_of.append("bool")
        else:
            kinds_of.append("other")
    fmt_date = "DD.MM.YYYY" if german else "YYYY-MM-DD"
    fmt_dt = "DD.MM.YYYY HH:MM" if german else "YYYY-MM-DD HH:MM"
    columns = [df[c].to_numpy(dtype=object) for c in df.columns]
    widths = [len(str(n)) for n in names]
    for r in range(len(df)):
        row: list[object] = []
        for j, col in enumerate(columns):
            v = col[r]
            kind = kinds_of[j]
            if kind in ("date", "datetime"):
                v = None if pd.isna(v) else pd.Timestamp(v).to_pydatetime()
                if kind == "date" and v is not None:
                    v = v.date()
            elif kind == "bool":
                v = (bool_values[0] if v else bool_values[1]) if bool_values else bool(v)
            elif isinstance(v, np.integer):
                v = int(v)
            elif isinstance(v, np.floating):
                v = float(v)
            row.append(v)
        ws.append(row)
    for j, kind in enumerate(kinds_of):
        letter = get_column_letter(j + 1)
        if kind in ("date", "datetime"):
            fmt = fmt_date if kind == "date" else fmt_dt
            for (cell,) in ws.iter_rows(min_row=2, min_col=j + 1, max_col=j + 1):
                cell.number_format = fmt
            widths[j] = max(widths[j], len(fmt))
        else:
            sample = columns[j][: min(len(df), 500)]
            widths[j] = max([widths[j]] + [len(str(v)) for v in sample])
        ws.column_dimensions[letter].width = min(60, widths[j] + 2)
    ws.freeze_panes = "A2"
    if len(df):
        ws.auto_filter.ref = ws.dimensions
    wb.save(path)


#: German headers used by the German-format sample files (all are aliases in kinds.py)
GERMAN_HEADERS: dict[str, dict[str, str]] = {
    "unit_shifts": {"date": "Datum", "site": "Einrichtung", "unit": "Station", "shifts": "Schichten"},
    "staff": {"staff_id": "Personalnummer", "name": "Name", "site": "Einrichtung", "role": "Rolle",
              "skills": "Qualifikationen", "hire_date": "Eintrittsdatum", "contract_hours": "Wochenstunden",
              "ot_willing": "Überstunden bereit", "preferred_sites": "Bevorzugte Einrichtungen"},
    "overtime": {"request_id": "Anfrage-ID", "shift_date": "Schichtdatum", "site": "Einrichtung",
                 "shift_type": "Schichtart", "staff_id": "Personalnummer", "contacted_at": "Kontaktiert am",
                 "responded_at": "Geantwortet am", "accepted": "Angenommen", "hours_worked": "Geleistete Stunden",
                 "unit": "Wohnbereich"},
    "roster": {"staff_id": "Personalnummer", "date": "Datum", "shift_type": "Schicht", "start": "Beginn",
               "end": "Ende", "site": "Einrichtung", "unit": "Wohnbereich", "hours": "Stunden"},
}

#: German names of the demo shift types in the German roster sample (aliases of early/late/night)
GERMAN_SHIFT_NAMES: dict[str, str] = {"early": "Frühdienst", "late": "Spätdienst", "night": "Nachtdienst",
                                      "day": "Tagdienst"}

#: sample file name -> how it is written (documented in data/sample/README.md)
SAMPLE_FILES: tuple[str, ...] = (
    "workload_sample.csv", "workload_sample.xlsx",
    "unit_shifts_sample_de.csv", "unit_shifts_sample_de.xlsx",
    "staff_sample.csv", "staff_sample_de.xlsx",
    "assignments_sample.csv", "assignments_sample.xlsx",
    "overtime_sample_de.csv", "overtime_sample.xlsx",
    "roster_sample_de.csv", "roster_sample.xlsx",
)


def write_samples(out_dir: Path, config: DemoConfig | None = None) -> list[Path]:
    """Write the small sample files (one CSV and one XLSX per kind) in the formats users really have.

    - ``workload_sample.csv``: English headers, ',' separated, ISO timestamps, utf-8.
    - ``unit_shifts_sample_de.csv``: German headers, ';' separated, dd.mm.yyyy dates, cp1252.
    - ``staff_sample.csv``: English headers, ',' separated, utf-8 with umlauts in names.
    - ``assignments_sample.csv``: English, ',' separated, ISO timestamps.
    - ``overtime_sample_de.csv``: German headers, ';' separated, utf-8-sig, dd.mm.yyyy HH:MM,
      ja/nein, decimal comma.
    - ``roster_sample_de.csv``: German headers and shift names (Frühdienst …), ';' separated, utf-8-sig,
      dd.mm.yyyy dates, HH:MM times (a night shift's end on the next morning), decimal comma.
    - ``.xlsx`` versions: real date cells, bold frozen header, autofilter, fitted column widths
      (``unit_shifts`` and ``staff`` with German headers and dd.mm.yyyy display format).
    Returns the written paths in the order of :data:`SAMPLE_FILES`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    s = sample_frames(config)
    p = {name: out_dir / name for name in SAMPLE_FILES}
    p["workload_sample.csv"].write_bytes(frame_to_csv_bytes(s["workload"]))
    _write_xlsx(s["workload"], p["workload_sample.xlsx"], "workload")
    p["unit_shifts_sample_de.csv"].write_bytes(frame_to_csv_bytes(
        s["unit_shifts"], sep=";", encoding="cp1252", date_format="%d.%m.%Y",
        headers=GERMAN_HEADERS["unit_shifts"]))
    _write_xlsx(s["unit_shifts"], p["unit_shifts_sample_de.xlsx"], "Schichten", german=True,
                headers=GERMAN_HEADERS["unit_shifts"])
    p["staff_sample.csv"].write_bytes(frame_to_csv_bytes(s["staff"]))
    _write_xlsx(s["staff"], p["staff_sample_de.xlsx"], "Mitarbeiter", german=True,
                headers=GERMAN_HEADERS["staff"], bool_values=("ja", "nein"))
    p["assignments_sample.csv"].write_bytes(frame_to_csv_bytes(s["assignments"]))
    _write_xlsx(s["assignments"], p["assignments_sample.xlsx"], "assignments")
    p["overtime_sample_de.csv"].write_bytes(frame_to_csv_bytes(
        s["overtime"], sep=";", encoding="utf-8-sig", date_format="%d.%m.%Y", datetime_format="%d.%m.%Y %H:%M",
        decimal=",", bool_values=("ja", "nein"), headers=GERMAN_HEADERS["overtime"]))
    _write_xlsx(s["overtime"], p["overtime_sample.xlsx"], "overtime")
    ro = s["roster"].copy()
    ro_de = ro.assign(shift_type=ro["shift_type"].map(GERMAN_SHIFT_NAMES), start=ro["start"].dt.strftime("%H:%M"),
                      end=ro["end"].dt.strftime("%H:%M"))
    p["roster_sample_de.csv"].write_bytes(frame_to_csv_bytes(
        ro_de, sep=";", encoding="utf-8-sig", date_format="%d.%m.%Y", decimal=",", headers=GERMAN_HEADERS["roster"]))
    ro_x = ro.assign(start=[t.time() for t in ro["start"]], end=[t.time() for t in ro["end"]])
    _write_xlsx(ro_x, p["roster_sample.xlsx"], "roster")
    logger.info("wrote %d sample files to %s", len(p), out_dir)
    return [p[name] for name in SAMPLE_FILES]
