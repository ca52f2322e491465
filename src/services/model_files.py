"""Versioned model files on disk, the safe way: inspectable formats, sha256 manifest, subprocess first load.

Layout of one version: ``<root>/<version>/`` with the artifact files (e.g. ``model.txt`` = LightGBM text,
``metadata.json``) and ``manifest.json`` (version, created_by/at, headline metrics, sha256 of every file); an
``<root>/active.json`` pointer names the version in use (or null). Writes go to a temporary directory renamed into
place; the pointer is replaced atomically.

Loading checks every file against its sha256 and parses a LightGBM text model **in a subprocess** the first time
this process sees that file (a corrupt model can abort the process with SIGABRT instead of raising). Nothing is
pickled. Used by the overtime acceptance model and the people ranker; ``src.models.registry`` (forecasts, in the
domain layer, which may not import services) keeps its own equivalent. New capabilities use these functions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
ACTIVE = "active.json"
SUBPROCESS_TIMEOUT_S = 120
_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
_LGBM_CHECK = "import sys, lightgbm as lgb\nb = lgb.Booster(model_file=sys.argv[1])\nprint(b.num_trees())\n"

_verified: set[str] = set()
_lock = threading.Lock()


class ModelFileError(Exception):
    """A stored model version is missing, corrupt, tampered with or cannot be parsed (message is user-facing)."""


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_version_id(prefix: str) -> str:
    """``<prefix>YYYYmmddTHHMMSSffffff-xxxxxx`` (UTC to the microsecond, so names sort by creation; unique)."""
    return f"{prefix}{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"


def version_pattern(prefix: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(prefix)}\d{{8}}T\d{{12}}-[0-9a-f]{{6}}$")


@dataclass(frozen=True)
class StoredVersion:
    version: str
    path: Path
    manifest: dict[str, Any]


def save_version(root: Path, version: str, files: dict[str, bytes], manifest: dict[str, Any]) -> StoredVersion:
    """Write ``files`` and a manifest (``manifest`` + sha256 of each file) as ``root/version`` atomically."""
    if not _NAME_RE.match(version) or any(not _NAME_RE.match(n) or n == MANIFEST for n in files):
        raise ValueError("Invalid version or file name.")
    root.mkdir(parents=True, exist_ok=True)
    doc = {**manifest, "version": version, "files": {n: sha256_bytes(b) for n, b in files.items()}}
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=".tmp-"))
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        (tmp / MANIFEST).write_text(json.dumps(doc, indent=2, allow_nan=False, default=str), "utf-8")
        os.replace(tmp, root / version)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for name, sha in doc["files"].items():
        if name.endswith(".txt"):
            with _lock:
                _verified.add(sha)  # written from memory by this process: known good
    return StoredVersion(version=version, path=root / version, manifest=doc)


def read_manifest(vdir: Path) -> dict[str, Any]:
    try:
        doc = json.loads((vdir / MANIFEST).read_text("utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"Model version {vdir.name} has no {MANIFEST}.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"Model version {vdir.name}: {MANIFEST} is corrupt ({exc}).") from None
    if not isinstance(doc, dict) or doc.get("version") != vdir.name or not isinstance(doc.get("files"), dict):
        raise ModelFileError(f"Model version {vdir.name}: {MANIFEST} has an unexpected structure.")
    return doc


def verify_lightgbm_file(path: Path, sha: str) -> None:
    """Parse a LightGBM text model in a subprocess unless this process already verified that sha256."""
    with _lock:
        if sha in _verified:
            return
    try:
        proc = subprocess.run([sys.executable, "-c", _LGBM_CHECK, str(path)], capture_output=True,
                              timeout=SUBPROCESS_TIMEOUT_S, env={**os.environ, "OMP_NUM_THREADS": "1"})
    except subprocess.TimeoutExpired:
        raise ModelFileError(f"The LightGBM model {path.parent.name}/{path.name} did not load within "
                             f"{SUBPROCESS_TIMEOUT_S} s.") from None
    if proc.returncode != 0:
        raise ModelFileError(f"The LightGBM model {path.parent.name}/{path.name} is corrupt "
                             f"(safety load exited with {proc.returncode}).")
    with _lock:
        _verified.add(sha)


def load_version(vdir: Path, names: tuple[str, ...], *, lightgbm: tuple[str, ...] = ()) -> dict[str, bytes]:
    """The bytes of ``names`` in ``vdir`` after the sha256 check; ``lightgbm`` files also pass the subprocess load."""
    doc = read_manifest(vdir)
    out: dict[str, bytes] = {}
    for name in names:
        sha = doc["files"].get(name)
        path = vdir / name
        if not sha or not path.is_file():
            raise ModelFileError(f"Model version {vdir.name} is missing {name}.")
        raw = path.read_bytes()
        if sha256_bytes(raw) != sha:
            raise ModelFileError(f"Model version {vdir.name}: {name} does not match its recorded sha256 "
                                 "(corrupt or modified).")
        out[name] = raw
    for name in lightgbm:
        verify_lightgbm_file(vdir / name, doc["files"][name])
    return out


def read_active(root: Path, pattern: re.Pattern[str]) -> str | None:
    path = root / ACTIVE
    if not path.exists():
        return None
    try:
        value = json.loads(path.read_text("utf-8")).get("active")
    except (ValueError, UnicodeDecodeError, AttributeError):
        log.warning("active pointer %s is corrupt; treating as no active model", path)
        return None
    return value if isinstance(value, str) and pattern.match(value) else None


def write_active(root: Path, version: str | None) -> None:
    root.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".active-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"active": version, "updated_at": datetime.now(UTC).isoformat(timespec="seconds")}, fh)
    os.replace(tmp, root / ACTIVE)
