"""File-based model registry: versions, one active model per series, no pickle.

Layout under ``root`` (default ``models/``)::

    <series-key>/active.json            {"active": version_id | null, "history": [older actives…]}
    <series-key>/<version_id>/meta.json  series, model, params, metrics, fingerprint, created_by/at,
                                         code version, sha256 of every artifact (+ optional HMAC)
    <series-key>/<version_id>/<artifact> prophet.json (model_to_json), lightgbm.txt, tail.json …

Safety (SECURITY_FINDINGS.md F): nothing is unpickled; every artifact's SHA-256 is checked before it
is parsed; a LightGBM text model is first loaded **in a subprocess**, because a corrupted one makes
LightGBM abort the whole process (SIGABRT) instead of raising. Any problem surfaces as
:class:`RegistryError` with a message an admin can act on. Writes go to a temporary directory that
is renamed into place, and changes to ``active.json`` hold a file lock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock

from src.models.forecasting.fitted import FittedModel

logger = logging.getLogger(__name__)

MAX_META_BYTES = 5_000_000
MAX_ARTIFACT_BYTES = 200_000_000
SUBPROCESS_TIMEOUT_S = 120
_VERSION_RE = re.compile(r"^v\d{8}T\d{6}\d{6}-[0-9a-f]{6}$")
_LGBM_CHECK = (
    "import sys, lightgbm as lgb\n"
    "b = lgb.Booster(model_file=sys.argv[1])\n"
    "print(b.num_trees())\n"
)


class RegistryError(Exception):
    """A model version is missing, corrupt, tampered with or cannot be loaded."""


def data_fingerprint(df: pd.DataFrame) -> str:
    """SHA-256 of the training data (columns ``series_id, ds, y`` if present, rows sorted): same data → same hash."""
    cols = [c for c in ("series_id", "ds", "y") if c in df.columns] or list(df.columns)
    frame = df[cols].sort_values(cols, kind="stable").reset_index(drop=True)
    payload = frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S", float_format="%.10g").encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _series_key(series_id: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(series_id)).strip("._")[:40] or "series"
    return f"{slug}-{_sha256(str(series_id).encode('utf-8'))[:8]}"


def _canonical(meta: dict[str, Any]) -> bytes:
    return json.dumps(meta, sort_keys=True, separators=(",", ":"), allow_nan=True).encode("utf-8")


def _jsonable(value: Any) -> Any:
    """Metrics may hold NumPy scalars/NaN; make them plain JSON (NaN → None)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.isoformat()
    return value


@dataclass(frozen=True)
class ModelVersion:
    """One saved model version (metadata only; :meth:`ModelRegistry.load` gives the model)."""

    version_id: str
    series_id: str
    model: str
    created_at: str
    created_by: str
    code_version: str
    data_fingerprint: str
    metrics: dict[str, Any]
    params: dict[str, Any]
    files: dict[str, str]
    path: Path
    active: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class ModelRegistry:
    """Versions of fitted forecasting models under ``root`` (see module docstring).

    ``signing_key`` (optional) adds an HMAC-SHA256 over the metadata so that an edited ``meta.json``
    (e.g. a swapped artifact hash) is detected, not only accidental corruption.
    """

    def __init__(self, root: Path | str = Path("models"), *, code_version: str = "dev",
                 signing_key: bytes | None = None, python: str | None = None) -> None:
        self.root = Path(root)
        self.code_version = code_version
        self._key = signing_key
        self._python = python or sys.executable
        self._verified: set[str] = set()  # sha256 of LightGBM files that passed the subprocess load

    # ----------------------------------------------------------------- helpers
    def _lock(self) -> FileLock:
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / ".registry.lock"), timeout=30)

    def _sign(self, meta: dict[str, Any]) -> str | None:
        if self._key is None:
            return None
        return hmac.new(self._key, _canonical(meta), hashlib.sha256).hexdigest()

    def _find_dir(self, version_id: str) -> Path:
        if not _VERSION_RE.match(str(version_id)):
            raise RegistryError(f"Not a model version id: {version_id!r}")
        hits = [p for p in self.root.glob(f"*/{version_id}") if p.is_dir()]
        if not hits:
            raise RegistryError(f"Model version {version_id} does not exist in {self.root}")
        return hits[0]

    def _read_meta(self, vdir: Path) -> dict[str, Any]:
        path = vdir / "meta.json"
        try:
            if path.stat().st_size > MAX_META_BYTES:
                raise RegistryError(f"{path} is too large to be model metadata")
            doc = json.loads(path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            raise RegistryError(f"Model version {vdir.name} has no meta.json") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RegistryError(f"Metadata of model version {vdir.name} is corrupt: {exc}") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("meta"), dict):
            raise RegistryError(f"Metadata of model version {vdir.name} has an unexpected structure")
        meta = doc["meta"]
        if doc.get("meta_sha256") != _sha256(_canonical(meta)):
            raise RegistryError(f"Metadata of model version {vdir.name} was modified (checksum mismatch)")
        if self._key is not None:
            expected = self._sign(meta)
            if not isinstance(doc.get("hmac"), str) or not hmac.compare_digest(doc["hmac"], expected or ""):
                raise RegistryError(f"Metadata of model version {vdir.name} fails its signature check")
        if meta.get("version_id") != vdir.name:
            raise RegistryError(f"Metadata of model version {vdir.name} names another version")
        return meta

    def _active_doc(self, sdir: Path) -> dict[str, Any]:
        path = sdir / "active.json"
        if not path.exists():
            return {"active": None, "history": []}
        try:
            doc = json.loads(path.read_text("utf-8"))
            if not isinstance(doc, dict):
                raise ValueError("not an object")
            return {"active": doc.get("active"), "history": list(doc.get("history") or [])}
        except (ValueError, UnicodeDecodeError) as exc:
            raise RegistryError(f"{path} is corrupt: {exc}") from None

    def _write_active(self, sdir: Path, doc: dict[str, Any]) -> None:
        fd, tmp = tempfile.mkstemp(dir=sdir, prefix=".active-", suffix=".json")
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(doc, indent=2).encode("utf-8"))
        os.replace(tmp, sdir / "active.json")

    def _version(self, meta: dict[str, Any], vdir: Path, active_id: str | None) -> ModelVersion:
        return ModelVersion(
            version_id=meta["version_id"], series_id=str(meta["series_id"]), model=str(meta["model"]),
            created_at=str(meta["created_at"]), created_by=str(meta["created_by"]),
            code_version=str(meta["code_version"]), data_fingerprint=str(meta["data_fingerprint"]),
            metrics=dict(meta.get("metrics") or {}), params=dict(meta.get("state") or {}),
            files=dict(meta["files"]), path=vdir, active=meta["version_id"] == active_id,
        )

    # -------------------------------------------------------------------- API
    def save(self, fitted: FittedModel, *, series_id: str | None = None, created_by: str,
             metrics: dict[str, Any] | None = None, data_fingerprint: str = "",
             activate: bool | None = None) -> ModelVersion:
        """Store ``fitted`` as a new version. ``activate=None`` activates it only if the series has no
        active version yet; True/False force it."""
        sid = str(series_id if series_id is not None else fitted.series_id)
        state, artifacts = fitted.to_state()
        now = datetime.now(UTC)
        version_id = f"v{now:%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"
        sdir = self.root / _series_key(sid)
        sdir.mkdir(parents=True, exist_ok=True)
        files = {}
        for name, data in artifacts.items():
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", name) or name == "meta.json":
                raise RegistryError(f"Refusing artifact name {name!r}")
            files[name] = _sha256(data)
        meta = _jsonable({
            "version_id": version_id, "series_id": sid, "model": fitted.model_name,
            "created_at": now.isoformat(), "created_by": str(created_by), "code_version": self.code_version,
            "data_fingerprint": data_fingerprint, "metrics": metrics or {}, "state": state, "files": files,
        })
        doc = {"meta": meta, "meta_sha256": _sha256(_canonical(meta))}
        if self._key is not None:
            doc["hmac"] = self._sign(meta)
        tmp = Path(tempfile.mkdtemp(dir=sdir, prefix=".tmp-"))
        try:
            for name, data in artifacts.items():
                (tmp / name).write_bytes(data)  # binary: no newline translation
            (tmp / "meta.json").write_bytes(json.dumps(doc, indent=2, allow_nan=False).encode("utf-8"))
            os.replace(tmp, sdir / version_id)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        for name, sha in files.items():
            if name.endswith("lightgbm.txt"):
                self._verified.add(sha)  # written from memory by this process: known good
        logger.info("saved model %s for series %s (%s) by %s", version_id, sid, fitted.model_name, created_by)
        with self._lock():
            current = self._active_doc(sdir)
            if activate or (activate is None and not current["active"]):
                self._set_active(sdir, version_id)
        return self.get(version_id)

    def get(self, version_id: str) -> ModelVersion:
        """Metadata of one version (``RegistryError`` if missing or corrupt)."""
        vdir = self._find_dir(version_id)
        meta = self._read_meta(vdir)
        return self._version(meta, vdir, self._active_doc(vdir.parent)["active"])

    def list_versions(self, series_id: str | None = None) -> list[ModelVersion]:
        """Versions, oldest first; unreadable versions are skipped with a warning (use :meth:`get` to see why)."""
        if not self.root.exists():
            return []
        sdirs = [self.root / _series_key(series_id)] if series_id is not None else sorted(
            p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith("."))
        out: list[ModelVersion] = []
        for sdir in sdirs:
            if not sdir.is_dir():
                continue
            try:
                active_id = self._active_doc(sdir)["active"]
            except RegistryError as exc:
                logger.warning("%s", exc)
                active_id = None
            for vdir in sorted(p for p in sdir.iterdir() if p.is_dir() and _VERSION_RE.match(p.name)):
                try:
                    out.append(self._version(self._read_meta(vdir), vdir, active_id))
                except (RegistryError, KeyError, TypeError) as exc:
                    logger.warning("skipping model version %s: %s", vdir.name, exc)
        return sorted(out, key=lambda v: (v.created_at, v.version_id))

    def _set_active(self, sdir: Path, version_id: str) -> None:
        doc = self._active_doc(sdir)
        if doc["active"] and doc["active"] != version_id:
            doc["history"].append(doc["active"])
        doc["active"] = version_id
        self._write_active(sdir, doc)

    def activate(self, version_id: str) -> ModelVersion:
        """Make ``version_id`` the active model of its series (the previous one can be rolled back to)."""
        version = self.get(version_id)
        with self._lock():
            self._set_active(version.path.parent, version_id)
        logger.info("activated model %s for series %s", version_id, version.series_id)
        return self.get(version_id)

    def active(self, series_id: str) -> ModelVersion | None:
        """The active version of ``series_id`` or None."""
        sdir = self.root / _series_key(series_id)
        if not sdir.is_dir():
            return None
        active_id = self._active_doc(sdir)["active"]
        return self.get(active_id) if active_id else None

    def rollback(self, series_id: str) -> ModelVersion:
        """Re-activate the previously active version that still exists; ``RegistryError`` if there is none."""
        sdir = self.root / _series_key(series_id)
        with self._lock():
            doc = self._active_doc(sdir)
            while doc["history"]:
                previous = doc["history"].pop()
                if (sdir / previous).is_dir():
                    doc["active"] = previous
                    self._write_active(sdir, doc)
                    logger.info("rolled back series %s to %s", series_id, previous)
                    return self.get(previous)
        raise RegistryError(f"Series {series_id!r} has no earlier active version to roll back to")

    def delete(self, version_id: str, *, force: bool = False) -> None:
        """Delete a version. The active one only with ``force=True`` (the series then has no active model)."""
        vdir = self._find_dir(version_id)
        sdir = vdir.parent
        with self._lock():
            doc = self._active_doc(sdir)
            if doc["active"] == version_id:
                if not force:
                    raise RegistryError(f"{version_id} is the active model; activate another one or use force")
                doc["active"] = None
            doc["history"] = [v for v in doc["history"] if v != version_id]
            self._write_active(sdir, doc)
            shutil.rmtree(vdir)
        logger.info("deleted model version %s", version_id)

    def _check_lightgbm(self, path: Path, sha: str) -> None:
        if sha in self._verified:
            return
        try:
            proc = subprocess.run([self._python, "-c", _LGBM_CHECK, str(path)], capture_output=True,
                                  timeout=SUBPROCESS_TIMEOUT_S, env={**os.environ, "OMP_NUM_THREADS": "1"})
        except subprocess.TimeoutExpired:
            raise RegistryError(f"LightGBM model {path} did not load within {SUBPROCESS_TIMEOUT_S} s") from None
        if proc.returncode != 0:
            tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
            raise RegistryError(f"LightGBM model {path} is corrupt (safety load exited with {proc.returncode}: "
                                f"{tail[0][:200]})")
        self._verified.add(sha)

    def load(self, version_id: str) -> FittedModel:
        """The fitted model of ``version_id``, after checking every file's SHA-256 (``RegistryError`` otherwise)."""
        vdir = self._find_dir(version_id)
        meta = self._read_meta(vdir)
        try:
            files = dict(meta["files"])
            state = meta["state"]
        except (KeyError, TypeError):
            raise RegistryError(f"Metadata of model version {version_id} is incomplete") from None
        artifacts: dict[str, bytes] = {}
        for name, sha in files.items():
            path = vdir / name
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", str(name)) or not path.is_file():
                raise RegistryError(f"Model version {version_id} is missing its file {name}")
            if path.stat().st_size > MAX_ARTIFACT_BYTES:
                raise RegistryError(f"Model file {path} is too large")
            data = path.read_bytes()
            if _sha256(data) != sha:
                raise RegistryError(f"Model file {path} does not match its recorded SHA-256 (corrupt or tampered)")
            if name.endswith("lightgbm.txt"):
                self._check_lightgbm(path, sha)
            artifacts[name] = data
        try:
            return FittedModel.from_state(state, artifacts)
        except RegistryError:
            raise
        except Exception as exc:  # noqa: BLE001 - any parse failure is a corrupt model to the caller
            raise RegistryError(f"Model version {version_id} cannot be loaded: {type(exc).__name__}: {exc}") from None
