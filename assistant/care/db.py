"""Database access: the engine, transactional sessions and migrations."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.future import create_engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from assistant.care.models import metadata

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class Database:
    """An engine plus a session factory for one database URL.

    Nothing connects at construction time; create one per process and share it.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:///care.db`` or
            ``postgresql+psycopg2://user@host/db``.
        echo: Log every SQL statement (debugging only).
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url: str = url
        self.engine: Engine = _build_engine(url, echo=echo)
        self._sessions = sessionmaker(bind=self.engine, future=True, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Yield a session inside a transaction.

        The transaction commits when the block ends normally and rolls back when
        it raises, so callers report success only after leaving the block.
        """
        with self._sessions() as session, session.begin():
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


def _build_engine(url: str, *, echo: bool) -> Engine:
    """Create the engine, with the SQLite settings we rely on."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)

    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 15}}
    if parsed.database in (None, "", ":memory:"):
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, echo=echo, **kwargs)
    _configure_sqlite(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    """Enable foreign keys and let SQLAlchemy (not pysqlite) control transactions.

    pysqlite's own implicit transactions break SAVEPOINT; the documented fix is to
    turn them off and emit BEGIN ourselves.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN")
