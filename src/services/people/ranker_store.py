"""Ranker storage: versions under ``models_dir/ranker/<version>/`` (``model.txt`` LightGBM text,
``metadata.json``, ``manifest.json`` with the sha256 of both files, created_by/at and headline metrics) and the
``active.json`` pointer; loading checks every file against its sha256 and parses the LightGBM text in a subprocess
first (a corrupt model can abort the process instead of raising). Nothing is pickled.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from src.data import db, store
from src.models.ranking import RankerModel
from src.services import model_files
from src.services.context import Actor, AppContext, ServiceError, require_role

from ._common import _cache_lock, _sha

log = logging.getLogger(__name__)


RANKER_DIR = "ranker"
MANIFEST = "manifest.json"
ACTIVE = "active.json"
#: ranker version ids: ``r`` + UTC timestamp (seconds in older versions, microseconds now) + random suffix
_VERSION_RE = re.compile(r"^r\d{8}T\d{6}(\d{6})?-[0-9a-f]{6}$")


@dataclass(frozen=True)
class RankerVersion:
    version: str
    created_at: str
    created_by: str
    kind: str
    metrics: dict[str, Any]
    files: dict[str, str]
    path: Path
    active: bool = False


_cache: dict[tuple[str, str], RankerModel] = {}


def _root(app: AppContext) -> Path:
    return Path(app.settings.models_dir) / RANKER_DIR


def _read_manifest(vdir: Path) -> dict[str, Any]:
    try:
        return model_files.read_manifest(vdir)
    except model_files.ModelFileError as exc:
        raise ServiceError(str(exc)) from None


def _active_id(app: AppContext) -> str | None:
    return model_files.read_active(_root(app), _VERSION_RE)


def _write_active(app: AppContext, version: str | None) -> None:
    model_files.write_active(_root(app), version)


def _version_of(vdir: Path, active: str | None) -> RankerVersion:
    doc = _read_manifest(vdir)
    return RankerVersion(version=doc["version"], created_at=str(doc.get("created_at", "")),
                         created_by=str(doc.get("created_by", "")), kind=str(doc.get("kind", "")),
                         metrics=dict(doc.get("metrics") or {}), files=dict(doc["files"]), path=vdir,
                         active=doc["version"] == active)


def _save_version(app: AppContext, model: RankerModel, created_by: str, headline: dict[str, Any]) -> RankerVersion:
    text, meta = model.to_texts()
    files = {"model.txt": text.encode("utf-8"), "metadata.json": meta.encode("utf-8")}
    stored = model_files.save_version(_root(app), model_files.new_version_id("r"), files, {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"), "created_by": created_by,
        "kind": model.kind, "metrics": headline})
    return _version_of(stored.path, _active_id(app))


def _load_version(vdir: Path) -> RankerModel:
    """Load a ranker version: sha256 check of every file, first LightGBM parse in a subprocess, then cached."""
    try:
        data = model_files.load_version(vdir, ("model.txt", "metadata.json"), lightgbm=("model.txt",))
    except model_files.ModelFileError as exc:
        raise ServiceError(str(exc)) from None
    key = (vdir.name, _sha(data["model.txt"]))
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    try:
        model = RankerModel.from_texts(data["model.txt"].decode("utf-8"), data["metadata.json"].decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - any parse failure means "unusable model"
        raise ServiceError(f"Ranker version {vdir.name} cannot be loaded: {type(exc).__name__}: {exc}") from None
    with _cache_lock:
        _cache[key] = model
    return model


def load_ranker_dir(path: Path) -> RankerModel:
    """A ranker from a folder holding ``model.txt`` + ``metadata.json`` (a copied version folder or
    ``RankerModel.save``), through the same safety layers as the stored versions: both files checked against
    ``manifest.json`` when the folder has one, the LightGBM text parsed first in a subprocess (a truncated model
    aborts the process that parses it), then loaded. Raises ServiceError with a one-line reason."""
    path = Path(path)
    names = ("model.txt", "metadata.json")
    if not all((path / n).is_file() for n in names):
        raise ServiceError(f"{path} does not hold a ranker (model.txt and metadata.json).")
    data = {n: (path / n).read_bytes() for n in names}
    if (path / MANIFEST).is_file():
        try:
            recorded = json.loads((path / MANIFEST).read_text("utf-8")).get("files") or {}
        except (ValueError, UnicodeDecodeError, AttributeError):
            raise ServiceError(f"{path / MANIFEST} is corrupt.") from None
        for n in names:
            if recorded.get(n) != _sha(data[n]):
                raise ServiceError(f"{path / n} does not match its sha256 in {MANIFEST} (corrupt or modified).")
    try:
        model_files.verify_lightgbm_file(path / "model.txt", _sha(data["model.txt"]))
        return RankerModel.from_texts(data["model.txt"].decode("utf-8"), data["metadata.json"].decode("utf-8"))
    except model_files.ModelFileError as exc:
        raise ServiceError(str(exc)) from None
    except Exception as exc:  # noqa: BLE001 - any parse failure means "unusable model"
        raise ServiceError(f"The ranker in {path} cannot be loaded: {type(exc).__name__}: {exc}") from None


def active_ranker(app: AppContext) -> tuple[RankerModel | None, str]:
    """(active model or None, status text). Never raises: a broken model means 'use the rules'."""
    version = _active_id(app)
    if version is None:
        return None, "no ranker trained yet"
    try:
        return _load_version(_root(app) / version), f"ranker {version}"
    except (ServiceError, OSError, subprocess.SubprocessError) as exc:
        log.error("active ranker %s unusable: %s", version, exc)
        return None, f"ranker {version} unusable ({exc}); using rules"


def list_ranker_versions(app: AppContext, actor: Actor) -> list[RankerVersion]:
    require_role(actor, "admin")
    root = _root(app)
    if not root.exists():
        return []
    active = _active_id(app)
    out = []
    for vdir in sorted(p for p in root.iterdir() if p.is_dir() and _VERSION_RE.match(p.name)):
        try:
            out.append(_version_of(vdir, active))
        except ServiceError as exc:
            log.warning("skipping ranker version %s: %s", vdir.name, exc)
    return out


def activate_ranker(app: AppContext, actor: Actor, version: str) -> RankerVersion:
    """Make a stored ranker version the active one (it is verified and loaded first)."""
    require_role(actor, "admin")
    if not _VERSION_RE.match(str(version)) or not (_root(app) / version).is_dir():
        raise ServiceError(f"Ranker version {version!r} does not exist.")
    _load_version(_root(app) / version)
    previous = _active_id(app)
    with db.write_tx(app.engine) as conn:
        store.write_audit(conn, actor=actor.username, role=actor.role, action="people.ranker_activate",
                          object_type="ranker", object_id=version, detail={"previous": previous})
        _write_active(app, version)
    return _version_of(_root(app) / version, version)
