"""What the staffing use cases return and take: volume to plan, page options, what-if scenario, calculator
result, export file and the checked volume upload (frozen dataclasses, no I/O)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

import pandas as pd

from src.data.validation import ValidationReport
from src.services.context import ServiceError

Source = Literal["forecast", "history", "upload", "care"]
HistoryMethod = Literal["last_4_weeks", "last_week", "same_week_last_year"]


@dataclass(frozen=True)
class VolumeInput:
    """Volume to plan, with where it came from (shown on the page, stored with a saved plan)."""

    frame: pd.DataFrame  # queue, ds, yhat[, aht_seconds, yhat_upper_80, yhat_upper_95]
    source: Source
    detail: str
    interval_seconds: int
    notes: tuple[str, ...] = ()
    channel: str | None = None  # forces one channel for every queue (care homes)

    @property
    def queues(self) -> list[str]:
        return list(dict.fromkeys(self.frame["queue"].astype(str)))

    @property
    def has_upper(self) -> dict[str, bool]:
        return {b: f"yhat_{b}" in self.frame.columns and self.frame[f"yhat_{b}"].notna().any()
                for b in ("upper_80", "upper_95")}


@dataclass(frozen=True)
class PlanningOptions:
    """What the inputs of the Staffing page can offer right now."""

    queues: list[str]
    history_first: pd.Timestamp | None
    history_last: pd.Timestamp | None
    interval_seconds: int | None
    care_units: int
    care_first: pd.Timestamp | None
    care_last: pd.Timestamp | None
    forecast_series: list[str]
    default_start: date
    #: changes when a forecast is stored (newest run id and run count): a key for caching what depends on them
    forecast_stamp: str = ""


@dataclass(frozen=True)
class Scenario:
    """What-if changes applied on top of the per-queue parameters (neutral by default)."""

    volume_pct: float = 0.0
    aht_pct: float = 0.0
    sl_target: float | None = None  # replaces the SL target of voice queues that have one
    shrinkage: float | None = None  # replaces every queue's shrinkage

    def __post_init__(self) -> None:
        for name, v in (("Volume change", self.volume_pct), ("AHT change", self.aht_pct)):
            if not math.isfinite(v) or not -90 <= v <= 300:
                raise ServiceError(f"{name} must be between -90 % and +300 % (got {v!r}).")
        if self.sl_target is not None and not 0 < self.sl_target < 1:
            raise ServiceError(f"The what-if SL target must be above 0 % and below 100 % (got {self.sl_target!r}).")
        if self.shrinkage is not None and not 0 <= self.shrinkage <= 0.9:
            raise ServiceError(f"The what-if shrinkage must be between 0 % and 90 % (got {self.shrinkage!r}).")

    @property
    def neutral(self) -> bool:
        return self.volume_pct == 0 and self.aht_pct == 0 and self.sl_target is None and self.shrinkage is None

    def describe(self, *, care: bool = False) -> str:
        """``volume +10 %, SL target 85%`` (``shifts +10 %`` for care units), or ``as planned``."""
        parts = []
        if self.volume_pct:
            parts.append(f"{'shifts' if care else 'volume'} {self.volume_pct:+g} %")
        if self.aht_pct:
            parts.append(f"AHT {self.aht_pct:+g} %")
        if self.sl_target is not None:
            parts.append(f"SL target {self.sl_target:.0%}")
        if self.shrinkage is not None:
            parts.append(f"shrinkage {self.shrinkage:.0%}")
        return ", ".join(parts) or "as planned"


@dataclass(frozen=True)
class CalculatorResult:
    """One interval from the Erlang calculator panel: the requirement and a table of nearby agent counts."""

    model: str
    row: dict[str, float | int | None]
    table: pd.DataFrame


@dataclass(frozen=True)
class ExportFile:
    data: bytes
    file_name: str
    mime: str
    saved_path: Path


@dataclass(frozen=True)
class VolumeUpload:
    """Result of checking an uploaded volume file: the validator's report (row-level issues) and, if clean,
    the volume frame."""

    report: ValidationReport
    volume: VolumeInput | None
