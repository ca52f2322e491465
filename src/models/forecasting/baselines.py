"""Baselines: the weekly seasonal naive and the weekday × time-of-day profile.

Both reduce a history to one value per slot of the week, which makes them instant to fit, trivial
to store (a JSON list) and hard to beat on contact-centre data where next Tuesday 10:00 looks like
the last few Tuesdays 10:00. Public holidays are left out of the table (a closed Easter Monday
must not make next Monday look empty); holiday effects are the job of Prophet and LightGBM.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .base import Forecaster
from .frequency import FutureGrid, PreparedSeries, _week_matrix


def _slot_matrix(prep: PreparedSeries, weeks: int) -> np.ndarray:
    """The last ``weeks`` weeks of the cleaned history as a (weeks × season) matrix, holidays NaN."""
    y = prep.y_train.copy()
    y[prep.holiday] = np.nan
    mat = _week_matrix(y, int(prep.slot[0]), prep.cal.season)
    return mat[-weeks:]


def _table_to_json(table: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in table]


def _table_from_json(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=float)


class _SlotTableModel(Forecaster):
    """A model whose forecast is a function of the slot of the week only."""

    table: np.ndarray

    def min_history_steps(self, prep: PreparedSeries, horizon: int) -> int:
        return prep.cal.season

    def predict(self, future: FutureGrid, levels: tuple[int, ...] = ()) -> pd.DataFrame:
        yhat = np.nan_to_num(self.table[future.slot], nan=0.0)
        return pd.DataFrame({"yhat": np.clip(yhat, 0.0, None)})

    def get_state(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        return {"table": _table_to_json(self.table), **self._extra_params()}, {}

    def _extra_params(self) -> dict[str, Any]:
        return {}


class SeasonalNaive(_SlotTableModel):
    """Same slot last week (falling back to the most recent earlier week when that value is missing)."""

    name = "seasonal_naive"

    def fit(self, prep: PreparedSeries, horizon: int) -> SeasonalNaive:
        mat = _slot_matrix(prep, 8)
        table = np.full(mat.shape[1], np.nan)
        for row in mat:  # oldest → newest: later weeks overwrite
            ok = np.isfinite(row)
            table[ok] = row[ok]
        self.table = table
        return self

    @classmethod
    def from_state(cls, params: dict[str, Any], artifacts: dict[str, bytes]) -> SeasonalNaive:
        model = cls()
        model.table = _table_from_json(params["table"])
        return model


class WeekdayProfile(_SlotTableModel):
    """Mean of the same slot over the last ``weeks`` weeks (default 6), ignoring gaps and holidays."""

    name = "profile"

    def __init__(self, seed: int = 0, weeks: int = 6) -> None:
        super().__init__(seed)
        if weeks < 1:
            raise ValueError("weeks must be at least 1")
        self.weeks = int(weeks)

    def fit(self, prep: PreparedSeries, horizon: int) -> WeekdayProfile:
        mat = _slot_matrix(prep, self.weeks)
        with np.errstate(invalid="ignore"), np.testing.suppress_warnings() as sup:
            sup.filter(RuntimeWarning)
            self.table = np.nanmean(mat, axis=0)
        return self

    def _extra_params(self) -> dict[str, Any]:
        return {"weeks": self.weeks}

    @classmethod
    def from_state(cls, params: dict[str, Any], artifacts: dict[str, bytes]) -> WeekdayProfile:
        model = cls(weeks=int(params.get("weeks", 6)))
        model.table = _table_from_json(params["table"])
        return model
