"""Database engine and schema (SQLAlchemy 2 Core). SQLite by default, PostgreSQL via ``DATABASE_URL``.

Why Core tables and not the ORM: every write here is a bulk insert/delete of validated frames inside one
transaction; Core keeps that explicit and identical on both backends.

SQLite specifics (shared/SECURITY_FINDINGS.md I): WAL so readers never block the writer, a 15 s busy timeout,
foreign keys on, and ``BEGIN IMMEDIATE`` for write transactions (a deferred read-then-write in WAL fails at once
with "database is locked" if another writer committed in between; the busy handler cannot help there).
Use :func:`write_tx` for every write.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

#: Version history (a database records the version it was brought to in ``schema_version``):
#: 1 — the first release; 2 — saved staffing plans keep every quality column per interval (P(wait), e-mail
#: backlog, and the ASA / P(abandon) / productive agents the shift plan's people achieve); 3 — the ``roster`` table
#: of the roster upload kind (regular shifts, seen by the overtime ranking); 4 — the ``jobs`` table of background
#: work (``src.data.jobs_store``).
SCHEMA_VERSION = 4

metadata = MetaData()

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", DateTime, nullable=False),
)

users = Table(
    "users", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(100), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    # cookies issued before this moment are refused (logout, password reset, disable revoke sessions)
    Column("sessions_valid_after", Float, nullable=False, default=0.0),
    CheckConstraint("role IN ('admin', 'planner')", name="ck_users_role"),
)

login_attempts = Table(
    "login_attempts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(128), nullable=False),
    Column("ts", Float, nullable=False),
    Column("success", Boolean, nullable=False),
    Index("ix_login_attempts_user_ts", "username", "ts"),
)

upload_batches = Table(
    "upload_batches", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("replaced_rows", Integer, nullable=False, default=0),
    Column("policy", String(16), nullable=False),
    Column("uploaded_by", String(64), nullable=False),
    Column("uploaded_at", DateTime, nullable=False),
    Column("range_start", DateTime, nullable=True),
    Column("range_end", DateTime, nullable=True),
    CheckConstraint("rows >= 0", name="ck_batches_rows"),
    # ids are named to delete a batch (page, API): SQLite must never hand a deleted batch's id to the next upload,
    # or a retried DELETE would remove the wrong file (plain INTEGER PRIMARY KEY reuses the highest freed id)
    sqlite_autoincrement=True,
)

audit_event = Table(
    "audit_event", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts_utc", DateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("role", String(16), nullable=True),
    Column("action", String(64), nullable=False),
    Column("object_type", String(64), nullable=True),
    Column("object_id", String(128), nullable=True),
    Column("outcome", String(16), nullable=False),
    Column("detail_json", Text, nullable=True),
    Index("ix_audit_ts", "ts_utc"),
)

workload = Table(
    "workload", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, ForeignKey("upload_batches.id"), nullable=False),
    Column("timestamp", DateTime, nullable=False),
    Column("queue", String(128), nullable=False),
    Column("site", String(128), nullable=False, default=""),
    Column("volume", Integer, nullable=False),
    Column("aht_seconds", Float, nullable=True),
    UniqueConstraint("queue", "site", "timestamp", name="uq_workload_key"),
    CheckConstraint("volume >= 0", name="ck_workload_volume"),
    CheckConstraint("aht_seconds IS NULL OR aht_seconds > 0", name="ck_workload_aht"),
)

unit_shifts = Table(
    "unit_shifts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, ForeignKey("upload_batches.id"), nullable=False),
    Column("date", DateTime, nullable=False),
    Column("site", String(128), nullable=False),
    Column("unit", String(128), nullable=False),
    Column("shifts", Integer, nullable=False),
    UniqueConstraint("site", "unit", "date", name="uq_unit_shifts_key"),
    CheckConstraint("shifts >= 0", name="ck_unit_shifts_shifts"),
)

staff = Table(
    "staff", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, ForeignKey("upload_batches.id"), nullable=False),
    Column("staff_id", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("site", String(128), nullable=False),
    Column("role", String(128), nullable=False),
    Column("skills", Text, nullable=False),
    Column("hire_date", DateTime, nullable=False),
    Column("contract_hours", Float, nullable=False),
    Column("ot_willing", Boolean, nullable=False),
    Column("preferred_sites", Text, nullable=False, default=""),
    CheckConstraint("contract_hours >= 0", name="ck_staff_hours"),
)

assignments = Table(
    "assignments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, ForeignKey("upload_batches.id"), nullable=False),
    Column("task_id", String(64), nullable=False),
    Column("staff_id", String(64), nullable=False),
    Column("task_type", String(128), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("due", DateTime, nullable=False),
    Column("assigned_at", DateTime, nullable=False),
    Column("outcome", Boolean, nullable=False),
    Column("site", String(128), nullable=True),
    Column("required_skill", String(128), nullable=True),
    Column("hours", Float, nullable=True),
    UniqueConstraint("task_id", "staff_id", name="uq_assignments_key"),
    CheckConstraint("priority >= 0", name="ck_assignments_priority"),
)

overtime = Table(
    "overtime", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, ForeignKey("upload_batches.id"), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("shift_date", DateTime, nullable=False),
    Column("site", String(128), nullable=False),
    Column("shift_type", String(64), nullable=False),
    Column("staff_id", String(64), nullable=False),
    Column("contacted_at", DateTime, nullable=False),
    Column("responded_at", DateTime, nullable=True),
    Column("accepted", Boolean, nullable=False),
    Column("hours_worked", Float, nullable=False),
    Column("unit", String(128), nullable=True),
    UniqueConstraint("request_id", "staff_id", name="uq_overtime_key"),
    CheckConstraint("hours_worked >= 0", name="ck_overtime_hours"),
)

# Regular rostered shifts. ``start``/``end`` are full local timestamps (a night shift ends on the next day) so a
# week's roster is one range query; ``hours`` are the paid hours (end − start unless the upload said less).
roster = Table(
    "roster", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", Integer, ForeignKey("upload_batches.id"), nullable=False),
    Column("staff_id", String(64), nullable=False),
    Column("date", DateTime, nullable=False),
    Column("shift_type", String(32), nullable=False, default=""),
    Column("start", DateTime, nullable=False),
    Column("end", DateTime, nullable=False),
    Column("site", String(128), nullable=False),
    Column("unit", String(128), nullable=True),
    Column("hours", Float, nullable=False),
    UniqueConstraint("staff_id", "date", "start", name="uq_roster_key"),
    CheckConstraint('"end" > "start"', name="ck_roster_times"),
    CheckConstraint("hours > 0 AND hours <= 24", name="ck_roster_hours"),
    Index("ix_roster_start", "start"),
    Index("ix_roster_site_date", "site", "date"),
)

#: dataset kind -> table holding its rows
KIND_TABLES: dict[str, Table] = {
    "workload": workload,
    "unit_shifts": unit_shifts,
    "staff": staff,
    "assignments": assignments,
    "overtime": overtime,
    "roster": roster,
}


def utcnow() -> datetime:
    """Naive UTC timestamp (both backends store naive DateTime)."""
    return datetime.now(UTC).replace(tzinfo=None)


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str) -> Engine:
    """Create an engine with the pragmas/transaction behaviour described in the module docstring.

    ``hide_parameters`` keeps bound values (which may be personal data) out of error messages.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, hide_parameters=True, poolclass=NullPool,
                               connect_args={"timeout": 15, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn, _record):  # noqa: ANN001
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (SQLAlchemy's documented recipe)
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=15000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):  # noqa: ANN001
            mode = "BEGIN IMMEDIATE" if conn.get_execution_options().get("wfp_write") else "BEGIN"
            conn.exec_driver_sql(mode)
    else:
        engine = create_engine(url, hide_parameters=True, pool_pre_ping=True)
    return engine


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """One write transaction (``BEGIN IMMEDIATE`` on SQLite). Commits on success, rolls back on any error."""
    with engine.execution_options(wfp_write=True).begin() as conn:
        yield conn


@contextmanager
def read_conn(engine: Engine) -> Iterator[Connection]:
    """A read-only use of the database (a deferred transaction that is rolled back)."""
    with engine.connect() as conn:
        yield conn


_AUDIT_GUARD_SQLITE = (
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;",
)
_AUDIT_GUARD_PG = (
    "CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit log is append-only'; END; $$ LANGUAGE plpgsql;",
    "DROP TRIGGER IF EXISTS audit_no_change ON audit_event;",
    "CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION audit_append_only();",
)


#: store modules of the capabilities; each defines its tables on :data:`metadata` and its own queries.
#: Imported before ``create_all`` so one ``init_schema`` creates every table of the product.
STORE_EXTENSIONS = (
    "src.data.forecast_store",
    "src.data.plan_store",
    "src.data.people_store",
    "src.data.overtime_store",
    "src.data.token_store",
    "src.data.jobs_store",
)


#: version → steps that bring a database of the previous version up to it. ``create_all`` only creates missing
#: tables, so a column added to an existing table needs a step; store modules register theirs when imported.
_MIGRATIONS: dict[int, list[tuple[str, Callable[[Connection], None]]]] = {}


def register_migration(version: int, description: str, step: Callable[[Connection], None]) -> None:
    """Run ``step(conn)`` when :func:`init_schema` upgrades a database from below ``version``.

    Why steps must be idempotent: ``create_all`` runs first in the same transaction and may just have created the
    table in its newest form (a capability whose tables did not exist yet), so a step adds only what is missing.
    Registering the same description twice (a module imported again) is a no-op.
    """
    if not 1 < version <= SCHEMA_VERSION:
        raise ValueError(f"Migration to version {version}: versions run from 2 to {SCHEMA_VERSION}.")
    steps = _MIGRATIONS.setdefault(version, [])
    if all(d != description for d, _ in steps):
        steps.append((description, step))


def _create_roster_table(conn: Connection) -> None:
    """Schema 2 → 3: the roster table. ``checkfirst`` keeps it idempotent (``create_all`` has usually made it)."""
    roster.create(conn, checkfirst=True)


register_migration(3, "roster table for the roster upload kind (regular shifts)", _create_roster_table)


def add_missing_columns(conn: Connection, table: Table, names: Sequence[str]) -> list[str]:
    """``ALTER TABLE … ADD COLUMN`` for each named column of ``table`` the database lacks; return those added.

    Only nullable columns can be added this way: rows stored before the upgrade get NULL, which readers must show
    as "not recorded". Both backends take the column's type from the table definition.
    """
    present = {c["name"] for c in inspect(conn).get_columns(table.name)}
    quote = conn.dialect.identifier_preparer.quote
    added = []
    for name in names:
        col = table.c[name]
        if not col.nullable:
            raise ValueError(f"{table.name}.{name} is NOT NULL; existing rows cannot get it by ALTER TABLE.")
        if name in present:
            continue
        guard = "" if is_sqlite(conn) else "IF NOT EXISTS "  # PostgreSQL: a concurrent start may have added it
        conn.exec_driver_sql(f"ALTER TABLE {quote(table.name)} ADD COLUMN {guard}{quote(name)} "
                             f"{col.type.compile(dialect=conn.dialect)}")
        added.append(name)
    return added


def load_extensions() -> None:
    import importlib

    for name in STORE_EXTENSIONS:  # by name: each store module imports this one for its tables; a missing
        importlib.import_module(name)  # or renamed module fails here loudly instead of losing its tables


#: key of the PostgreSQL transaction-level advisory lock held while the schema is created or upgraded
SCHEMA_LOCK_KEY = 0x5746_5053_4348_454D  # "WFPSCHEM"


def init_schema(engine: Engine) -> int:
    """Create missing tables, the append-only audit guard, upgrade an older schema and record the version; return it.

    An older database runs the registered migration steps of every version above its own, in order, inside the
    same transaction (all or nothing). Refuses to run against a database whose schema is newer than this code
    (a downgrade would corrupt it).
    """
    load_extensions()
    with write_tx(engine) as conn:
        if not is_sqlite(conn):  # SQLite's BEGIN IMMEDIATE already serialises this transaction
            # two app instances starting at once on an empty or older PostgreSQL database would otherwise race
            # in CREATE TABLE (a duplicate-key error on the catalogue) and both run the upgrade steps
            conn.execute(select(func.pg_advisory_xact_lock(SCHEMA_LOCK_KEY)))
        metadata.create_all(conn)
        for stmt in (_AUDIT_GUARD_SQLITE if is_sqlite(conn) else _AUDIT_GUARD_PG):
            conn.exec_driver_sql(stmt)
        current = conn.execute(select(func.max(schema_version.c.version))).scalar()
        if current is not None and current > SCHEMA_VERSION:
            raise RuntimeError(f"The database schema is version {current}, newer than this code "
                               f"(version {SCHEMA_VERSION}). Upgrade the application.")
        if current is not None:  # a new database got every table in its newest form from create_all
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for description, step in _MIGRATIONS.get(version, []):
                    step(conn)
                    log.info("schema upgraded to version %d: %s", version, description)
        if current is None or current < SCHEMA_VERSION:
            conn.execute(insert(schema_version).values(version=SCHEMA_VERSION, applied_at=utcnow()))
    return SCHEMA_VERSION


def drop_all(engine: Engine) -> None:
    """Remove every table (tests only)."""
    with engine.begin() as conn:
        if is_sqlite(conn):
            metadata.drop_all(conn)
        else:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
