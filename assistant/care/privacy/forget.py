"""Deleting everything we hold about a senior, in one transaction.

Every row :func:`~assistant.care.privacy.records.records_about` finds is deleted, children first,
except what a provider needs for its accounts: a booking that was carried out (``done``), with its
review and its booked slots, stays, no longer pointing at the person but at one anonymous person
row, its free-text notes and review comment emptied. Audit entries about those bookings stay with
the actor ``person:deleted``. Each relative who was linked is told in one neutral line (no name)
that the link has ended. What is kept and why is in ``docs/privacy.md``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, Mapping

from sqlalchemy import Table, and_, delete, select, update
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
CHUNK: Final = 500
"""Rows deleted per statement."""
NOT_A_SENIOR: Final = (
    "Only a person's own chat can delete what we hold about them, and for now only a senior's: "
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
        NotAllowed: If the person is not a senior (a relative's or coordinator's data is not handled yet).
    """
    person = session.get(Person, person_id)
    if person is None or person.role != "senior":
        raise NotAllowed(NOT_A_SENIOR)
    found = records_about(session, person_id)
    kept = _kept_keys(found)
    relatives = sorted({row["relative_id"] for row in found.tables.get(RelativeLink.__table__.name, ())
                        if row["senior_id"] == person_id})
    _anonymise_kept(session, person_id, kept)
    deleted = _delete_found(session, found, kept)
    for relative_id in relatives:
        enqueue(session, relative_id, "family", UNLINKED_INTENT, {}, at=now,
                text="Your relative has ended the family link.")
    audit.record(session, audit.ASSISTANT, "person.forgotten", "person", "deleted", at=now,
                 rows=sum(deleted.values()), kept=sum(len(keys) for keys in kept.values()))
    return ForgetReport(
        deleted={name: count for name, count in sorted(deleted.items()) if count},
        kept={name: len(keys) for name, keys in sorted(kept.items()) if keys},
        relatives_told=len(relatives),
    )


def forget_conversation(session: Session, conversation_id: str, now: datetime) -> ForgetReport:
    """Delete what we hold about a conversation with no person behind it (its settings, its unclear
    messages...); a conversation of a senior is forgotten with :func:`forget_senior`."""
    found = records_of_conversation(session, conversation_id)
    if found.person_id != NOBODY:
        return forget_senior(session, found.person_id, now)
    deleted = _delete_found(session, found, {})
    return ForgetReport(deleted={name: count for name, count in sorted(deleted.items()) if count}, kept={},
                        relatives_told=0)


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
    for name, keys in kept.items():
        table = metadata.tables[name]
        primary = list(table.primary_key.columns)
        for column in table.c:
            if not keys or not refers_to_person(column):
                continue
            for key in keys:  # only the kept rows: the others are deleted next
                session.execute(
                    update(table).where(column == person_id, *(c == v for c, v in zip(primary, key)))
                    .values({column.name: anonymous}),
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
    """Delete the found audit entries, except those about kept bookings, whose actor is anonymised."""
    kept_references = {row["reference"] for row in found.tables.get(Booking.__table__.name, ())
                       if (row["id"],) in kept.get(Booking.__table__.name, set())}
    doomed = [row["id"] for row in found.tables.get(AUDIT, ())
              if not (row["entity_type"] == "booking" and row["entity_id"] in kept_references)]
    if doomed:
        session.execute(delete(AuditLog).where(AuditLog.id.in_(doomed)),
                        execution_options={"synchronize_session": False})
    session.execute(
        update(AuditLog).where(AuditLog.actor == audit.person_actor(person_id)).values(actor=DELETED_ACTOR),
        execution_options={"synchronize_session": False},
    )
    return len(doomed)
