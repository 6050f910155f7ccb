"""Bookings, people and audit pages over real HTTP: filters, status changes, the rating request, escaping."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from assistant.care.core.models import AuditLog, Notification, Person, Reminder, ReminderDelivery

from .conftest import Console
from .seed import home_provider, senior, unique, visit


def _notifications(console: Console, person_id: int, kind: str) -> list[Notification]:
    with console.care.db.reading() as session:
        return list(session.scalars(
            select(Notification).where(Notification.person_id == person_id, Notification.kind == kind)
        ))


def test_marking_a_visit_done_asks_the_senior_for_a_rating_and_is_audited(console: Console) -> None:
    care = console.care
    _, offering = home_provider(care, unique("Done Clean"))
    conversation, person_id = senior(care, "Edith Done")
    booking = visit(care, conversation, offering)
    client = console.logged_in()
    page = f"/bookings/{booking.reference}"

    for status in ("assigned", "in_progress"):
        assert f'id="status-{status}"' in client.get(page).text
        assert client.post(f"{page}/status", {"csrf": client.csrf(page), "status": status}).status_code == 303
    assert _notifications(console, person_id, "review_request") == []
    done = client.post(f"{page}/status", {"csrf": client.csrf(page), "status": "done"})

    assert done.status_code == 303 and done.headers["Location"] == page
    assert care.bookings.get(booking.reference).status == "done"
    [ask] = _notifications(console, person_id, "review_request")
    assert ask.intent == "EXTERNAL_review_request" and ask.entities["reference"] == booking.reference
    assert "1 to 5 stars" in ask.text
    with care.db.reading() as session:
        rows = session.execute(
            select(AuditLog.actor, AuditLog.action).where(AuditLog.entity_id == booking.reference).order_by(AuditLog.id)
        ).all()
    assert [tuple(r) for r in rows][-3:] == [
        ("coordinator:Alice Smith", "booking.assigned"),
        ("coordinator:Alice Smith", "booking.in_progress"),
        ("coordinator:Alice Smith", "booking.done"),
    ]
    final = client.get(page).text
    assert 'id="status-' not in final and "already done" in final


def test_a_refused_or_unknown_status_is_explained(console: Console) -> None:
    care = console.care
    _, offering = home_provider(care, unique("Refuse Clean"))
    conversation, _ = senior(care, "Edith Refused")
    booking = visit(care, conversation, offering)
    client = console.logged_in()
    page = f"/bookings/{booking.reference}"

    skipped = client.post(f"{page}/status", {"csrf": client.csrf(page), "status": "done"})
    unknown = client.post(f"{page}/status", {"csrf": client.csrf(page), "status": "teleported"})
    missing = client.post("/bookings/CL-22222/status", {"csrf": client.csrf(page), "status": "done"})

    assert skipped.status_code == 409 and "cannot be changed that way" in skipped.text
    assert unknown.status_code == 400 and "The status must be one of" in unknown.text
    assert missing.status_code == 404 and "There is no booking CL-22222." in missing.text
    assert care.bookings.get(booking.reference).status == "confirmed"


def test_the_booking_list_filters_and_links_to_the_senior(console: Console) -> None:
    care = console.care
    _, cleaning = home_provider(care, unique("Filter Clean"))
    _, repair = home_provider(care, unique("Filter Fix"), kind="repair")
    conversation, person_id = senior(care, "Filter <i>Fiona</i>")
    soon = visit(care, conversation, cleaning, days_ahead=2)
    later = visit(care, conversation, repair, days_ahead=9)
    care.home_services.set_status(soon.reference, "assigned", "coordinator:test")
    client = console.logged_in()

    def shown(**params: str) -> list[str]:
        page = client.get("/bookings", params=dict(params, senior=str(person_id)))
        assert page.status_code == 200, page.text
        return re.findall(r'<tr data-reference="([^"]+)"', page.text)

    assert shown() == [later.reference, soon.reference]
    assert shown(status="assigned") == [soon.reference]
    assert shown(kind="repair") == [later.reference]
    day = (datetime.now(timezone.utc) + timedelta(days=5)).date().isoformat()
    assert shown(**{"from": day}) == [later.reference]
    assert shown(to=day) == [soon.reference]
    listing = client.get("/bookings", params={"senior": str(person_id)}).text
    assert f'href="/people/{person_id}">Filter &lt;i&gt;Fiona&lt;/i&gt;</a>' in listing
    detail = client.get(f"/bookings/{soon.reference}").text
    assert f'id="senior-link" href="/people/{person_id}"' in detail
    bad = client.get("/bookings", params={"from": "yesterday"})
    assert bad.status_code == 400 and "date like 2025-12-01" in bad.text


def test_the_profile_page_shows_family_reminders_deliveries_and_escapes(console: Console) -> None:
    care = console.care
    _, offering = home_provider(care, unique("Profile Clean"))
    conversation, person_id = senior(care, "<script>alert(1)</script>")
    care.people.link_relative(conversation, f"{conversation}-anna", "Anna Smith", "daughter")
    care.reminders.create(conversation, "medication", "Blood pressure pill", "every day at 8am", dose="1 tablet")
    booking = visit(care, conversation, offering)
    escalation = care.escalations.open("talk_to_human", conversation, "wants a person")
    acknowledged_at = datetime.now(timezone.utc) - timedelta(hours=1)
    with care.db.session() as session:
        reminder = session.scalar(select(Reminder).where(Reminder.senior_id == person_id))
        session.add(ReminderDelivery(reminder_id=reminder.id, due_at=acknowledged_at - timedelta(minutes=5),
                                     status="acknowledged", sent_at=acknowledged_at, acknowledged_at=acknowledged_at))
        session.add(ReminderDelivery(reminder_id=reminder.id, due_at=acknowledged_at - timedelta(days=1),
                                     status="escalated", sent_at=acknowledged_at - timedelta(days=1)))
    client = console.logged_in()

    page = client.get(f"/people/{person_id}")

    assert page.status_code == 200
    text = page.text
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert re.search(r'id="relatives">.*Anna Smith</a> \(daughter\)', text, re.S)
    assert "Blood pressure pill</strong> (1 tablet)" in text
    statuses = re.findall(r'<td class="status">(\w+)</td>', text)
    assert statuses == ["acknowledged", "escalated"]
    assert "not yet" in text
    assert booking.reference in text and escalation.reference in text
    assert re.search(r'id="consent-care">yes', text)
    detail = client.get(f"/escalations/{escalation.reference}").text
    assert f'id="person-link" href="/people/{person_id}"' in detail
    with care.db.reading() as session:
        daughter = session.scalar(select(Person.id).where(Person.conversation_id == f"{conversation}-anna"))
    relative = client.get(f"/people/{daughter}").text
    assert re.search(r'id="seniors">.*&lt;script&gt;', relative, re.S)
    assert client.get("/people/424242").status_code == 404
    assert client.get("/people/abc").status_code == 404


def test_people_are_found_by_name(console: Console) -> None:
    care = console.care
    tag = unique("Marple").split()[1]
    senior(care, f"Jane Marple{tag}")
    senior(care, f"Miss 100%{tag}")
    client = console.logged_in()

    found = client.get("/people", params={"q": f"marple{tag.upper()}"}).text
    assert re.findall(r'<tr data-person="\d+">\s*<td><a href="/people/\d+">([^<]+)</a>', found) == [f"Jane Marple{tag}"]
    percent = client.get("/people", params={"q": f"100%{tag}"}).text
    assert f"Miss 100%{tag}" in percent and "Marple" not in percent.split('id="people"')[1]


def test_the_audit_log_filters_newest_first(console: Console) -> None:
    care = console.care
    client = console.logged_in("bob")
    name = unique("Audit Clean")
    created = client.post("/providers/new", {
        "csrf": client.csrf("/providers/new"), "name": name, "kind": "cleaning", "districts": "Riverside",
        "opening_hours": "daily 08:00-18:00", "active": "yes",
    })
    provider_id = created.headers["Location"].split("/")[2].split("?")[0]
    page = f"/providers/{provider_id}"
    client.post(page, {"csrf": client.csrf(page), "name": name, "kind": "cleaning", "districts": "Riverside",
                       "opening_hours": "daily 08:00-18:00", "active": "yes", "verified": "yes"})
    care.escalations.open("complaint", None, "not by bob")

    listing = client.get("/audit", params={"actor": "bob", "action": "provider.", "entity": f"provider:{provider_id}"})
    actions = re.findall(r'<td class="action">([^<]+)</td>', listing.text)
    assert actions == ["provider.updated", "provider.created"]
    assert set(re.findall(r'<td class="actor">([^<]+)</td>', listing.text)) == {"coordinator:Bob &lt;b&gt;Jones&lt;/b&gt;"}
    today = datetime.now(timezone.utc).date()
    assert "provider.created" in client.get("/audit", params={"entity": f"provider:{provider_id}",
                                                            "from": today.isoformat()}).text
    gone = client.get("/audit", params={"entity": f"provider:{provider_id}", "to": (today - timedelta(days=2)).isoformat()})
    assert re.findall(r'<td class="action">', gone.text) == []
    everything = client.get("/audit").text
    assert "Page 1 of" in everything and re.search(r'<td class="action">escalation.opened</td>', everything)
    assert client.get("/audit", params={"from": "2025-13-45"}).status_code == 400


def test_a_visit_is_given_to_another_free_provider_from_its_page_and_the_api(console: Console) -> None:
    _, first = home_provider(console.care, unique("First Clean"))
    _, second = home_provider(console.care, unique("Second Clean"))
    conversation, _ = senior(console.care, "Rosa Park")
    booking = visit(console.care, conversation, first, days_ahead=3, hour=9)
    alice = console.logged_in()
    page = f"/bookings/{booking.reference}"

    html = alice.get(page).text
    assert 'id="reassign"' in html and f'value="{second}"' in html and f'value="{first}"' not in html
    moved = alice.post(page + "/provider", {"csrf": alice.csrf(page), "offering_id": str(second)})
    assert moved.status_code == 303
    assert "Second Clean" in alice.get(page).text
    with console.care.db.reading() as session:
        told = session.scalars(select(Notification).join(Person, Person.id == Notification.person_id)
                               .where(Person.conversation_id == conversation)
                               .order_by(Notification.id.desc())).first()
    assert told is not None and "instead of First Clean" in told.entities["text"]

    refused = alice.post(page + "/provider", {"csrf": alice.csrf(page), "offering_id": "oops"})
    assert refused.status_code == 400 and "choose a provider" in refused.text
    token = alice.get("/api/session").json()["csrf_token"]
    back = alice.http.post(alice.url + f"/api{page}/provider", json={"offering_id": first},
                           headers={"X-CSRF-Token": token}, timeout=10)
    assert back.status_code == 200 and back.json()["provider_name"].startswith("First Clean")
