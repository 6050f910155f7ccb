"""Registry pages over real HTTP: search, add, edit (verified), CSV import, sessions, CSRF, escaping."""

from __future__ import annotations

import re

from sqlalchemy import select

from assistant.care.core.models import AuditLog, Provider

from .conftest import Console
from .seed import home_provider, unique


def _provider_id(console: Console, name: str) -> int:
    with console.care.db.reading() as session:
        return int(session.scalar(select(Provider.id).where(Provider.name == name)))


def _audit(console: Console, entity_type: str, entity_id: object) -> list[tuple[str, str, str]]:
    with console.care.db.reading() as session:
        rows = session.scalars(
            select(AuditLog).where(AuditLog.entity_type == entity_type, AuditLog.entity_id == str(entity_id))
            .order_by(AuditLog.id)
        )
        return [(r.actor, r.action, r.detail) for r in rows]


def test_every_new_page_needs_a_session(console: Console) -> None:
    provider_id, _ = home_provider(console.care, unique("Guarded Clean"))
    client = console.client()

    for path in ("/providers", "/providers/new", "/providers/import", f"/providers/{provider_id}",
                 "/bookings", "/bookings/CL-22222", "/people", "/people/1", "/audit?actor=alice"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"].startswith("/login?next=/"), path
    refused = client.post(f"/providers/{provider_id}", {"csrf": "x", "name": "Taken over", "kind": "cleaning",
                                                        "districts": "Riverside", "opening_hours": "closed"})
    assert refused.status_code == 303
    assert console.care.registry.record(provider_id).name != "Taken over"


def test_changes_without_the_csrf_token_are_refused(console: Console) -> None:
    name = unique("Csrf Clean")
    provider_id, _ = home_provider(console.care, name)
    client = console.logged_in()
    form = {"name": "Renamed", "kind": "cleaning", "districts": "Riverside", "opening_hours": "closed"}

    assert client.post("/providers/new", form).status_code == 403
    assert client.post(f"/providers/{provider_id}", dict(form, csrf="guessed")).status_code == 403
    assert client.http.post(f"{console.url}/providers/import", files={"file": ("a.csv", b"name\n")},
                            allow_redirects=False, timeout=10).status_code == 403
    assert client.post("/bookings/CL-22222/status", {"status": "done"}).status_code == 403
    assert console.care.registry.record(provider_id).name == name


def test_adding_a_provider_persists_it_and_audits_the_coordinator(console: Console) -> None:
    client = console.logged_in()
    name = unique("Sparkle Home")

    response = client.post("/providers/new", {
        "csrf": client.csrf("/providers/new"), "name": name, "kind": "cleaning",
        "districts": "Riverside; Old Town", "opening_hours": "mon-fri 08:00-18:00; sat 09:00-13:00",
        "phone": "+44 20 7946 0000", "active": "yes",
    })

    assert response.status_code == 303
    provider_id = _provider_id(console, name)
    assert response.headers["Location"] == f"/providers/{provider_id}?saved=1"
    record = console.care.registry.record(provider_id)
    assert (record.kind, record.districts, record.verified, record.active) == (
        "cleaning", ("Old Town", "Riverside"), False, True)
    assert record.opening_hours == "Mon-Fri 08:00-18:00; Sat 09:00-13:00"
    assert [(a, act) for a, act, _ in _audit(console, "provider", provider_id)] == [
        ("coordinator:Alice Smith", "provider.created")]
    page = client.get(f"/providers/{provider_id}").text
    assert "Saved." not in page and name in page


def test_a_bad_form_is_explained_kept_and_nothing_is_stored(console: Console) -> None:
    client = console.logged_in()
    name = unique("Half Done")

    response = client.post("/providers/new", {
        "csrf": client.csrf("/providers/new"), "name": name, "kind": "cleaning",
        "districts": "Riverside", "opening_hours": "mon-fri 8 till late",
    })

    assert response.status_code == 400
    assert re.search(r'class="error"[^>]*>Could not read the times [^<]*Write opening hours like', response.text)
    assert f'value="{name}"' in response.text and 'aria-invalid="true"' in response.text
    with console.care.db.reading() as session:
        assert session.scalar(select(Provider.id).where(Provider.name == name)) is None


def test_editing_toggles_verified_changes_prices_and_is_audited(console: Console) -> None:
    name = unique("Toggle Clean")
    provider_id, offering_id = home_provider(console.care, name, price_cents=3400)
    client = console.logged_in("bob")
    page = f"/providers/{provider_id}"
    form = {"name": name, "kind": "cleaning", "districts": "Riverside; Hillcrest",
            "opening_hours": "daily 00:00-24:00", "phone": "", "active": "yes"}

    unverified = client.post(page, dict(form, csrf=client.csrf(page), **{f"price_{offering_id}": "36.50"}))
    assert unverified.status_code == 303
    record = console.care.registry.record(provider_id)
    assert record.verified is False and record.districts == ("Hillcrest", "Riverside")
    assert record.offerings[0].price_cents == 3650
    assert client.post(page, dict(form, csrf=client.csrf(page), verified="yes")).status_code == 303
    assert console.care.registry.record(provider_id).verified is True

    rows = _audit(console, "provider", provider_id)
    updates = [(actor, detail) for actor, action, detail in rows if action == "provider.updated"]
    assert [actor for actor, _ in updates] == ["coordinator:Bob <b>Jones</b>"] * 2
    assert '"verified": false' in updates[0][1] and '"districts"' in updates[0][1]
    assert '"verified": true' in updates[1][1]
    assert [a for a, act, _ in _audit(console, "offering", offering_id) if act == "offering.updated"] == [
        "coordinator:Bob <b>Jones</b>"]
    shown = client.get(page).text
    assert re.search(r'id="verified-state">yes<', shown) and 'value="36.50"' in shown


def test_a_duplicate_name_is_refused_on_edit(console: Console) -> None:
    first, second = unique("Twin Clean"), unique("Twin Clean")
    home_provider(console.care, first)
    provider_id, _ = home_provider(console.care, second)
    client = console.logged_in()
    page = f"/providers/{provider_id}"

    response = client.post(page, {"csrf": client.csrf(page), "name": first.upper(), "kind": "cleaning",
                                  "districts": "Riverside", "opening_hours": "closed", "active": "yes"})

    assert response.status_code == 400 and "already in the registry" in response.text
    assert console.care.registry.record(provider_id).name == second


def test_the_list_searches_pages_shows_reputation_and_escapes(console: Console) -> None:
    tag = unique("Zq")
    for n in range(53):
        home_provider(console.care, f"{tag} Broom {n:02d}", district="Parkview")
    evil = f"{tag} <img src=x onerror=alert(1)>"
    home_provider(console.care, evil, kind="repair", district="Parkview")
    client = console.logged_in()

    first = client.get("/providers", params={"q": tag.lower(), "kind": "cleaning", "district": "parkview"})
    assert first.status_code == 200
    assert re.search(r'id="total">53<', first.text) and "Page 1 of 2" in first.text
    assert first.text.count("data-provider=") == 50
    assert f"{tag} Broom 00" in first.text and evil not in first.text
    assert "<th>Score</th><th>Reviews</th><th>Complaints</th>" in first.text
    second = client.get("/providers", params={"q": tag, "kind": "cleaning", "district": "Parkview", "page": "2"})
    assert second.text.count("data-provider=") == 3 and f"{tag} Broom 52" in second.text
    repair = client.get("/providers", params={"q": tag, "kind": "repair"}).text
    assert "&lt;img src=x onerror=alert(1)&gt;" in repair and "<img src=x" not in repair
    assert client.get("/providers", params={"kind": "plumbing"}).status_code == 400


def test_a_flagged_provider_shows_its_flag(console: Console) -> None:
    provider_id, _ = home_provider(console.care, unique("Flaky Clean"))
    from datetime import datetime, timezone

    with console.care.db.session() as session:
        provider = session.get(Provider, provider_id)
        provider.flagged_at = datetime.now(timezone.utc)
        provider.flag_reason = "Score 2.10 is below 3.0 after 3 reviews and 1 complaints."
        provider.complaint_count = 1
    client = console.logged_in()

    page = client.get(f"/providers/{provider_id}").text
    assert 'id="flagged"' in page and "Score 2.10 is below 3.0" in page
    assert re.search(r'id="complaints">1<', page)


def test_unknown_providers_are_404_without_details(console: Console) -> None:
    client = console.logged_in()

    for path in ("/providers/999999", "/providers/abc", "/providers/0", "/providers/-1",
                 "/providers/99999999999999999999999999"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "There is no such provider." in response.text or "There is no such page." in response.text
        assert "Traceback" not in response.text and "sqlalchemy" not in response.text.lower()


def test_csv_import_reports_the_bad_row_and_imports_the_rest(console: Console) -> None:
    client = console.logged_in()
    good, bad, other = unique("Csv Meals"), unique("Csv Broken"), unique("Csv Wash")
    body = (
        "name,kind,districts,phone,verified,opening_hours,offering_name,offering_mode,price,duration_minutes\n"
        f"{good},meal,Riverside;Old Town,+44 20 7946 0301,yes,mon-fri 08:00-18:00,Chef visit,chef_visit,55.00,150\n"
        f"{bad},cleaning,Hillcrest,,maybe,mon-fri 08:00-17:00,Home clean,home_clean,34.00,120\n"
        f"{other},laundry,Old Town,,no,mon-sat 08:00-19:00,Wash and fold,wash_and_fold,17.50,30\n"
    ).encode()

    response = client.http.post(
        f"{console.url}/providers/import", data={"csrf": client.csrf("/providers/import")},
        files={"file": ("providers.csv", body, "text/csv")}, allow_redirects=False, timeout=10,
    )

    assert response.status_code == 200
    report = response.text
    assert "2 rows imported (2 new providers, 0 updates)." in report
    assert re.search(r"<td>3</td><td>" + re.escape(bad) + r"</td><td>verified must be yes or no", report)
    assert _provider_id(console, good) and _provider_id(console, other)
    with console.care.db.reading() as session:
        assert session.scalar(select(Provider.id).where(Provider.name == bad)) is None
    actors = {a for a, act, _ in _audit(console, "provider", _provider_id(console, good))}
    assert actors == {"coordinator:Alice Smith"}


def test_an_unreadable_upload_is_explained(console: Console) -> None:
    client = console.logged_in()

    no_file = client.post("/providers/import", {"csrf": client.csrf("/providers/import")})
    wrong_columns = client.http.post(
        f"{console.url}/providers/import", data={"csrf": client.csrf("/providers/import")},
        files={"file": ("x.csv", b"who,what\nme,that\n", "text/csv")}, allow_redirects=False, timeout=10,
    )
    binary = client.http.post(
        f"{console.url}/providers/import", data={"csrf": client.csrf("/providers/import")},
        files={"file": ("x.csv", b"\xff\xfe\x00bad", "text/csv")}, allow_redirects=False, timeout=10,
    )

    assert no_file.status_code == 400 and "choose a CSV file" in no_file.text
    assert wrong_columns.status_code == 400 and "missing these columns" in wrong_columns.text
    assert binary.status_code == 400 and "UTF-8" in binary.text
