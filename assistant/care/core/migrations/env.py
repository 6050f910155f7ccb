"""Alembic environment for the care database.

Run through :meth:`assistant.care.core.db.Database.upgrade`, which passes an open
connection in ``config.attributes["connection"]``. Without one, the URL from the
configuration is used (``sqlalchemy.url``).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from assistant.care.core.models import metadata

config = context.config
target_metadata = metadata


def _configure(connection: Connection) -> None:
    """Configure the migration context for one connection."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_offline() -> None:
    """Emit the migration SQL without a database connection."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run the migrations on the given connection or a fresh one."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return

    from assistant.care.core.db import Database

    database = Database(config.get_main_option("sqlalchemy.url"))
    try:
        with database.engine.begin() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        database.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
