"""src.ui.tables: not-applicable values show as "–" instead of Streamlit's grey "None"."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from src.ui.tables import MISSING, dash_missing, right_text


def test_dash_missing_formats_values_and_dashes_every_kind_of_missing():
    frame = pd.DataFrame({"queue": ["calls", "emails", "x"], "sl": [0.8432, np.nan, None],
                          "n": pd.array([5, pd.NA, 7], dtype="Int64"),
                          "day": pd.to_datetime(["2026-11-02", None, "2026-11-04"]),
                          "unit": ["A", None, ""]})
    out = dash_missing(frame, {"sl": "{:.1%}", "n": "{:,}", "day": lambda d: f"{d:%Y-%m-%d}", "unit": "{}",
                               "not_there": "{}"})
    assert out["sl"].tolist() == ["84.3%", MISSING, MISSING]
    assert out["n"].tolist() == ["5", MISSING, "7"]
    assert out["day"].tolist() == ["2026-11-02", MISSING, "2026-11-04"]
    assert out["unit"].tolist() == ["A", MISSING, ""]
    assert out["queue"].tolist() == ["calls", "emails", "x"]  # untouched
    assert math.isnan(frame["sl"].iloc[1])  # the input is not changed
    assert dash_missing(frame, {"unit": "{}"}, missing="")["unit"].tolist() == ["A", "", ""]


def test_right_text_is_a_right_aligned_text_column():
    cfg = right_text("SL")
    assert cfg["label"] == "SL" and cfg["alignment"] == "right" and cfg["type_config"]["type"] == "text"
