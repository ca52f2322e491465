"""A fitted, savable forecaster: the model plus everything needed to forecast again after a reload."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .base import Forecaster, model_class
from .conformal import ConformalCalibrator
from .frequency import Calendar, FutureGrid, PreparedSeries, make_future, parse_freq

STATE_VERSION = 1


@dataclass
class FittedModel:
    """A model fitted on one series' full history, with its conformal calibration and open slots.

    :meth:`predict` gives exactly the forecast the engine returned; :meth:`to_state` /
    :meth:`from_state` round-trip it through JSON + raw artifact bytes (no pickle).
    """

    series_id: str
    model_name: str
    forecaster: Forecaster
    calibrator: ConformalCalibrator | None
    step: pd.Timedelta
    last: pd.Timestamp
    active_slots: np.ndarray
    closed_on_holidays: bool
    country: str | None
    horizon: int
    levels: tuple[int, ...]
    seed: int = 0

    @classmethod
    def from_prepared(cls, prep: PreparedSeries, forecaster: Forecaster, calibrator: ConformalCalibrator | None,
                      horizon: int, levels: tuple[int, ...], seed: int) -> FittedModel:
        return cls(series_id=prep.series_id, model_name=forecaster.name, forecaster=forecaster,
                   calibrator=calibrator, step=prep.cal.step, last=prep.last, active_slots=prep.active_slots.copy(),
                   closed_on_holidays=prep.closed_on_holidays, country=prep.country, horizon=int(horizon),
                   levels=tuple(levels), seed=int(seed))

    @property
    def cal(self) -> Calendar:
        return Calendar(self.step)

    def future(self, horizon: int | None = None) -> FutureGrid:
        h = int(horizon or self.horizon)
        ds = pd.date_range(self.last + self.step, periods=h, freq=self.step)
        return make_future(ds, self.cal, self.active_slots, self.country, self.closed_on_holidays)

    def predict(self, horizon: int | None = None, levels: tuple[int, ...] | None = None) -> tuple[pd.DataFrame,
                                                                                                 pd.DataFrame | None]:
        """(forecast, components) for the next ``horizon`` steps (default: the horizon it was fitted for).

        ``forecast`` has ``series_id, ds, yhat, yhat_lower_L, yhat_upper_L…, model, is_open``; closed
        slots are exactly 0. ``components`` is None unless the model is Prophet.
        """
        h = int(horizon or self.horizon)
        if self.model_name in ("lightgbm", "ensemble") and h > self.horizon:
            raise ValueError(f"This model was fitted for {self.horizon} steps ahead; refit for {h}.")
        lv = tuple(levels or self.levels)
        fut = self.future(h)
        raw = self.forecaster.predict(fut, lv)
        yhat = np.where(fut.closed, 0.0, np.clip(raw["yhat"].to_numpy(dtype=float), 0.0, None))
        out = pd.DataFrame({"series_id": self.series_id, "ds": fut.ds, "yhat": yhat})
        if self.forecaster.native_intervals:
            for level in lv:
                for side in ("lower", "upper"):
                    col = f"yhat_{side}_{level}"
                    out[col] = np.where(fut.closed, 0.0, np.clip(raw[col].to_numpy(dtype=float), 0.0, None))
        elif self.calibrator is not None:
            missing = [x for x in lv if x not in self.calibrator.quantiles]
            if missing:
                raise ValueError(f"Intervals for level(s) {missing} were not calibrated; refit with those levels.")
            bounds = self.calibrator.apply(yhat, closed=fut.closed)
            for level in lv:
                out[f"yhat_lower_{level}"] = bounds[f"yhat_lower_{level}"]
                out[f"yhat_upper_{level}"] = bounds[f"yhat_upper_{level}"]
        else:
            for level in lv:
                out[f"yhat_lower_{level}"] = np.nan
                out[f"yhat_upper_{level}"] = np.nan
        for level in lv:  # the point forecast always sits inside its interval
            lo, hi = f"yhat_lower_{level}", f"yhat_upper_{level}"
            out[lo] = np.fmin(out[lo], out["yhat"])
            out[hi] = np.fmax(out[hi], out["yhat"])
        out["model"] = self.model_name
        out["is_open"] = ~fut.closed
        comps = None
        if self.forecaster.has_components and "trend" in raw.columns:
            comps = raw[["trend", "daily", "weekly", "yearly", "holidays"]].copy()
            comps.insert(0, "ds", fut.ds)
            comps.insert(0, "series_id", self.series_id)
        return out, comps

    def to_state(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        """(JSON-able metadata, artifact bytes) — everything :meth:`from_state` needs."""
        params, artifacts = self.forecaster.get_state()
        meta = {
            "state_version": STATE_VERSION,
            "series_id": self.series_id,
            "model": self.model_name,
            "model_params": params,
            "calibrator": self.calibrator.to_json() if self.calibrator else None,
            "step": f"{int(self.step.total_seconds())}s",
            "last": self.last.isoformat(),
            "active_slots": [int(i) for i in np.flatnonzero(self.active_slots)],
            "season": int(self.active_slots.size),
            "closed_on_holidays": bool(self.closed_on_holidays),
            "country": self.country,
            "horizon": self.horizon,
            "levels": list(self.levels),
            "seed": self.seed,
        }
        json.dumps(meta)  # fail early if something is not JSON-able
        return meta, artifacts

    @classmethod
    def from_state(cls, meta: dict[str, Any], artifacts: dict[str, bytes]) -> FittedModel:
        """Rebuild; ``ValueError``/``KeyError`` on malformed state (the registry turns them into RegistryError)."""
        if int(meta.get("state_version", -1)) != STATE_VERSION:
            raise ValueError(f"Unsupported model state version {meta.get('state_version')!r}")
        forecaster = model_class(str(meta["model"])).from_state(meta["model_params"], artifacts)
        forecaster.seed = int(meta.get("seed", 0))
        active = np.zeros(int(meta["season"]), dtype=bool)
        active[[int(i) for i in meta["active_slots"]]] = True
        step = parse_freq(str(meta["step"]))
        return cls(series_id=str(meta["series_id"]), model_name=str(meta["model"]), forecaster=forecaster,
                   calibrator=ConformalCalibrator.from_json(meta["calibrator"]) if meta["calibrator"] else None,
                   step=step, last=pd.Timestamp(meta["last"]), active_slots=active,
                   closed_on_holidays=bool(meta["closed_on_holidays"]), country=meta["country"],
                   horizon=int(meta["horizon"]), levels=tuple(int(v) for v in meta["levels"]),
                   seed=int(meta.get("seed", 0)))
