"""Equal-weight mean of several models.

Averaging a seasonal profile (stable, no trend), Prophet (trend, holidays) and LightGBM (non-linear
calendar effects) cancels part of their independent errors. It is only used when the backtest
says it wins; the backtest scores it from its members' fold forecasts, so it costs no extra fits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .base import Forecaster, model_class
from .frequency import FutureGrid, PreparedSeries

DEFAULT_MEMBERS: tuple[str, ...] = ("profile", "prophet", "lightgbm")


class EnsembleModel(Forecaster):
    """Mean of the members' point forecasts (members without enough history are left out; ≥ 2 needed)."""

    name = "ensemble"

    def __init__(self, seed: int = 0, members: tuple[str, ...] = DEFAULT_MEMBERS) -> None:
        super().__init__(seed)
        if len(members) < 2 or "ensemble" in members:
            raise ValueError("An ensemble needs at least two other models")
        self.member_names = tuple(members)
        self.members: dict[str, Forecaster] = {}

    def _fresh(self) -> dict[str, Forecaster]:
        return {name: model_class(name)(seed=self.seed) for name in self.member_names}

    def min_history_steps(self, prep: PreparedSeries, horizon: int) -> int:
        needs = sorted(m.min_history_steps(prep, horizon) for m in self._fresh().values())
        return needs[1]

    def fit(self, prep: PreparedSeries, horizon: int) -> EnsembleModel:
        fitted: dict[str, Forecaster] = {}
        for name, model in self._fresh().items():
            if model.min_history_steps(prep, horizon) <= prep.n:
                fitted[name] = model.fit(prep, horizon)
        if len(fitted) < 2:
            raise ValueError("Not enough history for at least two ensemble members")
        self.members = fitted
        return self

    def predict(self, future: FutureGrid, levels: tuple[int, ...] = ()) -> pd.DataFrame:
        preds = np.vstack([m.predict(future)["yhat"].to_numpy() for m in self.members.values()])
        return pd.DataFrame({"yhat": np.clip(preds.mean(axis=0), 0.0, None)})

    def get_state(self) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = {"members": list(self.members), "member_params": {}}
        artifacts: dict[str, bytes] = {}
        for name, model in self.members.items():
            p, arts = model.get_state()
            params["member_params"][name] = p
            for fname, data in arts.items():
                artifacts[f"{name}__{fname}"] = data
        return params, artifacts

    @classmethod
    def from_state(cls, params: dict[str, Any], artifacts: dict[str, bytes]) -> EnsembleModel:
        names = tuple(str(n) for n in params["members"])
        model = cls(members=names)
        for name in names:
            prefix = f"{name}__"
            arts = {k[len(prefix):]: v for k, v in artifacts.items() if k.startswith(prefix)}
            model.members[name] = model_class(name).from_state(params["member_params"][name], arts)
        return model
