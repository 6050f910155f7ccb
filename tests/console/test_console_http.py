"""The console over real HTTP on 127.0.0.1: login, CSRF, authorisation, escaping, actions, API, events."""

from __future__ import annotations

import json
import re
import threading
import time

import requests

from assistant.console.app import SESSION_COOKIE

from .conftest import PASSWORD, Console


def test_login_with_the_right_password_sets_a_strict_http_only_session(console: Console) -> None:
    client = console.client()
    response = client.login("alice", PASSWORD)

    assert response.status_code == 303 and response.headers["Location"] == "/"
    session = next(h for h in response.raw.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in session and "SameSite=Strict" in session and "Secure" not in session
    page = client.get("/")
    assert page.status_code == 200 and "Alice Smith" in page.text


def test_a_wrong_password_or_unknown_user_gets_the_same_refusal(console: Console) -> None:
    wrong = console.client().login("alice", "not the password")
    unknown = console.client().login("nobody", "not the password")

    assert wrong.status_code == unknown.status_code == 401
    message = re.search(r'class="error"[^>]*>([^<]+)<', wrong.text).group(1)
    assert message == re.search(r'class="error"[^>]*>([^<]+)<', unknown.text).group(1)
    assert SESSION_COOKIE not in wrong.headers.get("Set-Cookie", "")


def test_login_without_the_form_token_is_refused(console: Console) -> None:
    response = console.client().post("/login", {"username": "alice", "password": PASSWORD})

    assert response.status_code == 403
    assert SESSION_COOKIE not in response.headers.get("Set-Cookie", "")


def test_a_forged_session_cookie_is_not_a_session(console: Console) -> None:
    client = console.client()
    client.http.cookies.set(SESSION_COOKIE, "eyJ1IjoiYWxpY2UiLCJjIjoieCIsImV4cCI6OTk5OTk5OTk5OX0.forged")

    assert client.get("/api/escalations").status_code == 401


def test_unauthenticated_pages_redirect_and_the_api_answers_401(console: Console) -> None:
    client = console.client()
    reference = console.care.escalations.open("complaint", None, "cold soup").reference

    for path in ("/", f"/escalations/{reference}", "/logout"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"].startswith("/login?next=/")
    for path in ("/api/escalations", f"/api/escalations/{reference}", "/events"):
        response = client.get(path)
        assert response.status_code == 401, path
        assert response.json()["error"] == "unauthenticated"
    claim = client.post(f"/escalations/{reference}/claim", {"csrf": "anything"})
    assert claim.status_code == 303
    assert console.care.escalations.get(reference).status == "open"


def test_actions_without_the_csrf_token_are_refused(console: Console) -> None:
    client = console.logged_in()
    reference = console.care.escalations.open("complaint", None, "late visit").reference

    missing = client.post(f"/escalations/{reference}/claim", {})
    wrong = client.post(f"/escalations/{reference}/claim", {"csrf": "guessed"})
    other = console.logged_in("bob")
    foreign = client.post(f"/escalations/{reference}/claim", {"csrf": other.csrf()})

    assert missing.status_code == wrong.status_code == foreign.status_code == 403
    assert console.care.escalations.get(reference).status == "open"


def test_user_text_is_escaped_everywhere(console: Console) -> None:
    evil = '<script>alert("x")</script> Rose'
    reference = console.care.escalations.open("talk_to_human", None, evil).reference
    client = console.logged_in("bob")
    client.post(f"/escalations/{reference}/claim", {"csrf": client.csrf(f"/escalations/{reference}")})
    client.post(f"/escalations/{reference}/note", {"csrf": client.csrf(), "text": "<img src=x onerror=alert(1)>"})

    queue = client.get("/").text
    detail = client.get(f"/escalations/{reference}").text
    for page in (queue, detail):
        assert "<script>alert" not in page and "<b>Jones</b>" not in page
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Rose" in page
        assert "Bob &lt;b&gt;Jones&lt;/b&gt;" in page
    assert "<img src=x" not in detail and "&lt;img src=x onerror=alert(1)&gt;" in detail
    assert "script-src 'self'" in client.get("/").headers["Content-Security-Policy"]


def test_claim_note_and_resolve_flow_is_audited(console: Console) -> None:
    reference = console.care.escalations.open("missed_medication", None, "Evening pills not taken").reference
    client = console.logged_in()
    page = f"/escalations/{reference}"

    assert client.post(f"{page}/claim", {"csrf": client.csrf(page)}).status_code == 303
    assert client.post(f"{page}/note", {"csrf": client.csrf(page), "text": "Called her daughter."}).status_code == 303
    other = console.logged_in("bob")
    refused = other.post(f"{page}/resolve", {"csrf": other.csrf(page), "outcome": "done"})
    assert refused.status_code == 409 and "handled by Alice Smith" in refused.text
    assert client.post(f"{page}/resolve", {"csrf": client.csrf(page), "outcome": "Pills taken at 19:10."}).status_code == 303

    view = console.care.escalations.get(reference)
    assert (view.status, view.claimed_by, view.outcome) == ("resolved", "Alice Smith", "Pills taken at 19:10.")
    detail = client.get(page).text
    assert "Called her daughter." in detail and 'id="claim"' not in detail and 'id="resolve"' not in detail
    from sqlalchemy import select

    from assistant.care.core.models import AuditLog

    with console.care.db.reading() as session:
        actions = session.scalars(
            select(AuditLog.action).where(AuditLog.entity_id == reference).order_by(AuditLog.id)
        ).all()
    assert actions == ["escalation.opened", "escalation.claimed", "escalation.note_added", "escalation.resolved"]


def test_an_empty_outcome_is_explained_not_stored(console: Console) -> None:
    reference = console.care.escalations.open("complaint", None, "noisy cleaner").reference
    client = console.logged_in()
    page = f"/escalations/{reference}"

    response = client.post(f"{page}/resolve", {"csrf": client.csrf(page), "outcome": "   "})

    assert response.status_code == 400 and 'class="error"' in response.text
    assert console.care.escalations.get(reference).status == "open"


def test_unknown_escalation_is_404(console: Console) -> None:
    client = console.logged_in()

    assert client.get("/escalations/E-ZZZZZ").status_code == 404
    assert client.get("/api/escalations/E-ZZZZZ").json()["error"] == "not_found"


def test_json_api_lists_the_queue_most_urgent_first(console: Console) -> None:
    care = console.care
    low = care.escalations.open("service_request", None, "new hairdresser").reference
    urgent = care.escalations.open("emergency", None, "fell in the kitchen").reference
    client = console.logged_in()

    listing = client.get("/api/escalations?limit=500").json()
    references = [item["reference"] for item in listing["items"]]
    assert references.index(urgent) < references.index(low)
    assert listing["total"] == len(references)
    item = next(i for i in listing["items"] if i["reference"] == urgent)
    assert (item["kind"], item["priority"], item["sla"], item["status"]) == ("emergency", 1, "emergency", "open")
    one = client.get(f"/api/escalations/{low}").json()
    assert one["summary"] == "new hairdresser" and one["notes"] == []
    page = client.get("/api/escalations?offset=1&limit=1").json()
    assert page["items"][0]["reference"] == references[1] and len(page["items"]) == 1


def test_the_queue_page_shows_colour_and_pages(console: Console) -> None:
    care = console.care
    for n in range(55):
        care.escalations.open("service_request", None, f"bulk request {n}")
    emergency = care.escalations.open("emergency", None, "chest pain").reference
    client = console.logged_in()

    first = client.get("/").text
    row = re.search(rf'<tr class="sla-(\w+)" data-reference="{emergency}"', first)
    assert row and row.group(1) == "emergency"
    assert first.index(emergency) < first.index("bulk request 0")
    assert "Next page" in first
    assert "Page 2 of" in client.get("/?page=2").text


def test_logout_ends_the_session_in_the_browser(console: Console) -> None:
    client = console.logged_in()

    response = client.post("/logout", {"csrf": client.csrf()})

    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert client.get("/").status_code == 303


def _read_events(response: requests.Response, found: dict, reference_holder: list, done: threading.Event) -> None:
    event = None
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event == "escalation":
            item = json.loads(line[6:])
            if reference_holder and item["reference"] == reference_holder[0]:
                found.update(item, seen_at=time.monotonic())
                done.set()
                return
        if done.is_set():
            return


def test_a_new_emergency_reaches_an_open_event_stream(console: Console) -> None:
    client = console.logged_in()
    response = client.http.get(f"{console.url}/events", stream=True, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    found: dict = {}
    holder: list = []
    done = threading.Event()
    reader = threading.Thread(target=_read_events, args=(response, found, holder, done), daemon=True)
    reader.start()
    time.sleep(0.7)  # the stream has taken its first look at the queue

    holder.append(console.care.escalations.open("emergency", None, "<b>Help</b>, I fell").reference)

    assert done.wait(5), "the emergency never arrived"
    response.close()
    assert (found["kind"], found["sla"], found["summary"]) == ("emergency", "emergency", "<b>Help</b>, I fell")


def test_an_emergency_reaches_the_stream_even_behind_a_full_first_page_of_emergencies(console: Console) -> None:
    older = [console.care.escalations.open("emergency", None, f"older emergency {i}").reference for i in range(55)]
    client = console.logged_in()
    response = client.http.get(f"{console.url}/events", stream=True, timeout=10)
    found: dict = {}
    holder: list = []
    done = threading.Event()
    threading.Thread(target=_read_events, args=(response, found, holder, done), daemon=True).start()
    time.sleep(0.7)

    holder.append(console.care.escalations.open("emergency", None, "Fire in the kitchen").reference)

    assert done.wait(5), "an emergency behind the first page never reached the console"
    response.close()
    assert found["first_page"] is False and found["sla"] == "emergency"
    for reference in older:
        console.care.escalations.resolve(reference, "Alice Smith", "cleared after the test")
