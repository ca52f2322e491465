"""The LightGBM acceptance model: train it on the overtime history, store it (text model + JSON metadata,
sha256 manifest), and hand rankings the active one — only when it beats the historical rate."""

from __future__ import annotations

import json
import logging
import math
import shutil
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from src.data import db, store
from src.models.overtime import OvertimeRules
from src.services import model_files
from src.services.context import Actor, AppContext, ServiceError, require_role

from .helpers import ProgressCallback, _history, _staff, local_now

log = logging.getLogger(__name__)


ACCEPTANCE_DIR = "overtime"
_ACC_PREFIX = "a"
_ACC_VERSION_RE = model_files.version_pattern(_ACC_PREFIX)
_acc_cache: dict[tuple[str, str], Any] = {}
_acc_lock = threading.Lock()


@dataclass(frozen=True)
class AcceptanceModelInfo:
    """A stored acceptance model: its held-out comparison with the historical rate and whether rankings use it."""

    version: str
    created_at: str
    created_by: str
    report: dict[str, Any]
    in_use: bool
    seconds: float | None = None

    @property
    def beats_rate(self) -> bool:
        return bool(self.report.get("use_model"))

    def comparison(self) -> pd.DataFrame:
        """Rows: LightGBM model, historical rate; columns: log_loss, auc (held-out offers)."""
        r = self.report
        return pd.DataFrame({"predictor": ["LightGBM model", "Historical rate (smoothed)"],
                             "log_loss": [r.get("logloss_model"), r.get("logloss_rate")],
                             "auc": [r.get("auc_model"), r.get("auc_rate")]})


def _acc_root(app: AppContext) -> Path:
    return Path(app.settings.models_dir) / ACCEPTANCE_DIR


def _acc_info(vdir: Path, active: str | None, seconds: float | None = None) -> AcceptanceModelInfo:
    doc = model_files.read_manifest(vdir)
    return AcceptanceModelInfo(version=doc["version"], created_at=str(doc.get("created_at", "")),
                               created_by=str(doc.get("created_by", "")), report=dict(doc.get("report") or {}),
                               in_use=doc["version"] == active, seconds=seconds)


def _load_acceptance(vdir: Path) -> Any:
    from src.models.overtime.acceptance_model import FEATURES, AcceptanceModel, AcceptanceModelReport

    doc = model_files.read_manifest(vdir)
    key = (vdir.name, str(doc["files"].get("model.txt")))
    with _acc_lock:
        if key in _acc_cache:
            return _acc_cache[key]
    data = model_files.load_version(vdir, ("model.txt", "metadata.json"), lightgbm=("model.txt",))
    try:
        meta = json.loads(data["metadata.json"].decode("utf-8"))
        if tuple(meta["features"]) != FEATURES:
            raise ValueError("it was trained on a different feature set; train it again")
        r = meta["report"]
        report = AcceptanceModelReport(
            n_train=int(r["n_train"]), n_test=int(r["n_test"]), split_at=pd.Timestamp(r["split_at"]),
            logloss_model=float(r["logloss_model"]), logloss_rate=float(r["logloss_rate"]),
            auc_model=math.nan if r.get("auc_model") is None else float(r["auc_model"]),
            auc_rate=math.nan if r.get("auc_rate") is None else float(r["auc_rate"]), use_model=bool(r["use_model"]))
        model = AcceptanceModel.from_model_string(data["model.txt"].decode("utf-8"), report)
    except Exception as exc:  # noqa: BLE001 - any parse failure means "unusable model"
        raise model_files.ModelFileError(f"Acceptance model {vdir.name} cannot be loaded: {exc}") from None
    with _acc_lock:
        _acc_cache[key] = model
    return model


def active_acceptance_model(app: AppContext) -> tuple[Any | None, str]:
    """(the acceptance model rankings use, or None; status text). Never raises: a broken model means "use the
    historical rate"."""
    root = _acc_root(app)
    version = model_files.read_active(root, _ACC_VERSION_RE)
    if version is None:
        return None, "historical rate (no acceptance model in use)"
    try:
        model = _load_acceptance(root / version)
    except (model_files.ModelFileError, OSError) as exc:
        log.error("acceptance model %s unusable: %s", version, exc)
        return None, f"historical rate (model {version} unusable: {exc})"
    if not model.report.use_model:
        return None, "historical rate (the model did not beat it)"
    return model, f"lightgbm (model {version})"


def acceptance_model_status(app: AppContext, actor: Actor) -> AcceptanceModelInfo | None:
    """The newest stored acceptance model (with its held-out comparison and whether rankings use it), or None."""
    require_role(actor, "planner", "admin")
    root = _acc_root(app)
    if not root.exists():
        return None
    active = model_files.read_active(root, _ACC_VERSION_RE)
    for vdir in sorted((p for p in root.iterdir() if p.is_dir() and _ACC_VERSION_RE.match(p.name)), reverse=True):
        try:
            return _acc_info(vdir, active)
        except model_files.ModelFileError as exc:
            log.warning("skipping acceptance model %s: %s", vdir.name, exc)
    return None


def train_acceptance_model(app: AppContext, actor: Actor, *,
                           on_progress: ProgressCallback | None = None) -> AcceptanceModelInfo:
    """Train the LightGBM acceptance model on the stored overtime history (uploaded + recorded in the app),
    compare it with the smoothed historical rate on the latest 25 % of requests and store it under
    ``models_dir/overtime/<version>/`` (LightGBM text + JSON metadata, sha256 manifest). Rankings use it when,
    and only when, its held-out log loss beats the rate; otherwise they keep (or go back to) the rate. Audited."""
    require_role(actor, "admin")
    from src.models.overtime.acceptance_model import FEATURES, fit_acceptance_model

    progress = on_progress or (lambda _f, _t: None)
    t0 = datetime.now(UTC)
    progress(0.02, "Reading staff and overtime history")
    staff, hist = _staff(app), _history(app)
    if hist.empty:
        raise ServiceError("There is no overtime history to learn from yet. Upload it on the Data page first.")
    as_of = pd.Timestamp(local_now(app))
    rules = OvertimeRules()

    def inner(f: float, text: str) -> None:
        progress(0.05 + 0.8 * f, text[:1].upper() + text[1:])

    try:
        model = fit_acceptance_model(staff, hist, rules, as_of=as_of, n_jobs=1, on_progress=inner)
    except ValueError as exc:
        raise ServiceError(f"Cannot train an acceptance model on this history: {exc}") from None
    progress(0.9, "Saving the model")
    report = model.report.to_dict()
    fingerprint = model_files.sha256_bytes(
        hist.sort_values(["request_id", "staff_id"]).to_csv(index=False).encode("utf-8"))
    created_at = datetime.now(UTC).isoformat(timespec="seconds")
    meta = {"kind": "overtime_acceptance_lightgbm", "features": list(FEATURES), "report": report,
            "history_rows": len(hist), "staff_rows": len(staff), "data_sha256": fingerprint,
            "trained_as_of": as_of.isoformat(), "lookback_days": rules.lookback_days,
            "prior_acceptance": rules.prior_acceptance, "prior_strength": rules.prior_strength,
            "created_by": actor.username, "created_at": created_at}
    root = _acc_root(app)
    version = model_files.new_version_id(_ACC_PREFIX)
    saved = model_files.save_version(
        root, version, {"model.txt": model.model_string().encode("utf-8"),
                        "metadata.json": json.dumps(meta, indent=2, allow_nan=False).encode("utf-8")},
        {"created_at": created_at, "created_by": actor.username, "kind": meta["kind"], "report": report})
    use = bool(report["use_model"])
    previous = model_files.read_active(root, _ACC_VERSION_RE)
    try:
        with db.write_tx(app.engine) as conn:
            store.write_audit(conn, actor=actor.username, role=actor.role, action="overtime.acceptance_model.train",
                              object_type="ot_acceptance_model", object_id=version,
                              detail={**report, "in_use": use, "previous": previous, "history_rows": len(hist),
                                      "data_sha256": fingerprint})
            model_files.write_active(root, version if use else None)
    except BaseException:
        shutil.rmtree(saved.path, ignore_errors=True)
        raise
    seconds = (datetime.now(UTC) - t0).total_seconds()
    progress(1.0, "Rankings now use the model" if use else "The model did not beat the historical rate; "
             "rankings keep using the rate")
    log.info("acceptance model %s trained by %s in %.1fs (log loss %.4f vs rate %.4f, in use: %s)", version,
             actor.username, seconds, report["logloss_model"], report["logloss_rate"], use)
    return _acc_info(saved.path, version if use else None, seconds)
