"""Care coordinators' console accounts and their notes on escalations.

Passwords are hashed with argon2id. After :data:`MAX_FAILED_LOGINS` wrong passwords in a
row an account is locked for :data:`LOCK_MINUTES`. A failed login always raises the same
:class:`LoginFailed` message, whether the username exists, the password is wrong or the
account is locked, so the login form does not reveal which accounts exist.

A coordinator acts on escalations under their display name (it is what colleagues and users
see, e.g. in ``claimed_by``), so display names are unique among accounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select

from assistant.care.core import audit
from assistant.care.core.clock import Clock, utcnow
from assistant.care.core.db import Database
from assistant.care.core.errors import InvalidInput, NotAllowed, NotFound
from assistant.care.escalations.escalations import find_escalation
from assistant.care.core.models import Coordinator, EscalationNote
from assistant.care.core.validation import MAX_NAME, MAX_TEXT, clean_text

MIN_PASSWORD: Final = 12
MAX_PASSWORD: Final = 1024
MAX_FAILED_LOGINS: Final = 5
LOCK_MINUTES: Final = 15
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")


class LoginFailed(NotAllowed):
    """A login was refused; one message for every reason (unknown, wrong, locked)."""

    kind = "login_failed"
    default_message = (
        "That username and password did not work. After several tries the account waits "
        f"{LOCK_MINUTES} minutes; ask another coordinator if you are stuck."
    )


@dataclass(frozen=True)
class CoordinatorView:
    """A coordinator account as the console sees it (never the password hash)."""

    username: str
    display_name: str
    active: bool = True
    session_epoch: int = 0
    """Sessions signed with another value are no longer valid (see :meth:`CoordinatorService.end_sessions`)."""


@dataclass(frozen=True)
class NoteView:
    """One note on an escalation."""

    coordinator: str
    text: str
    created_at: datetime


def default_hasher() -> PasswordHasher:
    """Return the argon2id hasher with argon2-cffi's defaults (RFC 9106 low-memory profile)."""
    return PasswordHasher()


class CoordinatorService:
    """Create coordinator accounts, check logins and keep notes on escalations.

    Args:
        db: The database.
        clock: Returns the current aware time.
        hasher: The argon2id password hasher (tests pass a cheaper one).
    """

    def __init__(
        self, db: Database, clock: Clock = utcnow, hasher: Optional[PasswordHasher] = None
    ) -> None:
        self._db = db
        self._clock = clock
        self._hasher = hasher or default_hasher()
        self._dummy_hash: Optional[str] = None

    def create(
        self, username: str, display_name: str, password: str, *, actor: str = "cli"
    ) -> CoordinatorView:
        """Create an account.

        Raises:
            InvalidInput: On a malformed username, an empty or taken display name, a taken
                username or a password shorter than :data:`MIN_PASSWORD` characters.
        """
        user = _clean_username(username)
        name = clean_text(display_name, "display name", MAX_NAME, field="display_name")
        if not isinstance(password, str) or len(password) < MIN_PASSWORD:
            raise InvalidInput(
                f"The password must have at least {MIN_PASSWORD} characters.", field="password"
            )
        if len(password) > MAX_PASSWORD:
            raise InvalidInput("That password is too long.", field="password")
        hashed = self._hasher.hash(password)
        now = self._clock()
        with self._db.session() as session:
            if session.scalar(select(Coordinator.id).where(Coordinator.username == user)):
                raise InvalidInput(f"The username {user!r} is taken.", field="username")
            if session.scalar(
                select(Coordinator.id).where(func.lower(Coordinator.display_name) == name.lower())
            ):
                raise InvalidInput(f"Another coordinator is called {name!r}.", field="display_name")
            account = Coordinator(
                username=user, display_name=name, password_hash=hashed, failed_logins=0,
                created_at=now, active=True,
            )
            session.add(account)
            session.flush()
            audit.record(session, actor, "coordinator.created", "coordinator", user, at=now)
            view = _view(account)
        return view

    def authenticate(self, username: str, password: str) -> CoordinatorView:
        """Check a login and return the account.

        Raises:
            LoginFailed: For an unknown or inactive username, a wrong password or a locked
                account (always the same message).
        """
        user = str(username or "").strip().lower()[:60]
        secret = password if isinstance(password, str) else ""
        now = self._clock()
        with self._db.session() as session:
            account = session.scalar(
                select(Coordinator).where(Coordinator.username == user).with_for_update()
            )
            if account is None or not account.active:
                self._verify_dummy(secret)
                audit.record(
                    session, "console", "coordinator.login_failed", "coordinator",
                    account.username if account else "-", at=now,
                    reason="inactive" if account else "unknown",
                )
                failed = True
            elif account.locked_until is not None and account.locked_until > now:
                audit.record(
                    session, "console", "coordinator.login_failed", "coordinator", user,
                    at=now, reason="locked",
                )
                failed = True
            else:
                if account.locked_until is not None:  # the lock ran out: a fresh start
                    account.locked_until = None
                    account.failed_logins = 0
                failed = not self._verify(account.password_hash, secret)
                if failed:
                    account.failed_logins += 1
                    audit.record(
                        session, "console", "coordinator.login_failed", "coordinator", user,
                        at=now, reason="password", failures=account.failed_logins,
                    )
                    if account.failed_logins >= MAX_FAILED_LOGINS:
                        account.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                        audit.record(
                            session, "console", "coordinator.locked", "coordinator", user,
                            at=now, minutes=LOCK_MINUTES,
                        )
                else:
                    account.failed_logins = 0
                    if self._hasher.check_needs_rehash(account.password_hash):
                        account.password_hash = self._hasher.hash(secret)
                    audit.record(
                        session, audit.coordinator_actor(user), "coordinator.login",
                        "coordinator", user, at=now,
                    )
            view = None if failed else _view(account)
        if view is None:
            raise LoginFailed()
        return view

    def get(self, username: str) -> CoordinatorView:
        """Return an active account (the console re-checks it on every request).

        Raises:
            NotFound: If there is no such active account.
        """
        with self._db.reading() as session:
            account = session.scalar(
                select(Coordinator).where(Coordinator.username == str(username).lower())
            )
            if account is None or not account.active:
                raise NotFound("There is no such coordinator.")
            return _view(account)

    def add_note(self, reference: str, coordinator: str, text: str) -> NoteView:
        """Add a note to an escalation (also after it was resolved).

        Args:
            reference: The escalation's reference.
            coordinator: The coordinator's display name.
            text: The note.

        Raises:
            NotFound: If there is no such escalation.
            InvalidInput: If the note is empty or too long.
        """
        name = clean_text(coordinator, "coordinator name", MAX_NAME, field="coordinator")
        body = clean_text(text, "note", MAX_TEXT, field="text")
        now = self._clock()
        with self._db.session() as session:
            escalation = find_escalation(session, reference)
            note = EscalationNote(
                escalation_id=escalation.id, coordinator=name, text=body, created_at=now
            )
            session.add(note)
            session.flush()
            audit.record(
                session, audit.coordinator_actor(name), "escalation.note_added", "escalation",
                escalation.reference, at=now, note_id=note.id,
            )
            view = NoteView(coordinator=name, text=body, created_at=now)
        return view

    def end_sessions(self, username: str) -> None:
        """Log the account out everywhere: every session cookie issued so far stops working.

        Raises:
            NotFound: If there is no such account.
        """
        user = str(username or "").strip().lower()[:60]
        now = self._clock()
        with self._db.session() as session:
            account = session.scalar(select(Coordinator).where(Coordinator.username == user))
            if account is None:
                raise NotFound("There is no such account.")
            account.session_epoch = (account.session_epoch or 0) + 1
            audit.record(session, audit.coordinator_actor(user), "coordinator.logout", "coordinator", user, at=now)

    def notes(self, reference: str) -> list[NoteView]:
        """Return an escalation's notes, oldest first.

        Raises:
            NotFound: If there is no such escalation.
        """
        with self._db.reading() as session:
            escalation = find_escalation(session, reference)
            rows = session.scalars(
                select(EscalationNote)
                .where(EscalationNote.escalation_id == escalation.id)
                .order_by(EscalationNote.created_at, EscalationNote.id)
            )
            return [NoteView(n.coordinator, n.text, n.created_at) for n in rows]

    def _verify(self, hashed: str, password: str) -> bool:
        """Return whether ``password`` matches ``hashed``."""
        try:
            return bool(self._hasher.verify(hashed, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def _verify_dummy(self, password: str) -> None:
        """Spend the time of a real check, so unknown usernames answer as slowly."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("not-a-real-password")
        self._verify(self._dummy_hash, password)


def _clean_username(username: str) -> str:
    """Return a username in lower case, or raise InvalidInput."""
    user = str(username or "").strip().lower()
    if not _USERNAME.match(user):
        raise InvalidInput(
            "A username has 2 to 60 letters, digits, dots, dashes or underscores.",
            field="username",
        )
    return user


def _view(account: Coordinator) -> CoordinatorView:
    """Return the frozen view of an account (call inside the session)."""
    return CoordinatorView(account.username, account.display_name, account.active, account.session_epoch or 0)
