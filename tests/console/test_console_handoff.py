"""The human handoff from the console: transcript, join, reply into the chat, hand back."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest
from sqlalchemy import select

from assistant.care.core.models import Notification
from assistant.console.transcript import TranscriptSource

from .conftest import Console, start_console

TRACKERS: dict[str, dict[str, Any]] = {}


class FakeRasa(BaseHTTPRequestHandler):
    """Rasa's ``GET /conversations/{id}/tracker`` for the conversations in :data:`TRACKERS`."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = self.path.split("?")[0].split("/")
        tracker = TRACKERS.get(parts[2]) if len(parts) == 4 and parts[1] == "conversations" else None
        body = json.dumps(tracker if tracker is not None else {"error": "boom"}).encode()
        self.send_response(200 if tracker is not None else 500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), FakeRasa)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    source = TranscriptSource(f"http://127.0.0.1:{rasa.server_address[1]}", timeout=2)
    server, running, db = start_console(tmp_path_factory.mktemp("handoff"), "console_handoff", source)
    yield running
    server.stop()
    rasa.shutdown()
    db.dispose()


def _events(*lines: tuple[str, str]) -> dict[str, Any]:
    events = []
    for i, (kind, text) in enumerate(lines):
        if kind == "user":
            events.append({"event": "user", "text": text, "timestamp": 1_700_000_000 + i,
                           "parse_data": {"intent": {"name": "talk_to_human"}}})
        elif kind == "external":
            events.append({"event": "user", "text": text, "timestamp": 1_700_000_000 + i,
                           "parse_data": {"intent": {"name": "EXTERNAL_handoff_started"}}})
        else:
            events.append({"event": "bot", "text": text, "timestamp": 1_700_000_000 + i,
                           "metadata": {"utter_action": "utter_coordinator_message" if kind == "coordinator" else "utter_x"}})
    return {"events": events}


def _told(console: Console, conversation_id: str) -> list[tuple[str, dict]]:
    with console.care.db.reading() as session:
        return [(n.intent, n.entities) for n in session.scalars(
            select(Notification).where(Notification.conversation_id == conversation_id).order_by(Notification.id))]


def test_a_coordinator_reads_joins_replies_and_hands_back(console: Console) -> None:
    TRACKERS["guest-1"] = _events(("user", "I want to talk to a <b>person</b>"),
                                  ("bot", "I've asked a coordinator to help you."))
    ticket = console.care.escalations.open("talk_to_human", "guest-1", "wants a person")
    alice = console.logged_in("alice")
    page = f"/escalations/{ticket.reference}"

    html = alice.get(page).text
    assert "I want to talk to a &lt;b&gt;person&lt;/b&gt;" in html and "<b>person</b>" not in html
    assert 'id="join"' in html and 'id="reply"' not in html

    assert alice.post(page + "/join", {"csrf": alice.csrf(page)}).status_code == 303
    html = alice.get(page).text
    assert "You are in the chat" in html and 'id="reply"' in html and 'id="handback"' in html

    assert alice.post(page + "/reply", {"csrf": alice.csrf(page), "text": "Hello, I'm Alice. How can I help?"}).status_code == 303
    assert alice.post(page + "/handback", {"csrf": alice.csrf(page)}).status_code == 303

    ref = ticket.reference
    assert _told(console, "guest-1") == [
        ("EXTERNAL_handoff_started", {"coordinator": "Alice Smith", "reference": ref}),
        ("EXTERNAL_coordinator_message", {"coordinator": "Alice Smith", "message": "Hello, I'm Alice. How can I help?", "reference": ref}),
        ("EXTERNAL_handoff_ended", {"coordinator": "Alice Smith", "reference": ref}),
    ]
    assert 'id="join"' in alice.get(page).text


def test_the_transcript_api_leaves_out_triggers_and_marks_the_coordinator(console: Console) -> None:
    TRACKERS["guest-2"] = _events(("user", "help please"), ("external", "EXTERNAL_handoff_started"),
                                  ("bot", "Alice has joined"), ("coordinator", "Alice Smith (care coordinator): Hi"))
    ticket = console.care.escalations.open("talk_to_human", "guest-2", "wants a person")
    data = console.logged_in().get(f"/api/escalations/{ticket.reference}/transcript").json()
    assert data["available"] is True
    assert [(line["speaker"], line["text"]) for line in data["lines"]] == [
        ("user", "help please"), ("assistant", "Alice has joined"), ("coordinator", "Alice Smith (care coordinator): Hi"),
    ]


def test_when_rasa_does_not_answer_the_page_says_so(console: Console) -> None:
    ticket = console.care.escalations.open("talk_to_human", "unknown-to-rasa", "wants a person")
    alice = console.logged_in()
    assert "could not be loaded just now" in alice.get(f"/escalations/{ticket.reference}").text
    assert alice.get(f"/api/escalations/{ticket.reference}/transcript").json()["available"] is False


def test_another_coordinator_cannot_speak_in_a_held_chat_and_strangers_are_refused(console: Console) -> None:
    TRACKERS["guest-3"] = _events(("user", "hello"))
    ticket = console.care.escalations.open("talk_to_human", "guest-3", "wants a person")
    page = f"/escalations/{ticket.reference}"
    alice, bob = console.logged_in("alice"), console.logged_in("bob")
    alice.post(page + "/join", {"csrf": alice.csrf(page)})

    html = bob.get(page).text
    assert "Alice Smith is in the chat" in html and 'id="reply"' not in html
    refused = bob.post(page + "/reply", {"csrf": bob.csrf(page), "text": "let me in"})
    assert refused.status_code in (403, 409) and "Please join the conversation" in refused.text
    assert bob.post(page + "/join", {"csrf": bob.csrf(page)}).status_code in (403, 409)

    assert console.client().post(page + "/join", {"csrf": "x"}).status_code == 303  # to the login page
    assert alice.post(page + "/reply", {"csrf": "forged", "text": "hi"}).status_code == 403
    assert alice.post(page + "/reply", {"csrf": alice.csrf(page), "text": "   "}).status_code == 400
    assert console.client().get(f"/api/escalations/{ticket.reference}/transcript").status_code == 401
    assert [intent for intent, _ in _told(console, "guest-3")] == ["EXTERNAL_handoff_started"]


def test_the_whole_handoff_through_the_json_api(console: Console) -> None:
    ticket = console.care.escalations.open("talk_to_human", "guest-4", "wants a person")
    base = f"/api/escalations/{ticket.reference}"
    alice, bob = console.logged_in("alice"), console.logged_in("bob")

    def post(client: Any, action: str, body: dict, token: str | None = None) -> Any:
        csrf = client.get("/api/session").json()["csrf_token"] if token is None else token
        return client.http.post(client.url + f"{base}/{action}", json=body, headers={"X-CSRF-Token": csrf}, timeout=10)

    assert post(alice, "join", {}, token="forged").status_code == 403
    assert console.client().http.post(console.url + f"{base}/join", json={}, timeout=10).status_code == 401
    joined = post(alice, "join", {})
    assert joined.status_code == 200 and joined.json()["handoff_by"] == "Alice Smith"
    assert post(bob, "reply", {"text": "me too"}).status_code == 409
    bad = post(alice, "reply", {"text": 42})
    assert bad.status_code == 400 and bad.json()["field"] == "text"
    assert post(alice, "reply", {"text": "hi", "extra": 1}).status_code == 400
    assert post(alice, "reply", {"text": "Hello from Alice"}).status_code == 200
    assert post(alice, "note", {"text": "Called her back on the phone"}).status_code == 200
    resolved = post(alice, "resolve", {"outcome": "Sorted out on the phone"})
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert resolved.json()["handoff_by"] is None
    assert [intent for intent, _ in _told(console, "guest-4")] == [
        "EXTERNAL_handoff_started", "EXTERNAL_coordinator_message", "EXTERNAL_handoff_ended"]
    assert post(alice, "join", {}).status_code == 409
    assert console.client().get("/api/escalations/E-NOPE9/transcript").status_code == 401
    assert alice.http.post(alice.url + "/api/escalations/E-NOPE9/join", json={},
                           headers={"X-CSRF-Token": alice.get("/api/session").json()["csrf_token"]}, timeout=10).status_code == 404
