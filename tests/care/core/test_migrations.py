"""Tests for the Alembic migrations in assistant/care/core/migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, Table, inspect

from assistant.care.core.db import Database, alembic_config
from assistant.care.core.models import metadata


def _diff(db: Database, target: MetaData) -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, target)


def test_upgrade_to_head_matches_the_models(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'migrated.db'}")
    db.upgrade()

    assert _diff(db, metadata) == []
    head = ScriptDirectory.from_config(alembic_config(db.url)).get_current_head()
    with db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head
    db.dispose()


def test_the_comparison_would_notice_a_difference(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'migrated.db'}")
    db.upgrade()
    changed = MetaData()
    for table in metadata.tables.values():
        table.to_metadata(changed)
    Table("extra", changed, Column("id", Integer, primary_key=True))

    assert _diff(db, changed) != []
    db.dispose()


def test_upgrade_is_repeatable_and_downgrade_empties_the_database(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'migrated.db'}")
    db.upgrade()
    db.upgrade()
    config = alembic_config(db.url)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")

    assert inspect(db.engine).get_table_names() == ["alembic_version"]
    db.dispose()


def test_upgrade_from_0001_keeps_escalations_and_accepts_the_new_kinds(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'migrated.db'}")
    db.upgrade("0001")
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO escalations (reference, kind, priority, status, summary, created_at) "
            "VALUES ('ES-22222', 'complaint', 2, 'open', 'cold lunch', '2026-11-20 10:00:00')"
        )
    db.upgrade()
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO escalations (reference, kind, priority, status, summary, created_at) "
            "VALUES ('ES-33333', 'wellbeing', 2, 'open', 'no answer', '2026-11-20 10:00:00')"
        )
        kinds = [row[0] for row in connection.exec_driver_sql("SELECT kind FROM escalations ORDER BY id")]
        try:
            connection.exec_driver_sql(
                "INSERT INTO escalations (reference, kind, priority, status, summary, created_at) "
                "VALUES ('ES-44444', 'gossip', 2, 'open', 'x', '2026-11-20 10:00:00')"
            )
            refused = False
        except Exception:
            refused = True
    assert kinds == ["complaint", "wellbeing"]
    assert refused, "an unknown escalation kind must still be refused by the database"
    db.dispose()
