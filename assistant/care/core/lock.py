"""A named lock in the ``service_locks`` table: exactly one care service runs at a time.

The first process to INSERT the row holds the lock and refreshes ``heartbeat_at`` while it
runs. A second process is refused while the heartbeat is fresh; once the heartbeat is older
than ``stale_after`` (the holder crashed or hangs) the lock may be taken over, with a
compare-and-set so that only one of several contenders wins. A holder on this same machine whose
process no longer exists (killed, and restarted by the supervisor) is taken over at once, without
waiting for its heartbeat to age. Works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import datetime, timedelta
from typing import Final, Optional

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from assistant.care.core import audit
from assistant.care.core.clock import require_aware
from assistant.care.core.db import Database
from assistant.care.core.errors import CareError
from assistant.care.core.models import ServiceLock

ACTOR: Final = "care-service"
_ATTEMPTS: Final = 3


class ServiceLockHeld(CareError):
    """Another live process holds the lock.

    Attributes:
        name: The lock.
        holder: Who holds it.
        heartbeat_at: When the holder last showed it was alive.
    """

    kind = "service_lock_held"
    default_message = "Another care service is already running."

    def __init__(self, name: str, holder: str = "", heartbeat_at: Optional[datetime] = None) -> None:
        self.name: str = name
        self.holder: str = holder
        self.heartbeat_at: Optional[datetime] = heartbeat_at
        seen = f", last heartbeat {heartbeat_at:%Y-%m-%d %H:%M:%S} UTC" if heartbeat_at else ""
        super().__init__(f"The lock {name!r} is held by {holder or 'another process'}{seen}.")


def new_holder() -> str:
    """Return a holder name unique to this process, e.g. ``"laptop:4242:1f2e3d4c"``."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:200]


def holder_is_gone(holder: str) -> bool:
    """Whether ``holder`` names a process on this machine that no longer runs.

    Holders on other machines, or names not made by :func:`new_holder`, are never presumed gone.
    """
    parts = holder.split(":")
    if len(parts) < 3 or not parts[-2].isdigit() or ":".join(parts[:-2]) != socket.gethostname():
        return False
    pid = int(parts[-2])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, under another user
    return False


def acquire(db: Database, name: str, holder: str, now: datetime, stale_after: timedelta) -> None:
    """Take the lock ``name`` for ``holder`` (taking it again as the same holder is harmless).

    Raises:
        ServiceLockHeld: If another holder's heartbeat is younger than ``stale_after``.
    """
    now = require_aware(now, "now")
    for _ in range(_ATTEMPTS):
        try:
            with db.session() as session:
                session.add(ServiceLock(name=name, holder=holder, acquired_at=now, heartbeat_at=now))
                audit.record(session, ACTOR, "lock.acquired", "service_lock", name, at=now, holder=holder)
            return
        except IntegrityError:
            pass
        with db.session() as session:
            row = session.get(ServiceLock, name)
            seen = (row.holder, row.heartbeat_at) if row is not None else None
        if seen is None:
            continue  # released meanwhile: try the INSERT again
        previous, heartbeat_at = seen
        if previous != holder and heartbeat_at > now - stale_after and not holder_is_gone(previous):
            raise ServiceLockHeld(name, previous, heartbeat_at)
        # Compare-and-set in a write-only transaction: of several contenders one wins.
        with db.session() as session:
            taken = session.execute(
                update(ServiceLock)
                .where(ServiceLock.name == name, ServiceLock.holder == previous,
                       ServiceLock.heartbeat_at == heartbeat_at)
                .values(holder=holder, heartbeat_at=now,
                        **({} if previous == holder else {"acquired_at": now}))
                .execution_options(synchronize_session=False)
            ).rowcount
            if taken == 1 and previous != holder:
                audit.record(session, ACTOR, "lock.taken_over", "service_lock", name, at=now,
                             holder=holder, previous=previous)
        if taken == 1:
            return
    raise ServiceLockHeld(name)


def heartbeat(db: Database, name: str, holder: str, now: datetime) -> bool:
    """Refresh the lock's heartbeat; False when ``holder`` no longer holds it."""
    now = require_aware(now, "now")
    with db.session() as session:
        result = session.execute(
            update(ServiceLock)
            .where(ServiceLock.name == name, ServiceLock.holder == holder)
            .values(heartbeat_at=now)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1


def release(db: Database, name: str, holder: str) -> bool:
    """Give the lock up; False when ``holder`` did not hold it."""
    with db.session() as session:
        result = session.execute(
            delete(ServiceLock)
            .where(ServiceLock.name == name, ServiceLock.holder == holder)
            .execution_options(synchronize_session=False)
        )
        released = result.rowcount == 1
        if released:
            audit.record(session, ACTOR, "lock.released", "service_lock", name, holder=holder)
        return released
