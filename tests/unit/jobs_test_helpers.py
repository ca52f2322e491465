"""Child-process side of the two-process claim test (a module of its own: a spawned child imports only this)."""

from __future__ import annotations

from src.data import db
from src.data import jobs_store as jstore


def claim_all(url: str, ids: list[int], out) -> None:  # noqa: ANN001 - a multiprocessing queue
    engine = db.make_engine(url)
    out.put([jid for jid in ids if jstore.claim(engine, jid)[0] == "claimed"])
