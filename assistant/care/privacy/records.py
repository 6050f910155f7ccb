"""Every stored row about one person, found from the schema itself rather than a list of tables.

A row is about a person when

* one of its columns refers to ``persons.id`` and holds their id (a booking they placed, a link to a
  relative, a reminder for them);
* a column named ``conversation_id`` holds their conversation (a danger check, an unclear message,
  a notification to an unregistered chat);
* it refers, by a foreign key, to a row already found about them (the deliveries of their
  reminders, the notes on their escalations, the review of their booking);
* a text of it quotes the reference of a row found above (an alert to a relative about their
  emergency, a note on their booking);
* it is an audit entry they made (``person:<id>``) or one about a row found above.

Tables are read parents first (``metadata.sorted_tables``), so a new table that refers to a person,
a conversation or any of these rows is covered without a change here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Mapping, Optional

from sqlalchemy import Column, String, Table, Text, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from assistant.care.core import audit
from assistant.care.core.models import AuditLog, Person, metadata

CONDITIONS_PER_QUERY: int = 200
"""How many conditions one query tests (texts quoting any of many references make many)."""
PERSONS: str = Person.__table__.name
AUDIT: str = AuditLog.__table__.name


@dataclass
class PersonRecords:
    """The rows about one person, by table name, each row as a plain dict of its columns."""

    person_id: int
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def keys(self, table: str, column: str = "id") -> set[Any]:
        """The values of one column over the rows found in a table."""
        return {row[column] for row in self.tables.get(table, ()) if row.get(column) is not None}

    def references(self) -> set[str]:
        """The references ("CL-7K3QP", "E-4MXQ2") of every row found, in any table."""
        return {str(row["reference"]) for rows in self.tables.values() for row in rows if row.get("reference")}

    def count(self) -> int:
        """How many rows were found in all."""
        return sum(len(rows) for rows in self.tables.values())

    def as_json(self) -> str:
        """The rows as one JSON document (times in ISO 8601, UTC)."""
        return as_json({"person_id": self.person_id, "tables": self.tables})


def as_json(document: Any) -> str:
    """A document with rows in it as indented JSON (times in ISO 8601, money as text)."""
    return json.dumps(document, default=_plain, indent=2, sort_keys=True)


def _plain(value: Any) -> Any:
    """JSON for the column types JSON does not know."""
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"not JSON: {type(value).__name__}")


def primary_key(table: Table, row: Mapping[str, Any]) -> tuple[Any, ...]:
    """The primary key of a row read from ``table``."""
    return tuple(row[column.name] for column in table.primary_key.columns)


def refers_to_person(column: Column) -> bool:
    """True when the column is a foreign key to ``persons.id``."""
    return any(key.column.table.name == PERSONS for key in column.foreign_keys)


def _entity_keys(found: PersonRecords, entity_type: str) -> set[str]:
    """The audit ``entity_id`` values that name a found row of the table behind ``entity_type``."""
    for table in (entity_type, f"{entity_type}s"):
        if table in found.tables:
            keys = {str(key) for key in found.keys(table)}
            if "reference" in metadata.tables[table].c:
                keys |= {str(key) for key in found.keys(table, "reference")}
            return keys
    return set()


def _conditions(table: Table, found: PersonRecords, conversation_id: Optional[str]) -> list[ColumnElement]:
    """What makes a row of ``table`` about the person, given the rows found so far."""
    conditions: list[ColumnElement] = []
    if table.name == PERSONS:
        conditions.append(table.c.id == found.person_id)
    if conversation_id is not None and "conversation_id" in table.c:
        conditions.append(table.c.conversation_id == conversation_id)
    for column in table.c:
        if refers_to_person(column):
            conditions.append(column == found.person_id)
            continue
        for key in column.foreign_keys:
            values = found.keys(key.column.table.name, key.column.name)
            if values:
                conditions.append(column.in_(sorted(values)))
    return conditions


NOBODY: Final = 0
"""The ``person_id`` of the records of a conversation with no person behind it (no row has id 0)."""


def records_of_conversation(session: Session, conversation_id: str) -> PersonRecords:
    """Every row about whoever writes in a conversation: their person's, or, when we have no person
    for it, the rows that carry the conversation id (settings, unclear messages, notifications)."""
    person_id = session.scalar(select(Person.id).where(Person.conversation_id == conversation_id))
    if person_id is not None:
        return records_about(session, person_id)
    return _collect(session, PersonRecords(NOBODY), conversation_id)


def records_about(session: Session, person_id: int) -> PersonRecords:
    """Every row about one person, table by table (empty when there is no such person)."""
    found = PersonRecords(person_id)
    person = session.get(Person, person_id)
    if person is None:
        return found
    return _collect(session, found, person.conversation_id)


def _collect(session: Session, found: PersonRecords, conversation_id: Optional[str]) -> PersonRecords:
    """Fill ``found`` from every table: its person's rows, the conversation's, and rows that refer to them."""
    tables = [table for table in metadata.sorted_tables if table.name != AUDIT]
    for table in tables:
        _add(session, found, table, _conditions(table, found, conversation_id))
    # a message or a note that quotes one of their references ("E-7K3QP") is about them too
    references = sorted(found.references())
    for table in tables:
        _add(session, found, table, _quoting(table, references))
    # the audit trail last: its entries name rows of every other table
    audit_table = metadata.tables[AUDIT]
    _add(session, found, audit_table, _audit_conditions(session, found) + _quoting(audit_table, references))
    return found


def _add(session: Session, found: PersonRecords, table: Table, conditions: list[ColumnElement]) -> None:
    """Add the rows of ``table`` that meet any of ``conditions`` (each row once)."""
    if not conditions:
        return
    rows = found.tables.setdefault(table.name, [])
    seen = {primary_key(table, row) for row in rows}
    # a few hundred conditions per query: SQLite refuses expressions nested more than 1,000 deep
    for start in range(0, len(conditions), CONDITIONS_PER_QUERY):
        chunk = conditions[start:start + CONDITIONS_PER_QUERY]
        for row in session.execute(select(table).where(or_(*chunk)).order_by(*table.primary_key.columns)):
            values = dict(row._mapping)
            key = primary_key(table, values)
            if key not in seen:
                seen.add(key)
                rows.append(values)
    if not rows:
        del found.tables[table.name]


def _quoting(table: Table, references: list[str]) -> list[ColumnElement]:
    """Rows whose texts quote one of the references (the reference column itself excepted)."""
    texts = [column for column in table.c if isinstance(column.type, (String, Text)) and column.name != "reference"]
    return [column.contains(reference, autoescape=True) for column in texts for reference in references]


def _audit_conditions(session: Session, found: PersonRecords) -> list[ColumnElement]:
    """Audit entries the person made, or about a found row (the entity type names the row's table)."""
    conditions: list[ColumnElement] = [AuditLog.actor == audit.person_actor(found.person_id)]
    entity_types = session.scalars(select(AuditLog.entity_type).distinct())
    for entity_type in entity_types:
        keys = _entity_keys(found, entity_type)
        if keys:
            conditions.append((AuditLog.entity_type == entity_type) & AuditLog.entity_id.in_(sorted(keys)))
    return conditions
