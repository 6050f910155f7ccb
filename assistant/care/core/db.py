"""Database access: the engine, transactional sessions and migrations."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.future import create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool, StaticPool

from assistant.care.core.clock import Clock, utcnow
from assistant.care.core.models import metadata

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class Database:
    """An engine plus a session factory for one database URL.

    Nothing connects at construction time; create one per process and share it.

    SQLite files run in WAL mode (readers never block the writer, which suits
    the action server, care service and console sharing one file) with foreign
    keys on. WAL mode adds ``-wal`` and ``-shm`` files beside the database.
    Transactions from :meth:`session` start with ``BEGIN IMMEDIATE``: a
    transaction that reads first and writes later would otherwise fail at once
    with "database is locked" when another process wrote in between (SQLite
    cannot upgrade a stale read snapshot, and its busy timeout does not apply).
    :meth:`reading` starts a plain deferred transaction for read-only work.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:///care.db`` or
            ``postgresql+psycopg2://user@host/db``.
        echo: Log every SQL statement (debugging only).
        durable: For SQLite, sync every commit to disk (``synchronous=FULL``).
            ``False`` (``NORMAL``) survives a crash of the program but may lose
            the last commits on power loss; it is for tests and throwaway demos.
    """

    def __init__(self, url: str, *, echo: bool = False, durable: bool = True) -> None:
        self.url: str = url
        self.engine: Engine = _build_engine(url, echo=echo, durable=durable)
        writer = self.engine.execution_options(sqlite_begin="BEGIN IMMEDIATE")
        self._sessions = sessionmaker(bind=writer, future=True, expire_on_commit=False)
        self._readers = sessionmaker(bind=self.engine, future=True, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session inside a transaction that may write.

        The transaction commits when the block ends normally and rolls back when
        it raises, so callers report success only after leaving the block.
        """
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """Yield a session for reading only; on SQLite it never waits for writers."""
        with self._readers() as session, session.begin():
            yield session

    def create_all(self) -> None:
        """Create every table directly from the models (tests and quick demos)."""
        metadata.create_all(self.engine)

    def upgrade(self, revision: str = "head") -> None:
        """Run the Alembic migrations up to ``revision`` (default: head)."""
        from alembic import command

        config = alembic_config(self.url)
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def alembic_config(url: str) -> Any:
    """Build the Alembic configuration in code (there is no alembic.ini).

    Args:
        url: The database URL the migrations should run against.
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _build_engine(url: str, *, echo: bool, durable: bool) -> Engine:
    """Create the engine, with the SQLite settings we rely on."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)

    in_memory = parsed.database in (None, "", ":memory:")
    engine = create_engine(
        url,
        echo=echo,
        connect_args={"check_same_thread": False, "timeout": 15},
        poolclass=StaticPool if in_memory else QueuePool,
    )
    pragmas = ["foreign_keys=ON"]
    if not in_memory:
        pragmas += ["journal_mode=WAL", f"synchronous={'FULL' if durable else 'NORMAL'}"]
    _configure_sqlite(engine, pragmas)
    return engine


def _configure_sqlite(engine: Engine, pragmas: list[str]) -> None:
    """Set ``pragmas`` on each connection and let SQLAlchemy control transactions.

    pysqlite's own implicit transactions break SAVEPOINT; the documented fix is to
    turn them off and emit BEGIN ourselves.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            for pragma in pragmas:
                cursor.execute(f"PRAGMA {pragma}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(connection.get_execution_options().get("sqlite_begin", "BEGIN"))


class CareService:
    """Base of the services over one database: subclasses use ``self._db`` and ``self._clock``.

    Args:
        db: The database.
        clock: Returns the current aware time (tests pass a fixed one).
    """

    def __init__(self, db: Database, clock: Clock = utcnow) -> None:
        self._db = db
        self._clock = clock
