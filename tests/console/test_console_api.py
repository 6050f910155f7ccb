"""The JSON API over real HTTP: 401/403/400/404, providers, bookings, people, audit, and the OpenAPI document."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from assistant.care import CareServices
from assistant.care.coordinators.coordinators import CoordinatorService
from assistant.care.core.db import Database
from assistant.care.core.models import AuditLog, Notification
from assistant.console.app import ConsoleDeps, create_app
from assistant.console.security import Signer

from .conftest import Client, Console
from .seed import home_provider, senior, unique, visit

NEW_PROVIDER = {"kind": "cleaning", "districts": ["Riverside", "Old Town"], "opening_hours": "mon-fri 08:00-18:00"}


class Api:
    """A logged-in client that speaks JSON and sends the CSRF header."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.token = client.get("/api/session").json()["csrf_token"]

    def get(self, path: str, **params: str) -> Any:
        return self.client.get(path, params=params)

    def send(self, method: str, path: str, body: Any, *, token: str | None = "session", raw: bytes | None = None) -> Any:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["X-CSRF-Token"] = self.token if token == "session" else token
        data = raw if raw is not None else json.dumps(body).encode()
        return self.client.http.request(method, self.client.url + path, data=data, headers=headers,
                                        allow_redirects=False, timeout=10)


@pytest.fixture
def api(console: Console) -> Api:
    return Api(console.logged_in())


def _routes(tmp_path: Path) -> set[tuple[str, str]]:
    """Every (method, OpenAPI-style path) the console app registers under /api."""
    db = Database(f"sqlite:///{tmp_path / 'routes.db'}", durable=False)
    db.upgrade()
    care = CareServices(db)
    app = create_app(ConsoleDeps(care.escalations, CoordinatorService(db), Signer(b"route-secret-" * 2), care=care),
                     name="console_routes_check")
    found = set()
    for route in app.router.routes:
        path = "/" + route.path.lstrip("/")
        if path.startswith("/api/"):
            for method in route.methods:
                found.add((method.lower(), re.sub(r"<(\w+)(:[^>]*)?>", r"{\1}", path)))
    db.dispose()
    return found


def test_openapi_describes_every_api_route_and_nothing_else(console: Console, tmp_path: Path) -> None:
    spec = console.logged_in().get("/api/openapi.json").json()
    documented = {(method, path) for path, item in spec["paths"].items() for method in item}

    routes = _routes(tmp_path)

    assert spec["openapi"].startswith("3.0")
    assert routes - documented == set(), "routes missing from /api/openapi.json"
    assert documented - routes == set(), "documented paths that no route serves"
    for path, item in spec["paths"].items():
        for name in re.findall(r"{(\w+)}", path):
            for operation in item.values():
                assert name in [p["name"] for p in operation["parameters"] if p["in"] == "path"], (path, name)
    refs = set(re.findall(r'"#/components/schemas/(\w+)"', json.dumps(spec)))
    assert refs <= set(spec["components"]["schemas"])
    assert "X-CSRF-Token" in spec["info"]["description"]


def test_every_api_endpoint_answers_401_without_a_session(console: Console, tmp_path: Path) -> None:
    client = console.client()

    for method, path in sorted(_routes(tmp_path)):
        concrete = re.sub(r"{\w+}", "1", path)
        response = client.http.request(method.upper(), console.url + concrete, json={}, allow_redirects=False, timeout=10)
        assert response.status_code == 401, (method, path)
        assert response.json()["error"] == "unauthenticated"


def test_changes_need_the_csrf_header(console: Console, api: Api) -> None:
    provider_id, _ = home_provider(console.care, unique("Header Clean"))

    missing = api.send("POST", "/api/providers", dict(NEW_PROVIDER, name=unique("No Header")), token=None)
    wrong = api.send("PATCH", f"/api/providers/{provider_id}", {"verified": False}, token="guessed")
    other = Api(console.logged_in("bob"))
    foreign = api.send("POST", "/api/bookings/CL-22222/status", {"status": "done"}, token=other.token)

    for response in (missing, wrong, foreign):
        assert response.status_code == 403
        assert response.json()["error"] == "csrf" and response.json()["field"] == "X-CSRF-Token"
    assert console.care.registry.record(provider_id).verified is True


def test_providers_can_be_added_read_changed_and_listed(console: Console, api: Api) -> None:
    name = unique("Api Clean")

    created = api.send("POST", "/api/providers", dict(NEW_PROVIDER, name=name, phone="+44 20 7946 0000"))

    assert created.status_code == 201, created.text
    body = created.json()
    provider_id = body["provider_id"]
    assert created.headers["Location"] == f"/api/providers/{provider_id}"
    assert (body["name"], body["districts"], body["verified"], body["active"]) == (
        name, ["Old Town", "Riverside"], False, True)
    assert {"score", "review_count", "complaint_count", "flagged"} <= set(body)
    changed = api.send("PATCH", f"/api/providers/{provider_id}",
                       {"verified": True, "opening_hours": {"sat": [["09:00", "13:00"]]}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["verified"] is True and changed.json()["opening_hours"] == "Sat 09:00-13:00"
    assert changed.json()["name"] == name and changed.json()["phone"] == "+44 20 7946 0000"
    assert api.get(f"/api/providers/{provider_id}").json() == changed.json()
    listing = api.get("/api/providers", q=name.lower(), kind="cleaning", district="old town").json()
    assert [p["provider_id"] for p in listing["items"]] == [provider_id] and listing["total"] == 1
    with console.care.db.reading() as session:
        rows = session.execute(
            select(AuditLog.actor, AuditLog.action, AuditLog.detail)
            .where(AuditLog.entity_type == "provider", AuditLog.entity_id == str(provider_id)).order_by(AuditLog.id)
        ).all()
    assert [(r.actor, r.action) for r in rows] == [
        ("coordinator:Alice Smith", "provider.created"), ("coordinator:Alice Smith", "provider.updated")]
    assert json.loads(rows[1].detail) == {"fields": ["opening_hours", "verified"], "verified": True}


def test_offering_prices_change_through_patch(console: Console, api: Api) -> None:
    provider_id, offering_id = home_provider(console.care, unique("Price Clean"), price_cents=3400)

    changed = api.send("PATCH", f"/api/providers/{provider_id}", {"offering_prices": {str(offering_id): "29.90"}})
    other = api.send("PATCH", f"/api/providers/{provider_id}", {"offering_prices": {"999999": "1.00"}})

    assert changed.status_code == 200 and changed.json()["offerings"][0]["price_cents"] == 2990
    assert other.status_code == 404 and other.json()["field"] == "offering_prices"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"kind": "cleaning", "districts": ["Riverside"], "opening_hours": "closed"}, "name", "name"),
        (dict(NEW_PROVIDER, name="X", kind="plumbing"), "kind", "not a kind of provider"),
        (dict(NEW_PROVIDER, name="X", kind=7), "kind", "must be text"),
        (dict(NEW_PROVIDER, name="X", districts=[]), "districts", "at least one district"),
        (dict(NEW_PROVIDER, name="X", districts=[3]), "districts", "list of names"),
        (dict(NEW_PROVIDER, name="X", opening_hours="whenever"), "opening_hours", "Write opening hours like"),
        (dict(NEW_PROVIDER, name="X", opening_hours={"mon": 5}), "opening_hours", "[start, end]"),
        (dict(NEW_PROVIDER, name="X", opening_hours={"funday": [["08:00", "09:00"]]}), "opening_hours", "weekday"),
        (dict(NEW_PROVIDER, name="X", opening_hours=12), "opening_hours", "Write opening hours like"),
        (dict(NEW_PROVIDER, name="X", verified="perhaps"), "verified", "yes or no"),
        (dict(NEW_PROVIDER, name="X", phone="call me"), "phone", "phone number"),
        (dict(NEW_PROVIDER, name="X", rating=5), "rating", "not a field"),
        (dict(NEW_PROVIDER, name="X" * 121), "name", "too long"),
        (dict(NEW_PROVIDER, name="X", offering_prices={"1": "2.00"}), "offering_prices", "no offerings"),
        ([1, 2], "body", "JSON object"),
    ],
)
def test_bad_provider_input_is_400_with_the_field(api: Api, body: Any, field: str, words: str) -> None:
    response = api.send("POST", "/api/providers", body)

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_input"
    assert response.json()["field"] == field and words in response.json()["message"]


def test_bad_patches_and_unknown_ids(console: Console, api: Api) -> None:
    provider_id, offering_id = home_provider(console.care, unique("Patch Clean"))

    not_json = api.send("PATCH", f"/api/providers/{provider_id}", None, raw=b"{verified: yes")
    price = api.send("PATCH", f"/api/providers/{provider_id}", {"offering_prices": {str(offering_id): "-1"}})
    kind = api.send("PATCH", f"/api/providers/{provider_id}", {"kind": "repair"})

    assert not_json.status_code == 400 and not_json.json()["field"] == "body"
    assert price.status_code == 400 and price.json()["field"] == "offering_prices"
    assert kind.status_code == 400 and "kind cannot change" in kind.json()["message"]
    for path in ("/api/providers/999999", "/api/providers/abc", "/api/providers/99999999999999999999999",
                 "/api/bookings/CL-22222", "/api/bookings/%20", "/api/people/999999", "/api/people/x",
                 "/api/escalations/E-ZZZZZ"):
        response = api.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"] == "not_found"
    assert api.send("PATCH", "/api/providers/999999", {"verified": True}).status_code == 404
    assert api.send("POST", "/api/bookings/CL-22222/status", {"status": "done"}).status_code == 404


def test_booking_status_through_the_api_asks_for_a_rating(console: Console, api: Api) -> None:
    care = console.care
    _, offering = home_provider(care, unique("Api Done"))
    conversation, person_id = senior(care, "Edith Api")
    booking = visit(care, conversation, offering)
    path = f"/api/bookings/{booking.reference}/status"

    assert api.send("POST", path, {"status": "done"}).status_code == 409
    assert api.send("POST", path, {"status": "teleported"}).json()["field"] == "status"
    assert api.send("POST", path, {"status": 3}).status_code == 400
    assert api.send("POST", path, {"state": "done"}).json()["field"] == "state"
    for status in ("assigned", "in_progress", "done"):
        response = api.send("POST", path, {"status": status})
        assert response.status_code == 200 and response.json()["status"] == status

    record = api.get(f"/api/bookings/{booking.reference.lower()}").json()
    assert (record["status"], record["senior_id"], record["next_statuses"]) == ("done", person_id, [])
    with care.db.reading() as session:
        kinds = list(session.scalars(select(Notification.kind).where(Notification.person_id == person_id)))
    assert kinds.count("review_request") == 1
    listing = api.get("/api/bookings", senior=str(person_id), status="done").json()
    assert [b["reference"] for b in listing["items"]] == [booking.reference]
    for params, field in (({"status": "lost"}, "status"), ({"kind": "spa"}, "kind"), ({"from": "1/12/2025"}, "from"),
                          ({"from": "2025-12-05", "to": "2025-12-01"}, "to"), ({"senior": "me"}, "senior")):
        response = api.get("/api/bookings", **params)
        assert response.status_code == 400 and response.json()["field"] == field, params


def test_people_and_audit_through_the_api(console: Console, api: Api) -> None:
    care = console.care
    conversation, person_id = senior(care, "<b>Rose</b> Api")
    care.people.link_relative(conversation, f"{conversation}-ben", "Ben Api", "son")
    care.reminders.create(conversation, "medication", "Heart pill", "every day at 9am")
    escalation = care.escalations.open("emergency", conversation, "fell")

    page = api.get(f"/api/people/{person_id}").json()

    assert page["person"]["name"] == "<b>Rose</b> Api" and page["person"]["consent_care_data"] is True
    assert [(r["name"], r["relationship"]) for r in page["person"]["relatives"]] == [("Ben Api", "son")]
    assert [r["title"] for r in page["reminders"]] == ["Heart pill"]
    assert [e["reference"] for e in page["escalations"]] == [escalation.reference]
    assert page["escalations"][0]["url"] == f"/escalations/{escalation.reference}"
    found = api.get("/api/people", q="rose</b> api").json()
    assert [p["person_id"] for p in found["items"]] == [person_id]
    audit = api.get("/api/audit", entity=f"escalation:{escalation.reference}").json()
    assert [(a["action"], a["detail"]["kind"]) for a in audit["items"]] == [("escalation.opened", "emergency")]
    assert api.get("/api/audit", to="not a day").json()["field"] == "to"
    newest = api.get("/api/audit", limit="2").json()
    assert len(newest["items"]) == 2 and newest["items"][0]["entry_id"] > newest["items"][1]["entry_id"]
