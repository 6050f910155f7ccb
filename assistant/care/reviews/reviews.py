"""Reviews, complaints and the provider score that ranks home-service providers.

The score is a Bayesian average that starts every provider at a neutral prior
and lets evidence move it::

    score = (C*m + R0*n0 + sum(r_i) + 1*k) / (C + n0 + n + k)

* ``m = PRIOR_MEAN`` (3.5) with weight ``C = PRIOR_WEIGHT`` (5): a provider with
  no evidence scores 3.5, and a single review moves it only a little.
* ``R0``/``n0``: the rating and rating count carried over from the provider's
  previous listing (``Provider.rating``/``rating_count``), with ``n0`` capped at
  ``MAX_CARRIED_COUNT`` (20) so an old listing cannot drown our own reviews.
* ``r_i`` (``n`` of them): our own reviews, 1-5 stars. Only done bookings can be
  reviewed, once each, so every one is verified.
* ``k``: complaints. Each counts as one 1-star review (``COMPLAINT_RATING``): it
  pulls the score towards 1 and weighs as much as a review.

The result is clamped to [0, 5] and rounded to 2 decimals. So one 5-star review
(3.75) does not beat forty of 4.8 (4.66), nor a listing carried over as 4.8 from
40 ratings (4.54).

A provider whose score falls below ``FLAG_THRESHOLD`` (3.0) once it has at least
``MIN_EVIDENCE`` (3) own reviews and complaints together is flagged
(``flagged_at``/``flag_reason``): it is no longer offered, and one
``provider_review`` escalation asks coordinators to look at it.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final, Iterable, Optional

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from assistant.care.core import audit
from assistant.care.bookings.bookings import add_with_unique_reference, new_reference
from assistant.care.core.errors import InvalidInput, InvalidTransition
from assistant.care.escalations.escalations import open_escalation
from assistant.care.core.models import (
    Booking,
    Complaint,
    Escalation,
    Person,
    Provider,
    Review,
)
from assistant.care.core.validation import MAX_TEXT, clean_text
from assistant.care.core.views import ComplaintView, ReviewView
from assistant.care.core.vocabulary import DEFAULT_ESCALATION_PRIORITY

PRIOR_MEAN: Final = 3.5
"""``m``: the score of a provider nobody has rated yet."""
PRIOR_WEIGHT: Final = 5
"""``C``: how many reviews the prior is worth."""
MAX_CARRIED_COUNT: Final = 20
"""Cap on ``n0``, the rating count carried over from a previous listing."""
COMPLAINT_RATING: Final = 1
"""Each complaint counts as one review of this many stars."""
FLAG_THRESHOLD: Final = 3.0
"""Below this score (with enough evidence) a provider is flagged and no longer offered."""
MIN_EVIDENCE: Final = 3
"""Own reviews plus complaints needed before a provider can be flagged."""

COMPLAINT_PREFIX: Final = "CP"
MAX_COMMENT: Final = 500

_STARS: Final = "⭐★🌟✩☆✭✮"
_NUMBER_WORDS: Final = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
}
_RATING_TEXT: Final = re.compile(
    r"(?P<n>\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")"
    r"\s*(?:stars?|/\s*5|out of (?:5|five)|of (?:5|five))?\s*[.!]*"
)


def bayesian_score(
    carried_rating: float, carried_count: int, ratings: Iterable[int], complaints: int = 0
) -> float:
    """Return the provider score for this evidence (see the module docstring)."""
    own = list(ratings)
    n0 = max(0, min(int(carried_count), MAX_CARRIED_COUNT))
    r0 = float(carried_rating) if n0 else 0.0
    k = max(0, int(complaints))
    total = PRIOR_WEIGHT * PRIOR_MEAN + r0 * n0 + sum(own) + COMPLAINT_RATING * k
    weight = PRIOR_WEIGHT + n0 + len(own) + k
    return round(min(5.0, max(0.0, total / weight)), 2)


def parse_rating(value: object) -> int:
    """Return a rating of 1-5 stars from ``4``, ``"4"``, ``"four"``, ``"4 stars"`` or ``"⭐⭐⭐⭐"``.

    Raises:
        InvalidInput: If it is not a whole number of stars from 1 to 5.
    """
    number: Optional[int] = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        text = " ".join(value.strip().lower().split())
        stars = sum(text.count(star) for star in _STARS)
        rest = re.sub(rf"[{_STARS}\s\ufe0f]", "", text)
        if stars and not rest:
            number = stars
        else:
            match = _RATING_TEXT.fullmatch(text)
            if match:
                word = match.group("n")
                number = int(word) if word.isdigit() else _NUMBER_WORDS[word]
    if number is None:
        raise InvalidInput(
            "Sorry, I did not understand that. Please give 1 to 5 stars, where 5 is the best.",
            field="rating",
        )
    if not 1 <= number <= 5:
        raise InvalidInput(
            "Please choose a number from 1 to 5, where 1 is poor and 5 is the best.", field="rating"
        )
    return number


def recompute(session: Session, provider: Provider) -> float:
    """Recount the provider's reviews and complaints, store and return its score."""
    ratings: list[int] = []
    complaints = 0
    if provider.id is not None:
        ratings = list(session.scalars(select(Review.rating).where(Review.provider_id == provider.id)))
        complaints = session.scalar(
            select(func.count(Complaint.id)).where(Complaint.provider_id == provider.id)
        ) or 0
    provider.review_count = len(ratings)
    provider.complaint_count = complaints
    provider.score = bayesian_score(provider.rating or 0.0, provider.rating_count or 0, ratings, complaints)
    return provider.score


def recompute_all(session: Session) -> int:
    """Recompute every provider's score; return how many providers there are."""
    providers = list(session.scalars(select(Provider)))
    for provider in providers:
        recompute(session, provider)
    return len(providers)


def flag_if_low(session: Session, provider: Provider, *, now: datetime) -> bool:
    """Flag a provider whose score fell below the threshold; return True if flagged now.

    Opens one ``provider_review`` escalation (not tied to any conversation, so no
    senior's chat is handed over). An already flagged provider is left alone.
    """
    evidence = provider.review_count + provider.complaint_count
    if provider.flagged_at is not None or provider.score >= FLAG_THRESHOLD or evidence < MIN_EVIDENCE:
        return False
    provider.flagged_at = now
    provider.flag_reason = (
        f"Score {provider.score:.2f} is below {FLAG_THRESHOLD:.1f} after "
        f"{provider.review_count} reviews and {provider.complaint_count} complaints."
    )
    open_escalation(
        session, "provider_review", None,
        f"{provider.name} ({provider.kind}) is no longer offered to seniors. {provider.flag_reason} "
        "Please review this provider.",
        now,
    )
    audit.record(
        session, audit.ASSISTANT, "provider.flagged", "provider", provider.id, at=now,
        score=provider.score, reviews=provider.review_count, complaints=provider.complaint_count,
    )
    return True


def add_review(
    session: Session,
    booking: Booking,
    actor: Person,
    rating: int,
    comment: str,
    *,
    now: datetime,
) -> Review:
    """Save a review of a done booking, rescore its provider and flag it if it fell too low.

    Raises:
        InvalidTransition: If the booking is not done or was already rated.
    """
    if booking.status != "done":
        raise InvalidTransition(
            f"Booking {booking.reference} is not finished yet. You can rate it once the visit is done."
        )
    already = InvalidTransition(
        f"Booking {booking.reference} is already rated. Thank you, you can only rate it once."
    )
    if session.scalar(select(Review.id).where(Review.booking_id == booking.id)) is not None:
        raise already
    review = Review(
        booking_id=booking.id, provider_id=booking.provider_id, senior_id=booking.senior_id,
        rating=rating, comment=clean_text(comment, "comment", MAX_COMMENT, field="comment", required=False),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(review)
            session.flush()
    except IntegrityError:
        raise already from None
    provider = booking.provider
    recompute(session, provider)
    flag_if_low(session, provider, now=now)
    audit.record(
        session, audit.person_actor(actor.id), "review.created", "booking", booking.reference,
        at=now, rating=rating, provider_id=provider.id, score=provider.score,
    )
    return review


def add_complaint(
    session: Session,
    senior: Person,
    actor: Person,
    booking: Optional[Booking],
    text: str,
    *,
    now: datetime,
    conversation_id: Optional[str],
    when_words: str = "",
) -> tuple[Complaint, Escalation]:
    """Save a complaint, open a priority-2 escalation naming the booking and provider, rescore.

    Raises:
        InvalidInput: If the text is empty or too long.
    """
    body = clean_text(text, "complaint", MAX_TEXT, field="text")
    provider = booking.provider if booking is not None else None
    complaint = Complaint(
        senior_id=senior.id, booking_id=booking.id if booking else None,
        provider_id=provider.id if provider else None, text=body, created_at=now,
    )
    add_with_unique_reference(session, complaint, Complaint, lambda: new_reference(COMPLAINT_PREFIX))
    who = senior.display_name or "A senior"
    if actor.id != senior.id:
        who = f"{actor.display_name or 'A relative'} (for {senior.display_name or 'a senior'})"
    about = ""
    if booking is not None and provider is not None:
        about = f" about booking {booking.reference} ({booking.kind.replace('_', ' ')}"
        about += f" on {when_words}" if when_words else ""
        about += f") with {provider.name}"
    escalation = open_escalation(
        session, "complaint", actor, f"Complaint {complaint.reference} from {who}{about}: {body}", now,
        conversation_id=conversation_id, priority=DEFAULT_ESCALATION_PRIORITY["complaint"],
        actor=audit.person_actor(actor.id),
    )
    complaint.escalation_id = escalation.id
    session.flush()
    if provider is not None:
        recompute(session, provider)
        flag_if_low(session, provider, now=now)
    audit.record(
        session, audit.person_actor(actor.id), "complaint.created", "complaint", complaint.reference,
        at=now, booking=booking.reference if booking else None,
        provider_id=provider.id if provider else None, escalation=escalation.reference,
    )
    return complaint, escalation


def review_view(review: Review, booking: Booking) -> ReviewView:
    """Return the frozen view of a review (call inside the session)."""
    return ReviewView(
        booking_reference=booking.reference,
        provider_name=booking.provider.name,
        rating=review.rating,
        comment=review.comment,
        provider_score=booking.provider.score,
        created_at=review.created_at,
        provider_flagged=booking.provider.flagged_at is not None,
    )


def complaint_view(complaint: Complaint, booking: Optional[Booking], escalation: Escalation) -> ComplaintView:
    """Return the frozen view of a complaint (call inside the session)."""
    return ComplaintView(
        reference=complaint.reference,
        text=complaint.text,
        escalation_reference=escalation.reference,
        created_at=complaint.created_at,
        booking_reference=booking.reference if booking else None,
        provider_name=booking.provider.name if booking else None,
    )
