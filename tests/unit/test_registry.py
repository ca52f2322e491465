"""Model registry: round trip without pickle, versions/activation, corrupt and tampered files."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from src.models.forecasting import ForecastConfig, run_forecast
from src.models.registry import ModelRegistry, RegistryError, data_fingerprint


def _hourly(weeks: int, seed: int = 0) -> pd.DataFrame:
    ds = pd.date_range("2024-01-01", periods=weeks * 168, freq="h")
    open_ = (ds.hour >= 8) & (ds.hour < 18) & (ds.dayofweek < 5)
    lam = np.where(open_, 20 + 10 * np.sin(np.pi * (ds.hour - 8) / 10), 0)
    y = np.random.default_rng(seed).poisson(lam).astype(float)
    return pd.DataFrame({"series_id": "calls", "ds": ds[open_], "y": y[open_]})


@pytest.fixture(scope="module")
def fitted_models():
    df = _hourly(11)
    out = {}
    for name in ("profile", "lightgbm", "prophet"):
        res = run_forecast(df, ForecastConfig(horizon=48, backtest_horizon=48, model=name, folds=2,
                                              country_holidays="DE"))
        out[name] = (res.fitted["calls"], res.forecast, res.backtest)
    return df, out


def _save(reg, fitted, df, **kw):
    return reg.save(fitted, series_id="calls", created_by="tester", metrics={"mase": 0.8, "nan": float("nan")},
                    data_fingerprint=data_fingerprint(df), **kw)


@pytest.mark.parametrize("name", ["profile", "lightgbm", "prophet"])
def test_round_trip_gives_identical_predictions(tmp_path, fitted_models, name):
    df, models = fitted_models
    fitted, forecast, _ = models[name]
    reg = ModelRegistry(tmp_path, code_version="test-1")
    version = _save(reg, fitted, df)
    assert version.model == name and version.active and version.created_by == "tester"
    assert version.metrics == {"mase": 0.8, "nan": None}
    assert version.data_fingerprint == data_fingerprint(df) and len(version.data_fingerprint) == 64
    fresh = ModelRegistry(tmp_path)  # a new process would have no verified-file cache
    loaded = fresh.load(version.version_id)
    again, comps = loaded.predict()
    pd.testing.assert_frame_equal(again, forecast)
    assert (comps is not None) == (name == "prophet")
    meta = json.loads((version.path / "meta.json").read_text())
    assert meta["meta"]["code_version"] == "test-1" and not list(version.path.glob("*.pkl"))


def test_versions_activate_rollback_delete(tmp_path, fitted_models):
    df, models = fitted_models
    reg = ModelRegistry(tmp_path)
    v1 = _save(reg, models["profile"][0], df)
    v2 = _save(reg, models["profile"][0], df)
    assert reg.active("calls").version_id == v1.version_id  # only the first save auto-activates
    assert [v.version_id for v in reg.list_versions("calls")] == [v1.version_id, v2.version_id]
    reg.activate(v2.version_id)
    assert reg.active("calls").version_id == v2.version_id
    assert [v.active for v in reg.list_versions()] == [False, True]
    assert reg.rollback("calls").version_id == v1.version_id
    with pytest.raises(RegistryError, match="active model"):
        reg.delete(v1.version_id)
    reg.delete(v2.version_id)
    assert [v.version_id for v in reg.list_versions()] == [v1.version_id]
    with pytest.raises(RegistryError, match="no earlier active"):
        reg.rollback("calls")
    reg.delete(v1.version_id, force=True)
    assert reg.active("calls") is None and reg.list_versions() == []
    with pytest.raises(RegistryError, match="does not exist"):
        reg.load(v1.version_id)
    with pytest.raises(RegistryError, match="Not a model version"):
        reg.load("../../etc/passwd")
    assert reg.active("unknown") is None


def test_truncated_lightgbm_file_with_matching_hash_is_caught_in_a_subprocess(tmp_path, fitted_models):
    """A half-written LightGBM model aborts the process (SIGABRT); the registry must survive it."""
    df, models = fitted_models
    reg = ModelRegistry(tmp_path)
    v = _save(reg, models["lightgbm"][0], df)
    path = v.path / "lightgbm.txt"
    text = path.read_bytes()
    cut = text[: text.index(b"Tree=1")]  # cut inside the model: LightGBM's parser aborts on this
    path.write_bytes(cut)
    # make the hash agree, as an attacker (or a buggy sync) could: only the subprocess load catches it
    meta_doc = json.loads((v.path / "meta.json").read_text())
    import hashlib

    meta_doc["meta"]["files"]["lightgbm.txt"] = hashlib.sha256(cut).hexdigest()
    canon = json.dumps(meta_doc["meta"], sort_keys=True, separators=(",", ":")).encode()
    meta_doc["meta_sha256"] = hashlib.sha256(canon).hexdigest()
    (v.path / "meta.json").write_text(json.dumps(meta_doc))
    with pytest.raises(RegistryError, match="corrupt"):
        ModelRegistry(tmp_path).load(v.version_id)


def test_tampered_artifact_fails_the_hash_check(tmp_path, fitted_models):
    df, models = fitted_models
    reg = ModelRegistry(tmp_path)
    v = _save(reg, models["prophet"][0], df)
    path = v.path / "prophet.json"
    path.write_bytes(path.read_bytes().replace(b'"seasonality_mode"', b'"seasonality_m0de"'))
    with pytest.raises(RegistryError, match="SHA-256"):
        reg.load(v.version_id)


def test_corrupt_or_edited_metadata(tmp_path, fitted_models):
    df, models = fitted_models
    reg = ModelRegistry(tmp_path, signing_key=b"k" * 32)
    v = _save(reg, models["profile"][0], df)
    meta_path = v.path / "meta.json"
    original = meta_path.read_bytes()
    meta_path.write_bytes(original[:50])
    with pytest.raises(RegistryError, match="corrupt"):
        reg.load(v.version_id)
    assert reg.list_versions() == []  # listing skips it instead of crashing
    doc = json.loads(original)
    doc["meta"]["model"] = "lightgbm"
    meta_path.write_text(json.dumps(doc))
    with pytest.raises(RegistryError, match="modified"):
        reg.load(v.version_id)
    meta_path.write_bytes(original)
    with pytest.raises(RegistryError, match="signature"):
        ModelRegistry(tmp_path, signing_key=b"x" * 32).load(v.version_id)
    assert ModelRegistry(tmp_path, signing_key=b"k" * 32).load(v.version_id).model_name == "profile"


def test_malformed_prophet_json_with_valid_hash_is_a_registry_error(tmp_path, fitted_models):
    df, models = fitted_models
    reg = ModelRegistry(tmp_path)
    fitted = models["prophet"][0]
    original = fitted.forecaster.get_state

    def broken_state():
        params, arts = original()
        return params, {"prophet.json": b'{"growth": "linear"}'}

    fitted.forecaster.get_state = broken_state
    try:
        v = _save(reg, fitted, df)
    finally:
        del fitted.forecaster.get_state
    with pytest.raises(RegistryError, match="cannot be loaded"):
        reg.load(v.version_id)


def test_fingerprint_is_order_independent_and_data_sensitive():
    df = _hourly(1)
    assert data_fingerprint(df) == data_fingerprint(df.sample(frac=1, random_state=1))
    changed = df.copy()
    changed.iloc[0, 2] += 1
    assert data_fingerprint(changed) != data_fingerprint(df)
