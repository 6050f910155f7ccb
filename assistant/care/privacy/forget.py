"""Deleting everything we hold about a senior (or a relative, or an unknown chat), in one transaction.

Every row :func:`~assistant.care.privacy.records.records_about` finds is deleted, children first,
except what a provider needs for its accounts: a booking that was carried out (``done``), with its
review and its booked slots, stays, no longer pointing at the person but at one anonymous person
row, its free-text notes and review comment emptied. Audit entries about those bookings stay with
the actor ``person:deleted``. Each relative who was linked is told in one neutral line (no name)
that the link has ended. A relative's deletion keeps what they did for a senior as the senior's
(:func:`forget_relative`). What is kept and why is in ``docs/privacy.md``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Mapping, Optional

from sqlalchemy import String, Table, Text, and_, delete, select, update
from sqlalchemy.orm import Session

from assistant.care.core import audit
from assistant.care.core.errors import NotAllowed
from assistant.care.core.models import AuditLog, Booking, Person, RelativeLink, Review, metadata
from assistant.care.core.notifications import enqueue
from assistant.care.people.invites import UNLINKED_INTENT
from assistant.care.privacy.records import (
    AUDIT,
    NOBODY,
    PersonRecords,
    primary_key,
    records_about,
    records_of_conversation,
    refers_to_person,
)

KEPT_BOOKING_STATUSES: Final = ("done",)
"""Bookings kept (anonymised) for the provider's accounts: visits and deliveries carried out."""
KEPT_WITH_BOOKING: Final = ("reviews", "booking_slots")
"""Rows kept with a kept booking: its review (the provider's score) and the slots it took."""
ANONYMOUS_CHANNEL: Final = "deleted"
"""The channel of the one anonymous person row that kept bookings point at."""
DELETED_ACTOR: Final = "person:deleted"
"""The actor of kept audit entries once the person who acted is deleted."""
OWNER_COLUMNS: Final = ("senior_id", "person_id")
"""Columns that say whose a row is: a relative's deletion keeps the rows that are another person's."""
LINK_TABLES: Final = ("relative_links", "family_invites")
"""Rows between a relative and a senior: they go when either is deleted."""
NOT_SCRUBBED: Final = ("persons", "senior_profiles", "audit_log")
"""A senior's own details, and the audit trail: a relative's name is not taken out of them."""
CHUNK: Final = 500
"""Rows deleted per statement."""
NOT_A_SENIOR: Final = (
    "I can delete here only the details of a senior or a relative who writes in this chat: "
    "please ask a care coordinator to help."
)


@dataclass(frozen=True)
class ForgetReport:
    """What was deleted and what was kept, by table."""

    deleted: Mapping[str, int]
    kept: Mapping[str, int]
    relatives_told: int


def forget_senior(session: Session, person_id: int, now: datetime) -> ForgetReport:
    """Delete every row about one senior (see the module's docstring for what is kept, anonymised).

    Raises:
        NotAllowed: If the person is not a senior (a relative is forgotten with :func:`forget_relative`).
    """
    person = session.get(Person, person_id)
    if person is None or person.role != "senior":
        raise NotAllowed(NOT_A_SENIOR)
    found = records_about(session, person_id)
    kept = _kept_keys(found)
    relatives = sorted({row["relative_id"] for row in found.tables.get(RelativeLink.__table__.name, ())
                        if row["senior_id"] == person_id})
    _anonymise_kept(session, person_id, kept)
    report = _delete_and_tell(session, found, kept, relatives, "Your relative has ended the family link.", now)
    return ForgetReport(report.deleted, report.kept, relatives_told=len(relatives))


def forget_conversation(session: Session, conversation_id: str, now: datetime) -> ForgetReport:
    """Delete what we hold about whoever writes in a conversation: a senior (:func:`forget_senior`), a
    relative (:func:`forget_relative`), or someone with no person row (their settings, unclear messages...).

    Raises:
        NotAllowed: If the conversation is a coordinator's.
    """
    found = records_of_conversation(session, conversation_id)
    if found.person_id != NOBODY:
        person = session.get(Person, found.person_id)
        if person is not None and person.role == "relative":
            return forget_relative(session, found.person_id, now)
        return forget_senior(session, found.person_id, now)
    return _delete_and_tell(session, found, {}, [], "", now)


def forget_relative(session: Session, person_id: int, now: datetime) -> ForgetReport:
    """Delete every row about one relative; what they did for a senior stays the senior's.

    A found row that belongs to someone else (its ``senior_id`` or ``person_id`` is another person:
    a booking or reminder the relative made for the senior, a message to the senior about it), and
    every row hanging from it, is kept, pointing at the anonymous person instead of the relative and
    without the relative's conversation id. The links go; each senior is told in one neutral line.

    Raises:
        NotAllowed: If the person is not a relative.
    """
    person = session.get(Person, person_id)
    if person is None or person.role != "relative":
        raise NotAllowed(NOT_A_SENIOR)
    found = records_about(session, person_id)
    kept = _others_rows(found)
    seniors = sorted({row["senior_id"] for row in found.tables.get(RelativeLink.__table__.name, ())
                      if row["relative_id"] == person_id})
    if any(kept.values()):
        _repoint(session, person_id, kept, _anonymous_person(session), person.conversation_id)
        _scrub_names(session, found, kept, _names_of(person))
    for senior_id in seniors:  # the senior's own messages that name her ("Anne used your family code")
        theirs = records_about(session, senior_id)
        everything = {name: {primary_key(metadata.tables[name], row) for row in rows}
                      for name, rows in theirs.tables.items() if name not in NOT_SCRUBBED}
        _scrub_names(session, theirs, everything, _names_of(person))
    return _delete_and_tell(session, found, kept, seniors,
                            "A relative has ended the family link and asked me to delete their details.", now)


def _delete_and_tell(session: Session, found: PersonRecords, kept: Mapping[str, set[tuple[Any, ...]]],
                     told: list[int], text: str, now: datetime) -> ForgetReport:
    """Delete the found rows but the kept ones, tell ``told`` in one neutral line, and audit it (naming nobody)."""
    deleted = _delete_found(session, found, kept)
    for person_id in told:
        enqueue(session, person_id, "family", UNLINKED_INTENT, {}, at=now, text=text)
    if any(deleted.values()):
        audit.record(session, audit.ASSISTANT, "person.forgotten", "person", "deleted", at=now,
                     rows=sum(deleted.values()), kept=sum(len(keys) for keys in kept.values()))
    return ForgetReport(
        deleted={name: count for name, count in sorted(deleted.items()) if count},
        kept={name: len(keys) for name, keys in sorted(kept.items()) if keys},
        relatives_told=0,
    )


def _names_of(person: Person) -> list[str]:
    """The ways a kept text may name a person: their full display name, then its first word."""
    full = (person.display_name or "").strip()
    first = full.split()[0] if full else ""
    return [name for name in (full, first) if len(name) >= 2]


def _scrub_names(session: Session, found: PersonRecords, kept: Mapping[str, set[tuple[Any, ...]]],
                 names: list[str]) -> None:
    """In the kept rows' texts ("Anne booked a cleaner for you"), the person's name becomes "a relative"."""
    if not names:
        return
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(name) for name in names) + r")\b")
    for name, keys in kept.items():
        table = metadata.tables[name]
        texts = [column for column in table.c if isinstance(column.type, (String, Text))
                 and "address" not in column.name and column.name != "reference"]
        primary = list(table.primary_key.columns)
        for row in found.tables.get(name, ()):
            key = primary_key(table, row)
            if key not in keys:
                continue
            changes = {column.name: pattern.sub("a relative", row[column.name]) for column in texts
                       if isinstance(row[column.name], str) and pattern.search(row[column.name])}
            if changes:
                session.execute(update(table).where(*(c == v for c, v in zip(primary, key))).values(changes),
                                execution_options={"synchronize_session": False})


def _others_rows(found: PersonRecords) -> dict[str, set[tuple[Any, ...]]]:
    """The found rows that belong to someone else, with every found row that hangs from them."""
    kept: dict[str, set[tuple[Any, ...]]] = {}
    for name, rows in found.tables.items():
        if name in LINK_TABLES:
            continue
        table = metadata.tables[name]
        owners = [column.name for column in table.c if column.name in OWNER_COLUMNS and refers_to_person(column)]
        kept[name] = {primary_key(table, row) for row in rows
                      if any(row[owner] is not None and row[owner] != found.person_id for owner in owners)}
    for table in metadata.sorted_tables:  # parents before children: one pass reaches every descendant
        rows = found.tables.get(table.name, ())
        for column in table.c:
            for key in column.foreign_keys:
                parents = kept.get(key.column.table.name)
                if not parents or len(key.column.table.primary_key.columns) != 1:
                    continue
                parent_ids = {parent[0] for parent in parents}
                kept.setdefault(table.name, set()).update(
                    primary_key(table, row) for row in rows if row[column.name] in parent_ids)
    return kept


def _delete_found(session: Session, found: PersonRecords, kept: Mapping[str, set[tuple[Any, ...]]]) -> Counter[str]:
    """Delete every found row but the kept ones, children first, the audit trail last."""
    deleted: Counter[str] = Counter()
    for table in reversed([*metadata.sorted_tables]):
        if table.name == AUDIT:
            continue
        deleted[table.name] += _delete_rows(session, table, found, kept.get(table.name, set()))
    deleted[AUDIT] += _forget_audit(session, found, kept, found.person_id)
    session.flush()
    return deleted


def _kept_keys(found: PersonRecords) -> dict[str, set[tuple[Any, ...]]]:
    """The primary keys of the rows kept for accounting: bookings carried out, their reviews and slots."""
    bookings = metadata.tables[Booking.__table__.name]
    kept_ids = {row["id"] for row in found.tables.get(bookings.name, ())
                if row["status"] in KEPT_BOOKING_STATUSES and row["senior_id"] == found.person_id}
    kept: dict[str, set[tuple[Any, ...]]] = {}
    for name, rows in found.tables.items():
        table = metadata.tables[name]
        if name == bookings.name:
            keys = {primary_key(table, row) for row in rows if row["id"] in kept_ids}
        elif name in KEPT_WITH_BOOKING:
            keys = {primary_key(table, row) for row in rows if row.get("booking_id") in kept_ids}
        else:
            continue
        kept[name] = keys
    return kept


def _anonymous_person(session: Session) -> int:
    """The one anonymous person row that kept bookings point at (made on first use)."""
    existing = session.scalar(select(Person.id).where(Person.channel == ANONYMOUS_CHANNEL))
    if existing is not None:
        return existing
    anonymous = Person(role="senior", display_name="", conversation_id=None, channel=ANONYMOUS_CHANNEL)
    session.add(anonymous)
    session.flush()
    return anonymous.id


def _anonymise_kept(session: Session, person_id: int, kept: Mapping[str, set[tuple[Any, ...]]]) -> None:
    """Point kept rows at the anonymous person and empty their free text."""
    if not any(kept.values()):
        return
    anonymous = _anonymous_person(session)
    booking_ids = [key[0] for key in kept.get(Booking.__table__.name, ())]
    session.execute(update(Booking).where(Booking.id.in_(booking_ids)).values(details=""),
                    execution_options={"synchronize_session": False})
    session.execute(update(Review).where(Review.booking_id.in_(booking_ids)).values(comment=""),
                    execution_options={"synchronize_session": False})
    _repoint(session, person_id, kept, anonymous, None)


def _repoint(session: Session, person_id: int, kept: Mapping[str, set[tuple[Any, ...]]], anonymous: int,
             conversation_id: Optional[str]) -> None:
    """In the kept rows only, point every reference to the person at the anonymous person and forget
    their conversation id."""
    for name, keys in kept.items():
        table = metadata.tables[name]
        primary = list(table.primary_key.columns)
        changes = [(column, column == person_id, anonymous) for column in table.c if refers_to_person(column)]
        if conversation_id is not None and "conversation_id" in table.c:
            changes.append((table.c.conversation_id, table.c.conversation_id == conversation_id, None))
        for column, refers, replacement in changes:
            for key in keys:  # only the kept rows: the others are deleted next
                session.execute(
                    update(table).where(refers, *(c == v for c, v in zip(primary, key)))
                    .values({column.name: replacement}),
                    execution_options={"synchronize_session": False},
                )


def _delete_rows(session: Session, table: Table, found: PersonRecords, kept: set[tuple[Any, ...]]) -> int:
    """Delete the found rows of one table that are not kept."""
    doomed = [primary_key(table, row) for row in found.tables.get(table.name, ())
              if primary_key(table, row) not in kept]
    columns = list(table.primary_key.columns)
    if len(columns) == 1:
        for start in range(0, len(doomed), CHUNK):
            chunk = [key[0] for key in doomed[start:start + CHUNK]]
            session.execute(delete(table).where(columns[0].in_(chunk)), execution_options={"synchronize_session": False})
        return len(doomed)
    for key in doomed:
        session.execute(delete(table).where(and_(*(column == value for column, value in zip(columns, key)))),
                        execution_options={"synchronize_session": False})
    return len(doomed)


def _forget_audit(session: Session, found: PersonRecords, kept: Mapping[str, set[tuple[Any, ...]]],
                  person_id: int) -> int:
    """Delete the found audit entries, except those about kept rows, whose actor is anonymised."""
    about_kept = _kept_entities(found, kept)
    doomed = [row["id"] for row in found.tables.get(AUDIT, ())
              if (row["entity_type"], row["entity_id"]) not in about_kept]
    if doomed:
        session.execute(delete(AuditLog).where(AuditLog.id.in_(doomed)),
                        execution_options={"synchronize_session": False})
    session.execute(
        update(AuditLog).where(AuditLog.actor == audit.person_actor(person_id)).values(actor=DELETED_ACTOR),
        execution_options={"synchronize_session": False},
    )
    return len(doomed)


def _kept_entities(found: PersonRecords, kept: Mapping[str, set[tuple[Any, ...]]]) -> set[tuple[str, str]]:
    """The audit ``(entity_type, entity_id)`` pairs that name a kept row (by id or by reference)."""
    pairs: set[tuple[str, str]] = set()
    for name, keys in kept.items():
        table = metadata.tables[name]
        entity_types = {name, name[:-1]} if name.endswith("s") else {name}
        for row in found.tables.get(name, ()):
            if primary_key(table, row) not in keys:
                continue
            ids = {str(row[column.name]) for column in table.primary_key.columns}
            if "reference" in table.c:
                ids.add(str(row["reference"]))
            pairs |= {(entity_type, entity_id) for entity_type in entity_types for entity_id in ids}
    return pairs
