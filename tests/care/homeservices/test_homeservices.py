"""Tests for assistant.care.homeservices.homeservices and assistant.care.reviews.reviews."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from assistant.care import CareServices
from assistant.care.bookings.bookings import REFERENCE_ALPHABET
from assistant.care.core.errors import (
    InvalidInput,
    InvalidTransition,
    NotAllowed,
    NotFound,
    NotRegistered,
    Unavailable,
)
from assistant.care.homeservices.homeservices import (
    LAUNDRY_PICKUP_FEE_CENTS,
    SERVICES,
    SLOT_MINUTES,
    NoFreeSlot,
    TimeWindow,
    normalise_service,
    parse_window,
    window_for,
)
from assistant.care.core.models import (
    AuditLog,
    Booking,
    BookingSlot,
    Escalation,
    Notification,
    Person,
    Provider,
)
from assistant.care.reviews.reviews import (
    FLAG_THRESHOLD,
    bayesian_score,
    parse_rating,
    recompute_all,
)
from assistant.care.registry.seed import load_demo_data
from assistant.care.core.timeparse import parse_when

from ..helpers import MONDAY_9AM, FakeClock, add_home_provider, at, register

LONDON = ZoneInfo("Europe/London")
FRIDAY_MORNING = TimeWindow(at(5, 8), at(5, 12))
FRIDAY_AFTERNOON = TimeWindow(at(5, 13), at(5, 17))


@pytest.fixture
def homes(care: CareServices) -> dict[str, Any]:
    """Riverside cleaners and a laundry; Edith and Frank in Riverside; Anna and Ben help Edith.

    Scores: Bright and Thrifty 4.3 (verified, Thrifty cheaper), Starry 4.7 (unverified),
    Top 4.62 (verified, afternoons only), Far 4.7 (Hillcrest only).
    """
    ids: dict[str, Any] = {
        "bright": add_home_provider(
            care, "Bright Clean", "cleaning", ["Riverside"], rating=4.5, rating_count=20,
            offerings=[("home_clean", "Home clean (2 hours)", 3600, 120),
                       ("deep_clean", "Deep clean (4 hours)", 7200, 240)],
        ),
        "thrifty": add_home_provider(
            care, "Thrifty Clean", "cleaning", ["Riverside"], rating=4.5, rating_count=20,
            offerings=[("home_clean", "Thrifty home clean", 3000, 120)],
        ),
        "starry": add_home_provider(
            care, "Starry Clean", "cleaning", ["Riverside"], verified=False, rating=5.0, rating_count=20,
            hours="mon-sat 08:00-18:00", offerings=[("home_clean", "Starry home clean", 2000, 120)],
        ),
        "top": add_home_provider(
            care, "Top Clean", "cleaning", ["Riverside", "Old Town"], rating=4.9, rating_count=20,
            hours="mon-fri 14:00-18:00", offerings=[("home_clean", "Top home clean", 5000, 120)],
        ),
        "far": add_home_provider(
            care, "Far Clean", "cleaning", ["Hillcrest"], rating=5.0, rating_count=20,
            offerings=[("home_clean", "Far home clean", 1000, 120)],
        ),
        "wash": add_home_provider(
            care, "Quick Wash", "laundry", ["Riverside"], rating=4.5, rating_count=20,
            hours="mon-sat 08:00-18:00", offerings=[("wash_and_fold", "Wash and fold", 1800, 30)],
        ),
    }
    register(care, "conv-edith", name="Edith Smith")
    register(care, "conv-frank", name="Frank Brown")
    care.people.link_relative("conv-edith", "conv-anna", "Anna Smith", "daughter")
    care.people.link_relative("conv-edith", "conv-ben", "Ben Smith", "son")
    return ids


def _offering(homes: dict[str, Any], key: str) -> int:
    """Return the first offering id of a fixture provider."""
    return next(v for k, v in homes[key].items() if k != "provider")


def _slots(care: CareServices, provider_id: int) -> list[datetime]:
    with care.db.reading() as session:
        return sorted(session.scalars(select(BookingSlot.slot_start).where(BookingSlot.provider_id == provider_id)))


def _person_id(care: CareServices, conversation_id: str) -> int:
    with care.db.reading() as session:
        return session.scalar(select(Person.id).where(Person.conversation_id == conversation_id))


def _notifications(care: CareServices, conversation_id: str, kind: str | None = None) -> list[Notification]:
    person_id = _person_id(care, conversation_id)
    with care.db.reading() as session:
        query = select(Notification).where(Notification.person_id == person_id).order_by(Notification.id)
        if kind is not None:
            query = query.where(Notification.kind == kind)
        return list(session.scalars(query))


def _provider(care: CareServices, provider_id: int) -> Provider:
    with care.db.reading() as session:
        provider = session.get(Provider, provider_id)
        session.expunge(provider)
        return provider


def _done(care: CareServices, conversation_id: str, offering_id: int, start: datetime) -> str:
    """Book a visit and walk it to done; return its reference."""
    reference = care.home_services.book(conversation_id, offering_id, start).reference
    for status in ("assigned", "in_progress", "done"):
        care.home_services.set_status(reference, status, "coordinator:zoe")
    return reference


# ---- services ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "service"),
    [
        ("cleaning", "cleaning"), ("clean", "cleaning"), ("a cleaner please", "cleaning"),
        ("housework", "cleaning"), ("Hoovering", "cleaning"), ("tidy up the flat", "cleaning"),
        ("washing", "laundry"), ("ironing", "laundry"), ("laundry pickup", "laundry"),
        ("plumber", "repair"), ("there is a leak", "repair"), ("the tap drips", "repair"),
        ("boiler", "repair"), ("my heater is broken", "repair"), ("handyman", "repair"),
        ("electrician", "repair"), ("a grab rail in the bathroom", "repair"),
        ("the washing machine is broken", "repair"),
        ("hair", "hairdressing"), ("haircut", "hairdressing"), ("barber", "hairdressing"),
        ("hairdresser", "hairdressing"), ("fix my hair", "hairdressing"),
        ("nails", "beauty"), ("manicure", "beauty"), ("pedicure", "beauty"),
        ("foot care", "beauty"), ("a facial", "beauty"),
        ("cleanin", "cleaning"), ("hairdreser", "hairdressing"), ("laundary", "laundry"),
    ],
)
def test_services_are_understood_the_way_people_say_them(text: str, service: str) -> None:
    assert normalise_service(text) == service


@pytest.mark.parametrize("text", ["walk my dog", "", "a taxi to the station"])
def test_an_unknown_service_names_what_we_offer(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalise_service(text)

    assert caught.value.field == "service"
    for word in ("cleaning", "laundry", "repairs", "hairdressing", "beauty"):
        assert word in caught.value.message


def test_services_are_the_home_service_kinds() -> None:
    assert SERVICES == ("cleaning", "laundry", "repair", "hairdressing", "beauty")
    assert all(normalise_service(s) == s for s in SERVICES)


# ---- windows ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("friday morning", at(5, 8), at(5, 12)),
        ("tomorrow after lunch", at(2, 13), at(2, 17)),
        ("next monday at 3", at(8, 15), at(8, 15)),
        ("on friday", at(5, 8), at(5, 18)),
        ("today", MONDAY_9AM, at(1, 18)),
    ],
)
def test_windows_from_what_people_say(text: str, start: datetime, end: datetime) -> None:
    window = parse_window(text, MONDAY_9AM, LONDON)

    assert (window.starts_at, window.ends_at) == (start, end)
    assert window.starts_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_windows_are_local_time_stored_in_utc() -> None:
    summer = datetime(2025, 6, 2, 9, 0, tzinfo=timezone.utc)  # Monday, London is UTC+1
    window = parse_window("friday morning", summer, LONDON)

    assert window.starts_at == datetime(2025, 6, 6, 7, 0, tzinfo=timezone.utc)
    assert window.ends_at == datetime(2025, 6, 6, 11, 0, tzinfo=timezone.utc)
    assert window.starts_at.tzinfo == timezone.utc


def test_window_for_turns_a_parsed_time_into_a_window() -> None:
    local_now = MONDAY_9AM.astimezone(LONDON)
    morning = window_for(parse_when("friday morning", local_now), LONDON)  # type: ignore[arg-type]
    exact = window_for(parse_when("friday at 10", local_now), LONDON)  # type: ignore[arg-type]

    assert (morning.starts_at, morning.ends_at, morning.exact) == (at(5, 8), at(5, 12), False)
    assert (exact.starts_at, exact.exact) == (at(5, 10), True)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("yesterday", "passed"),
        ("last tuesday", "passed"),
        ("31 February", "doesn't exist"),
        ("blah blah", "did not understand"),
    ],
)
def test_impossible_windows_are_refused_kindly(text: str, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_window(text, MONDAY_9AM, LONDON)

    assert caught.value.field == "time"
    assert words in caught.value.message


def test_a_window_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError):
        TimeWindow(at(5, 12), at(5, 8))
    with pytest.raises(ValueError):
        TimeWindow(datetime(2025, 12, 5, 8), datetime(2025, 12, 5, 9))


# ---- finding options --------------------------------------------------------------------


def test_options_rank_verified_then_score_then_price(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    options = care.home_services.find_options("conv-edith", "cleaning", FRIDAY_MORNING)

    assert [o.provider_name for o in options] == ["Thrifty Clean", "Bright Clean", "Starry Clean"]
    thrifty = options[0]
    assert (thrifty.verified, thrifty.score, thrifty.price_cents, thrifty.fees_cents) == (True, 4.3, 3000, 0)
    assert (thrifty.starts_at, thrifty.ends_at) == (at(5, 8), at(5, 10))
    assert thrifty.total_text == "€30.00"
    assert options[2].score > options[0].score and not options[2].verified


def test_a_higher_score_comes_before_a_lower_price(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    options = care.home_services.find_options("conv-edith", "cleaning", FRIDAY_AFTERNOON, limit=5)

    assert [o.provider_name for o in options] == ["Top Clean", "Thrifty Clean", "Bright Clean", "Starry Clean"]
    assert options[0].starts_at == at(5, 14)  # Top opens at 14:00


def test_only_providers_serving_the_district_are_offered(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    register(care, "conv-hilda", name="Hilda", district="Hillcrest")

    riverside = care.home_services.find_options("conv-edith", "cleaning", FRIDAY_MORNING, limit=10)
    hillcrest = care.home_services.find_options("conv-hilda", "cleaning", FRIDAY_MORNING, limit=10)

    assert "Far Clean" not in {o.provider_name for o in riverside}
    assert [o.provider_name for o in hillcrest] == ["Far Clean"]


def test_one_option_per_provider_matching_the_details(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    plain = care.home_services.find_options("conv-edith", "cleaning", FRIDAY_MORNING, limit=10)
    deep = care.home_services.find_options("conv-edith", "clean", FRIDAY_MORNING, limit=10, details="a deep clean please")

    assert len({o.provider_id for o in plain}) == len(plain) == 3
    assert {o.offering_name for o in plain if o.provider_name == "Bright Clean"} == {"Home clean (2 hours)"}
    bright = next(o for o in deep if o.provider_name == "Bright Clean")
    assert (bright.offering_name, bright.price_cents, bright.ends_at) == ("Deep clean (4 hours)", 7200, at(5, 12))


def test_the_whole_visit_must_fit_in_the_opening_hours(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    late = TimeWindow(at(5, 16, 30), at(5, 17, 30))

    with pytest.raises(NoFreeSlot) as caught:
        care.home_services.find_options("conv-edith", "cleaning", late)

    best = caught.value.alternatives[0]
    assert (best.provider_name, best.starts_at, best.ends_at) == ("Top Clean", at(5, 16), at(5, 18))


def test_the_earliest_free_start_is_offered(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    care.home_services.book("conv-frank", _offering(homes, "thrifty"), at(5, 8))

    options = care.home_services.find_options("conv-edith", "cleaning", FRIDAY_MORNING)

    thrifty = next(o for o in options if o.provider_name == "Thrifty Clean")
    assert thrifty.starts_at == at(5, 10)
    assert options[0].provider_name == "Thrifty Clean"


def test_visits_need_two_hours_notice(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    today = parse_window("today", MONDAY_9AM, LONDON)

    options = care.home_services.find_options("conv-edith", "cleaning", today)

    assert {o.starts_at for o in options if o.provider_name != "Top Clean"} == {at(1, 11)}
    with pytest.raises(Unavailable) as caught:
        care.home_services.quote("conv-edith", _offering(homes, "thrifty"), at(1, 10))
    assert "too soon" in caught.value.message
    assert caught.value.alternatives  # type: ignore[attr-defined]


def test_flagged_and_inactive_providers_are_not_offered(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    care.registry.set_active(homes["thrifty"]["provider"], False)
    with care.db.reading() as session:
        session.execute(
            update(Provider).where(Provider.id == homes["bright"]["provider"]).values(flagged_at=MONDAY_9AM)
        )

    options = care.home_services.find_options("conv-edith", "cleaning", FRIDAY_MORNING)

    assert [o.provider_name for o in options] == ["Starry Clean"]
    with pytest.raises(NotFound):
        care.home_services.quote("conv-edith", _offering(homes, "bright"), at(5, 8))
    with pytest.raises(NotFound):
        care.home_services.book("conv-edith", _offering(homes, "thrifty"), at(5, 8))


def test_strangers_and_unregistered_people_cannot_search(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotRegistered):
        care.home_services.find_options("conv-nobody", "cleaning", FRIDAY_MORNING)
    with pytest.raises(NotRegistered):
        care.home_services.upcoming("conv-nobody")
    care.people.withdraw_consent("conv-edith")
    with pytest.raises(NotRegistered):
        care.home_services.find_options("conv-edith", "cleaning", FRIDAY_MORNING)
    with pytest.raises(NotRegistered) as caught:
        care.home_services.upcoming("conv-anna")  # her only senior is gone
    assert "whom you are helping" in caught.value.message


def test_a_relative_of_two_seniors_is_asked_whose_booking_it_is(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    care.people.link_relative("conv-frank", "conv-anna", "Anna Smith", "neighbour")

    with pytest.raises(NotAllowed) as caught:
        care.home_services.find_options("conv-anna", "cleaning", FRIDAY_MORNING)

    assert "Edith Smith" in caught.value.message and "Frank Brown" in caught.value.message


# ---- booking and overlaps ---------------------------------------------------------------------


def test_a_booking_is_confirmed_and_holds_its_slots(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    booking = care.home_services.book(
        "conv-edith", _offering(homes, "thrifty"), at(5, 8), details="  Key  under\nthe mat  "
    )

    assert re.fullmatch(rf"CL-[{REFERENCE_ALPHABET}]{{5}}", booking.reference)
    assert (booking.kind, booking.status, booking.provider_name) == ("cleaning", "confirmed", "Thrifty Clean")
    assert (booking.starts_at, booking.ends_at, booking.total_cents) == (at(5, 8), at(5, 10), 3000)
    assert booking.details == "Key under the mat"
    assert _slots(care, homes["thrifty"]["provider"]) == [at(5, 8), at(5, 8, 30), at(5, 9), at(5, 9, 30)]
    assert SLOT_MINUTES == 30
    assert care.home_services.upcoming("conv-edith") == [booking]
    assert care.home_services.upcoming("conv-anna") == [booking]
    assert care.home_services.upcoming("conv-frank") == []


def test_a_too_long_note_is_refused(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInput) as caught:
        care.home_services.book("conv-edith", _offering(homes, "thrifty"), at(5, 8), details="x" * 501)

    assert caught.value.field == "details"
    assert care.home_services.upcoming("conv-edith") == []


def test_an_overlapping_booking_is_refused_with_alternatives(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    thrifty = _offering(homes, "thrifty")
    care.home_services.book("conv-edith", thrifty, at(5, 8))

    with pytest.raises(Unavailable) as caught:
        care.home_services.book("conv-frank", thrifty, at(5, 9))

    error = caught.value
    assert isinstance(error, NoFreeSlot) and error.field == "time"
    assert "Thrifty Clean is already booked" in error.message
    assert error.alternatives
    assert all(
        not (o.provider_name == "Thrifty Clean" and at(5, 6) < o.starts_at < at(5, 10)) for o in error.alternatives
    )
    assert error.alternatives[0].starts_at == at(5, 9)  # another cleaner at the same time
    assert care.home_services.upcoming("conv-frank") == []
    assert len(_slots(care, homes["thrifty"]["provider"])) == 4


def test_an_adjacent_booking_is_allowed(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    thrifty = _offering(homes, "thrifty")
    care.home_services.book("conv-edith", thrifty, at(5, 8))

    after = care.home_services.book("conv-frank", thrifty, at(5, 10))

    assert after.status == "confirmed"
    assert len(_slots(care, homes["thrifty"]["provider"])) == 8


def test_cancelling_frees_the_slots(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    thrifty = _offering(homes, "thrifty")
    first = care.home_services.book("conv-edith", thrifty, at(5, 8))

    cancelled = care.home_services.cancel("conv-anna", first.reference.lower())

    assert cancelled.status == "cancelled"
    assert _slots(care, homes["thrifty"]["provider"]) == []
    assert care.home_services.book("conv-frank", thrifty, at(5, 8)).status == "confirmed"
    assert care.home_services.upcoming("conv-edith") == []


def test_any_cancellation_through_the_lifecycle_frees_the_slots(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    booking = care.home_services.book("conv-edith", _offering(homes, "thrifty"), at(5, 8))

    care.bookings.set_status(booking.reference, "cancelled", "coordinator:zoe")

    assert _slots(care, homes["thrifty"]["provider"]) == []


def test_rescheduling_frees_the_old_time_and_holds_the_new_one(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    thrifty = _offering(homes, "thrifty")
    booking = care.home_services.book("conv-edith", thrifty, at(5, 8))

    moved = care.home_services.reschedule("conv-edith", booking.reference, at(5, 13))

    assert (moved.reference, moved.starts_at, moved.ends_at) == (booking.reference, at(5, 13), at(5, 15))
    assert _slots(care, homes["thrifty"]["provider"]) == [at(5, 13), at(5, 13, 30), at(5, 14), at(5, 14, 30)]
    assert care.home_services.book("conv-frank", thrifty, at(5, 8)).status == "confirmed"
    with pytest.raises(NoFreeSlot):
        care.home_services.book("conv-frank", thrifty, at(5, 14))


def test_rescheduling_into_a_taken_time_keeps_the_old_one(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    thrifty = _offering(homes, "thrifty")
    booking = care.home_services.book("conv-edith", thrifty, at(5, 8))
    care.home_services.book("conv-frank", thrifty, at(5, 15))
    before = _slots(care, homes["thrifty"]["provider"])

    with pytest.raises(NoFreeSlot) as caught:
        care.home_services.reschedule("conv-edith", booking.reference, at(5, 14, 30))

    assert caught.value.alternatives
    assert care.home_services.upcoming("conv-edith")[0].starts_at == at(5, 8)
    assert _slots(care, homes["thrifty"]["provider"]) == before


def test_an_assigned_visit_cannot_be_moved(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    booking = care.home_services.book("conv-edith", _offering(homes, "thrifty"), at(5, 8))
    care.home_services.set_status(booking.reference, "assigned", "coordinator:zoe")

    with pytest.raises(InvalidTransition) as caught:
        care.home_services.reschedule("conv-edith", booking.reference, at(5, 13))

    assert "assigned" in caught.value.message
    assert _slots(care, homes["thrifty"]["provider"])[0] == at(5, 8)


# ---- nobody free ----------------------------------------------------------------------------------


def test_when_nobody_is_free_the_nearest_times_are_offered(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    repair = add_home_provider(
        care, "Early Repairs", "repair", ["Riverside"], hours="mon-fri 08:00-10:00",
        offerings=[("handyman", "Handyman visit", 4500, 120)],
    )
    care.home_services.book("conv-frank", repair["Handyman visit"], at(5, 8))

    with pytest.raises(NoFreeSlot) as caught:
        care.home_services.find_options("conv-edith", "plumber", FRIDAY_MORNING)

    assert [o.starts_at for o in caught.value.alternatives] == [at(4, 8), at(8, 8)]
    assert "nearest free times" in caught.value.message


def test_when_nothing_is_possible_coordinators_are_asked(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    add_home_provider(
        care, "Sunday Hair", "hairdressing", ["Riverside"], hours="sun 08:00-09:00",
        offerings=[("haircut", "Long haircut", 3000, 120)],
    )
    for service in ("beauty", "hairdressing"):
        with pytest.raises(NoFreeSlot) as caught:
            care.home_services.find_options("conv-edith", service, FRIDAY_MORNING)
        assert caught.value.alternatives == []
        assert "ask our team" in caught.value.message

    escalation = care.home_services.request_unmatched(
        "conv-anna", "nails", FRIDAY_MORNING, details="Toenails need cutting"
    )

    assert (escalation.kind, escalation.priority, escalation.status) == ("unmatched_booking", 3, "open")
    assert escalation.conversation_id == "conv-anna"
    for words in ("beauty therapist", "Edith Smith", "Riverside", "Friday 5 December", "Toenails need cutting"):
        assert words in escalation.summary
    assert [e.reference for e in care.escalations.list_open()] == [escalation.reference]


# ---- prices and laundry ---------------------------------------------------------------------------


def test_a_laundry_quote_shows_the_pickup_fee_and_booking_stores_it(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    wash = homes["wash"]["Wash and fold"]

    quote = care.home_services.quote("conv-edith", wash, at(4, 10))
    booking = care.home_services.book("conv-edith", wash, at(4, 10))

    assert (quote.price_cents, quote.fees_cents, quote.total_cents) == (1800, LAUNDRY_PICKUP_FEE_CENTS, 2000)
    assert (quote.price_text, quote.fees_text, quote.total_text) == ("€18.00", "€2.00", "€20.00")
    assert (booking.kind, booking.price_cents, booking.fees_cents, booking.total_cents) == ("laundry", 1800, 200, 2000)
    assert booking.reference.startswith("LD-")
    assert quote.return_at == booking.ends_at == at(6, 10)  # 48 hours later
    assert _slots(care, homes["wash"]["provider"]) == [at(4, 10)]  # the pickup only
    cleaning = care.home_services.quote("conv-edith", _offering(homes, "thrifty"), at(4, 10))
    assert (cleaning.fees_cents, cleaning.return_at) == (0, None)


def test_a_laundry_return_moves_past_closed_days_or_follows_the_senior(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    wash = homes["wash"]["Wash and fold"]

    friday = care.home_services.book("conv-edith", wash, at(5, 10))
    chosen = care.home_services.book("conv-frank", wash, at(5, 11), return_at=at(6, 15))

    assert friday.ends_at == at(8, 8)  # Sunday 10:00 is closed: Monday when they open
    assert chosen.ends_at == at(6, 15)
    with pytest.raises(InvalidInput) as caught:
        care.home_services.book("conv-edith", wash, at(5, 12), return_at=at(5, 11))
    assert caught.value.field == "return_at"


# ---- who books, who is told ----------------------------------------------------------------------------


def test_a_relative_books_for_the_senior_and_the_family_is_told(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    booking = care.home_services.book("conv-anna", _offering(homes, "thrifty"), at(5, 8))

    with care.db.reading() as session:
        row = session.scalar(select(Booking).where(Booking.reference == booking.reference))
        assert (row.senior_id, row.created_by_id) == (_person_id(care, "conv-edith"), _person_id(care, "conv-anna"))
    assert care.home_services.upcoming("conv-edith") == [booking]
    told = _notifications(care, "conv-edith")
    assert [(n.kind, n.intent) for n in told] == [("booking_confirmed", "EXTERNAL_booking_update")]
    assert set(told[0].entities) == {"reference", "status", "text"}
    assert told[0].entities["reference"] == booking.reference
    assert "Anna Smith booked a cleaning visit for you" in told[0].text
    assert [n.kind for n in _notifications(care, "conv-ben")] == ["booking_confirmed"]
    assert "Booked by Anna Smith" in _notifications(care, "conv-ben")[0].text
    assert _notifications(care, "conv-anna") == []


def test_when_the_senior_books_the_relatives_are_told(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    booking = care.home_services.book("conv-edith", _offering(homes, "thrifty"), at(5, 8))

    assert _notifications(care, "conv-edith") == []
    for relative in ("conv-anna", "conv-ben"):
        told = _notifications(care, relative, "booking_confirmed")
        assert len(told) == 1 and told[0].entities["status"] == "confirmed"
        assert "Edith Smith's cleaning visit with Thrifty Clean" in told[0].text
        assert booking.reference in told[0].text


def test_status_changes_are_told_and_done_asks_for_a_review(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    booking = care.home_services.book("conv-edith", _offering(homes, "thrifty"), at(5, 8))

    assigned = care.home_services.set_status(booking.reference, "assigned", "coordinator:zoe")
    care.home_services.set_status(booking.reference, "in_progress", "coordinator:zoe")
    done = care.home_services.set_status(booking.reference, "done", "coordinator:zoe")

    assert (assigned.status, done.status) == ("assigned", "done")
    updates = _notifications(care, "conv-edith", "booking_status")
    assert [n.entities["status"] for n in updates] == ["assigned", "in_progress", "done"]
    assert all(n.intent == "EXTERNAL_booking_update" and n.entities["reference"] == booking.reference for n in updates)
    assert "assigned" in updates[0].text
    [ask] = _notifications(care, "conv-edith", "review_request")
    assert ask.intent == "EXTERNAL_review_request"
    assert ask.entities == {"reference": booking.reference, "provider": "Thrifty Clean", "text": ask.text}
    assert "1 to 5 stars" in ask.text
    with pytest.raises(InvalidTransition):
        care.home_services.set_status(booking.reference, "assigned", "coordinator:zoe")
    with pytest.raises(NotFound):
        care.home_services.set_status("CL-22222", "done", "coordinator:zoe")


# ---- ratings and scores ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stars"),
    [(4, 4), ("4", 4), ("four", 4), ("4 stars", 4), ("⭐⭐⭐⭐", 4), ("5/5", 5), (" One star ", 1), ("3 out of 5", 3)],
)
def test_ratings_are_read_the_way_people_give_them(given: object, stars: int) -> None:
    assert parse_rating(given) == stars


@pytest.mark.parametrize("given", ["abc", 11, 0, "0", "six stars", "4.5", True, None, ""])
def test_bad_ratings_are_refused_kindly(given: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_rating(given)

    assert caught.value.field == "rating"
    assert "1" in caught.value.message and "5" in caught.value.message


def test_only_a_done_booking_can_be_rated_and_only_once(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    thrifty = _offering(homes, "thrifty")
    waiting = care.home_services.book("conv-edith", thrifty, at(4, 8))
    with pytest.raises(InvalidTransition):
        care.home_services.rate("conv-edith", 5, reference=waiting.reference)
    with pytest.raises(NotFound):
        care.home_services.rate("conv-edith", 5)
    reference = _done(care, "conv-edith", thrifty, at(5, 8))
    assert care.home_services.pending_review("conv-edith").reference == reference  # type: ignore[union-attr]

    review = care.home_services.rate("conv-edith", "four", comment="Very tidy")

    assert (review.booking_reference, review.rating, review.comment) == (reference, 4, "Very tidy")
    assert review.provider_score == bayesian_score(4.5, 20, [4]) == _provider(care, homes["thrifty"]["provider"]).score
    assert _provider(care, homes["thrifty"]["provider"]).review_count == 1
    assert care.home_services.pending_review("conv-edith") is None
    with pytest.raises(InvalidTransition) as caught:
        care.home_services.rate("conv-edith", 5, reference=reference)
    assert "already rated" in caught.value.message
    with pytest.raises(InvalidInput):
        care.home_services.rate("conv-edith", "abc", reference=reference)


def test_nobody_rates_another_seniors_booking(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    reference = _done(care, "conv-edith", _offering(homes, "thrifty"), at(5, 8))

    with pytest.raises(NotFound):
        care.home_services.rate("conv-frank", 1, reference=reference)
    assert care.home_services.rate("conv-anna", 5, reference=reference).rating == 5


def test_one_five_star_review_does_not_beat_forty_of_four_point_eight() -> None:
    one = bayesian_score(0, 0, [5])
    forty_own = bayesian_score(0, 0, [5] * 32 + [4] * 8)  # an average of 4.8
    forty_carried = bayesian_score(4.8, 40, [])

    assert one == 3.75
    assert forty_own == 4.66
    assert forty_carried == 4.54  # the carried count is capped at 20
    assert one < forty_carried < forty_own
    assert bayesian_score(0, 0, []) == 3.5
    assert bayesian_score(5.0, 1000, []) == bayesian_score(5.0, 20, [])


def test_a_newcomer_with_one_five_star_review_ranks_below_a_proven_provider(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    newcomer = add_home_provider(
        care, "Newcomer Cuts", "hairdressing", ["Riverside"], offerings=[("haircut", "New cut", 2000, 60)],
    )
    add_home_provider(
        care, "Veteran Cuts", "hairdressing", ["Riverside"], rating=4.8, rating_count=40,
        offerings=[("haircut", "Veteran cut", 2500, 60)],
    )
    reference = _done(care, "conv-edith", newcomer["New cut"], at(4, 8))
    care.home_services.rate("conv-edith", 5, reference=reference)

    options = care.home_services.find_options("conv-edith", "haircut", FRIDAY_MORNING)

    assert [(o.provider_name, o.score) for o in options] == [("Veteran Cuts", 4.54), ("Newcomer Cuts", 3.75)]
    assert options[1].review_count == 1


def test_low_scores_flag_the_provider_once_and_stop_offering_it(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    sloppy = add_home_provider(
        care, "Sloppy Nails", "beauty", ["Riverside"], hours="mon-sat 08:00-18:00",
        offerings=[("manicure", "Manicure", 2000, 60)],
    )
    visits = [_done(care, "conv-edith", sloppy["Manicure"], at(day, 10)) for day in (2, 3, 4, 5)]
    assert care.home_services.find_options("conv-edith", "manicure", FRIDAY_AFTERNOON)

    first = care.home_services.rate("conv-edith", 1, reference=visits[0])
    second = care.home_services.rate("conv-edith", 1, reference=visits[1])
    assert second.provider_score < FLAG_THRESHOLD and not second.provider_flagged  # too little evidence yet
    third = care.home_services.rate("conv-edith", 1, reference=visits[2])
    care.home_services.rate("conv-edith", 2, reference=visits[3])

    assert first.provider_score > second.provider_score > third.provider_score
    assert third.provider_flagged
    provider = _provider(care, sloppy["provider"])
    assert provider.flagged_at == MONDAY_9AM and "below 3.0" in (provider.flag_reason or "")
    with care.db.reading() as session:
        reviews = list(session.scalars(select(Escalation).where(Escalation.kind == "provider_review")))
    assert len(reviews) == 1 and "Sloppy Nails" in reviews[0].summary
    assert reviews[0].conversation_id is None
    with pytest.raises(NoFreeSlot):
        care.home_services.find_options("conv-edith", "manicure", FRIDAY_AFTERNOON)
    with pytest.raises(NotFound):
        care.home_services.quote("conv-edith", sloppy["Manicure"], at(6, 10))


# ---- complaints ---------------------------------------------------------------------------------------


def test_a_complaint_is_escalated_and_counts_against_the_provider(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    booking = care.home_services.book("conv-edith", _offering(homes, "thrifty"), at(5, 8))
    before = _provider(care, homes["thrifty"]["provider"]).score

    complaint = care.home_services.complain("conv-edith", "  The cleaner never came.  ")

    assert re.fullmatch(rf"CP-[{REFERENCE_ALPHABET}]{{5}}", complaint.reference)
    assert (complaint.booking_reference, complaint.provider_name) == (booking.reference, "Thrifty Clean")
    assert complaint.text == "The cleaner never came."
    escalation = care.escalations.get(complaint.escalation_reference)
    assert (escalation.kind, escalation.priority, escalation.conversation_id) == ("complaint", 2, "conv-edith")
    for words in ("Thrifty Clean", booking.reference, complaint.reference, "The cleaner never came."):
        assert words in escalation.summary
    provider = _provider(care, homes["thrifty"]["provider"])
    assert provider.complaint_count == 1
    assert provider.score == bayesian_score(4.5, 20, [], complaints=1) < before


def test_a_complaint_names_a_booking_by_reference_or_none(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    first = care.home_services.book("conv-edith", _offering(homes, "thrifty"), at(4, 8))
    care.home_services.book("conv-edith", _offering(homes, "bright"), at(5, 8))

    chosen = care.home_services.complain("conv-anna", "Rude on the phone", reference=first.reference)
    general = care.home_services.complain("conv-frank", "Nobody answers the phone")

    assert (chosen.booking_reference, chosen.provider_name) == (first.reference, "Thrifty Clean")
    assert "Anna Smith (for Edith Smith)" in care.escalations.get(chosen.escalation_reference).summary
    assert (general.booking_reference, general.provider_name) == (None, None)
    with pytest.raises(InvalidInput):
        care.home_services.complain("conv-edith", "   ")
    with pytest.raises(InvalidInput, match="what went wrong"):
        care.home_services.complain("conv-edith", "")
    with pytest.raises(NotFound):
        care.home_services.complain("conv-edith", "Bad", reference="CL-22222")


# ---- scores in the registry ------------------------------------------------------------------------------


def test_every_demo_provider_has_a_score(demo: CareServices) -> None:
    with demo.db.reading() as session:
        providers = list(session.scalars(select(Provider)))
        assert providers
        for provider in providers:
            assert provider.score == bayesian_score(provider.rating, provider.rating_count, [])
            assert 3.0 < provider.score <= 5.0
        session.execute(update(Provider).values(score=0))

    assert load_demo_data(demo.db) == {}  # already loaded: only the scores are refreshed
    with demo.db.reading() as session:
        assert all(p.score > 0 for p in session.scalars(select(Provider)))
        assert recompute_all(session) == len(providers)
    assert {p.score for p in demo.registry.providers()} != {0.0}


def test_demo_registry_offers_home_services(demo: CareServices, clock: FakeClock) -> None:
    register(demo, "conv-olive", name="Olive", district="Old Town")

    options = demo.home_services.find_options("conv-olive", "hoovering", FRIDAY_MORNING)
    booking = demo.home_services.book("conv-olive", options[0].offering_id, options[0].starts_at)

    assert options[0].provider_name == "Sparkle Home Cleaning"
    assert booking.status == "confirmed"


# ---- coordinators give a visit to another provider ---------------------------------------------------------


def test_a_coordinator_moves_a_visit_to_another_free_provider_at_the_same_price(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    booking = care.home_services.book("conv-edith", _offering(homes, "thrifty"), at(5, 8))
    care.home_services.book("conv-frank", _offering(homes, "starry"), at(5, 8))

    others = care.home_services.free_alternatives(booking.reference)
    names = [o.provider_name for o in others]
    assert "Thrifty Clean" not in names and "Starry Clean" not in names, "not itself, not a busy provider"
    assert names[0] == "Bright Clean" and "Far Clean" not in names

    moved = care.home_services.reassign(booking.reference, str(others[0].offering_id), "Sam")

    assert moved.provider_name == "Bright Clean" and moved.total_cents == booking.total_cents
    assert _slots(care, homes["thrifty"]["provider"]) == []
    assert len(_slots(care, homes["bright"]["provider"])) == 4
    told = _notifications(care, "conv-edith")
    assert "now be done by Bright Clean instead of Thrifty Clean, at the same price" in told[-1].entities["text"]
    with care.db.reading() as session:
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "booking.reassigned")).one()
    assert entry.actor == "coordinator:Sam" and entry.entity_id == booking.reference


def test_a_reassignment_that_cannot_happen_changes_nothing(care: CareServices, homes) -> None:  # type: ignore[no-untyped-def]
    booking = care.home_services.book("conv-edith", _offering(homes, "thrifty"), at(5, 8))
    busy = care.home_services.book("conv-frank", _offering(homes, "bright"), at(5, 8))

    with pytest.raises(Unavailable):
        care.home_services.reassign(booking.reference, _offering(homes, "bright"), "Sam")
    with pytest.raises(InvalidInput):
        care.home_services.reassign(booking.reference, _offering(homes, "wash"), "Sam")
    with pytest.raises(InvalidInput):
        care.home_services.reassign(booking.reference, _offering(homes, "thrifty"), "Sam")
    with pytest.raises(InvalidInput):
        care.home_services.reassign(booking.reference, "abc", "Sam")
    with pytest.raises(NotFound):
        care.home_services.reassign("CL-NOPE1", _offering(homes, "top"), "Sam")
    assert len(_slots(care, homes["thrifty"]["provider"])) == 4, "the slots were not lost"
    care.home_services.cancel("conv-frank", busy.reference)
    for status in ("assigned", "in_progress"):
        care.home_services.set_status(booking.reference, status, "coordinator:sam")
    with pytest.raises(InvalidTransition):
        care.home_services.reassign(booking.reference, _offering(homes, "bright"), "Sam")
    assert care.home_services.free_alternatives(booking.reference) == []
