"""Read and validate an upload in a throw-away worker process with memory, CPU and time limits, and bound how many
such workers one server runs at once.

Why a process: the parsers are the attack surface (THREATS.md T9.1); a worker with an address-space cap
(``RLIMIT_AS``), a CPU cap (``RLIMIT_CPU``) and a wall-clock timeout is the only defence against a bomb nobody
thought of yet, and a crash takes down the worker, not the server. Why here and not in :mod:`src.data.loader`: the
worker runs :func:`src.data.validation.validate_upload`, which builds on the loader — keeping both directions in one
module made an import circle (loader ↔ validation).
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
import sys
import threading
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from src.data import kinds
from src.data.loader import ParseOptions, UploadLimits, zip_directory_rejection
from src.data.parsing import Issue
from src.data.validation import ValidationReport, validate_upload

logger = logging.getLogger(__name__)

__all__ = ["DEFAULT_CPU_S", "WorkerSlotsBusy", "load_upload", "worker_slot"]


def _vm_size_bytes() -> int:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class _CpuLimitReached(BaseException):
    """Raised in the worker by SIGXCPU; a BaseException so no ``except Exception`` on the way turns it into a
    report ("internal error") instead of stopping the read."""


def _on_cpu_limit(_signum: int, _frame: Any) -> None:
    raise _CpuLimitReached


def _cap_cpu(cpu_s: float) -> None:
    """Let this process use at most ``cpu_s`` more CPU-seconds: SIGXCPU (→ :class:`_CpuLimitReached`) at the soft
    limit, the kernel's SIGKILL two seconds later should the signal be ignored in C code."""
    import resource
    import signal

    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + cpu_s)
    signal.signal(signal.SIGXCPU, _on_cpu_limit)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 2))


def _worker_main(conn: Any, kind: str, filename: str, content: bytes, options: ParseOptions | None,
                 limits: UploadLimits | None, memory_mb: int, cpu_s: float) -> None:
    """Runs in a fresh process: cap the address space *growth* and the CPU time, then read and validate."""
    try:
        try:
            import resource

            cap = _vm_size_bytes() + memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
            _cap_cpu(cpu_s)
        except (ImportError, ValueError, OSError, AttributeError):  # pragma: no cover - non-Linux
            logger.warning("could not set memory and CPU limits for the upload worker")
        report = validate_upload(kind, filename, content, options, limits)
        conn.send(("ok", report))
    except _CpuLimitReached:
        conn.send(("cpu", None))
    except MemoryError:
        conn.send(("memory", None))
    except BaseException as exc:  # noqa: BLE001 - everything must reach the parent as a message
        conn.send(("crash", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()


class WorkerSlotsBusy(Exception):
    """Every upload worker slot of this server is held by another upload (see :func:`worker_slot`)."""

    def __init__(self, slots: int) -> None:
        super().__init__(f"all {slots} upload worker slot(s) are busy")
        self.slots = slots


@contextlib.contextmanager
def worker_slot(directory: Path, slots: int) -> Iterator[int]:
    """Hold one of ``slots`` lock files under ``directory`` while the body runs; :class:`WorkerSlotsBusy` at once
    when all are held.

    Why lock files: every process of the server (Streamlit, each REST worker, the CLI) spawns its own upload
    workers, so only a bound shared through the file system holds per server — three parallel REST validations of
    one costly workbook took ~52 s each and ~600 MB with no bound. The locks are ``flock`` locks (filelock): the
    kernel releases them when a holder dies, so a killed server never leaves a slot taken. Failing fast instead of
    queueing keeps request threads free; the caller says "retry in N s".
    """
    from filelock import FileLock, Timeout

    if slots < 1:
        raise ValueError("slots must be >= 1")
    directory.mkdir(parents=True, exist_ok=True)
    for i in range(slots):
        lock = FileLock(str(directory / f"upload-worker-{i}.lock"), timeout=0)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            continue
        try:
            yield i
        finally:
            lock.release()
        return
    raise WorkerSlotsBusy(slots)


_MAIN_LOCK = threading.Lock()


@contextlib.contextmanager
def _neutral_main() -> Iterator[None]:
    """Hide ``__main__`` while a spawned worker starts.

    A "spawn" child re-imports the parent's ``__main__`` module. Inside Streamlit (and AppTest) that is the app
    script itself, so the worker would run the whole app in bare mode and die before reading the file.
    """
    with _MAIN_LOCK:
        original = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if original is not None:
                sys.modules["__main__"] = original


#: CPU-seconds one upload worker may use. Measured here: a 500,000-row CSV takes ~9, a 100,000-row workbook ~5
#: (~0.05 ms per row), so files within the row limit fit; a file costing more is stopped (and told to use CSV)
#: instead of keeping a core busy. ``timeout_s`` stays the wall-clock bound.
DEFAULT_CPU_S = 30.0


def load_upload(kind: str, filename: str, content: bytes, options: ParseOptions | None = None,
                limits: UploadLimits | None = None, *, isolated: bool = True, timeout_s: float = 60.0,
                memory_mb: int = 1024, cpu_s: float = DEFAULT_CPU_S) -> ValidationReport:
    """Read and validate an upload; with ``isolated=True`` in a spawned worker process that may grow by
    at most ``memory_mb``, use at most ``cpu_s`` CPU-seconds and is killed after ``timeout_s`` seconds. Never
    raises for a bad file: a timeout, memory or CPU exhaustion or a crash of the worker becomes an error in the
    report. How many workers run at once is bounded by the caller with :func:`worker_slot`."""
    kinds.get_kind(kind)
    if not isolated:
        return validate_upload(kind, filename, content, options, limits)
    if timeout_s <= 0 or memory_mb <= 0 or cpu_s <= 0:
        raise ValueError("timeout_s, memory_mb and cpu_s must be positive")
    name = os.path.basename(filename) or "upload"
    early = zip_directory_rejection(name, content, limits or UploadLimits())
    if early is not None:  # a bomb the directory already shows costs no worker, no slot time, no parse
        return ValidationReport(kind=kind, file=name, sheet=None, encoding=None, separator=None, issues=[early],
                                frame=None, rows_read=0, column_map={}, totals={"error": 1})
    ctx = multiprocessing.get_context("spawn")
    receiver, sender = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker_main, args=(sender, kind, filename, content, options, limits, memory_mb,
                                                  cpu_s), daemon=True)
    status, payload = "timeout", None
    with _neutral_main():
        proc.start()
    sender.close()
    try:
        if receiver.poll(timeout_s):
            try:
                status, payload = receiver.recv()
            except (EOFError, OSError):
                status = "died"
    finally:
        if status == "timeout":
            proc.kill()
        proc.join(timeout=10)
        if proc.is_alive():  # pragma: no cover
            proc.kill()
            proc.join()
        receiver.close()
    if status == "ok":
        return payload
    message = {
        "timeout": f"Reading the file took longer than {timeout_s:g} seconds and was stopped. Upload a smaller file "
                   "or a CSV export.",
        "memory": f"Reading the file needed more than {memory_mb} MB of memory and was stopped. Upload a smaller file "
                  "or a CSV export.",
        "cpu": f"Reading the file needed more than {cpu_s:g} seconds of processor time and was stopped. Upload a "
               "smaller file or a CSV export.",
        "died": f"The file reader stopped unexpectedly (exit code {proc.exitcode}); the file may be damaged or too "
                "large.",
        "crash": "The file could not be read because of an internal error; the details were logged.",
    }[status]
    if status == "crash":
        logger.error("upload worker crashed on %s: %s", name, payload)
    issue = Issue("error", message, name, code=f"worker_{status}")
    return ValidationReport(kind=kind, file=name, sheet=None, encoding=None, separator=None, issues=[issue],
                            frame=None, rows_read=0, column_map={})
