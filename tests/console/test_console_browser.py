"""The console in headless Chromium: log in, watch a new emergency arrive live, claim, note, resolve."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest

from assistant.care.escalations.escalations import EscalationService
from tests.browser import ARTIFACTS, chromium_page

from .conftest import PASSWORD, Console, start_console


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    server, console, db = start_console(tmp_path_factory.mktemp("browser"), "console_browser")
    yield console
    server.stop()
    db.dispose()


@pytest.fixture
def page() -> Iterator[Any]:
    """A fresh headless Chromium page."""
    with chromium_page(1100, 800, 10000) as fresh:
        yield fresh


def test_coordinator_sees_a_new_emergency_live_and_handles_it(live: Console, page) -> None:
    from playwright.sync_api import expect

    care = live.care
    care.escalations.open("complaint", None, "The lunch arrived cold again.")
    care.escalations.open("talk_to_human", None, '<script>alert("hi")</script> wants a person')
    care.escalations.open("consultation", None, "Can my son sign the tenancy renewal for me?")
    two_hours_ago = datetime.now(timezone.utc) - timedelta(hours=2)
    late = EscalationService(care.db, clock=lambda: two_hours_ago).open(
        "missed_medication", None, "Evening pills not acknowledged."
    ).reference
    outside: list[str] = []
    page.on("request", lambda r: None if r.url.startswith(live.url) else outside.append(r.url))
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(f"{live.url}/")
    expect(page).to_have_url(f"{live.url}/login?next=/")
    page.fill("#username", "alice")
    page.fill("#password", "wrong password!")
    page.click("#login-button")
    expect(page.locator(".error")).to_contain_text("did not work")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    expect(page).to_have_url(f"{live.url}/")
    queue = page.locator("#queue tbody")
    expect(queue.locator("tr")).to_have_count(4)
    expect(queue.locator(f'tr[data-reference="{late}"]')).to_have_class("sla-overdue")
    expect(queue).to_contain_text('<script>alert("hi")</script> wants a person')
    page.wait_for_timeout(700)  # the event stream is open

    reference = care.escalations.open("emergency", None, "Rose fell in the bathroom and cannot get up.").reference
    row = queue.locator(f'tr[data-reference="{reference}"]')
    expect(row).to_be_visible(timeout=5_000)  # without a reload; how fast is measured in bench_console
    expect(row).to_have_class("sla-emergency fresh")
    assert queue.locator("tr").first.get_attribute("data-reference") == reference
    assert row.evaluate("r => getComputedStyle(r.cells[0]).color") == "rgb(176, 0, 32)"
    expect(page.locator("#alerts .alert")).to_contain_text(reference)
    expect(page.locator("#total")).to_have_text("5")
    page.wait_for_timeout(1_600)  # let the highlight finish before the screenshot
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console.png"), full_page=True)
    # docs/console.png is refreshed from this file by hand: a test run must not change tracked files.

    row.locator("a").click()
    expect(page.locator("#summary")).to_have_text("Rose fell in the bathroom and cannot get up.")
    page.click("#claim")
    expect(page.locator("#claimed-by")).to_have_text("Alice Smith")
    page.fill("#note-text", "Called 112 and her neighbour; ambulance on its way.")
    page.click("#add-note")
    expect(page.locator("#notes .note")).to_contain_text("ambulance on its way")
    page.fill("#outcome-text", "Ambulance arrived; daughter informed.")
    page.click("#resolve")
    expect(page.locator("#status")).to_have_text("resolved")

    view = care.escalations.get(reference)
    assert (view.status, view.claimed_by, view.outcome) == ("resolved", "Alice Smith", "Ambulance arrived; daughter informed.")
    page.goto(f"{live.url}/")
    expect(page.locator(f'#queue tr[data-reference="{reference}"]')).to_have_count(0)
    assert dialogs == [] and outside == []


def test_coordinator_verifies_a_provider_from_the_navigation(live: Console, page) -> None:
    from playwright.sync_api import expect

    from assistant.care.registry.hours import parse_hours_text

    provider = live.care.registry.add_provider(
        "Browser <b>Broom</b>", "cleaning", ["Riverside"], opening_hours=parse_hours_text("mon-fri 08:00-18:00"),
    )
    errors: list[str] = []
    page.on("response", lambda r: errors.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)

    page.goto(f"{live.url}/login")
    page.fill("#username", "bob")
    page.fill("#password", PASSWORD)
    page.click("#login-button")
    page.click("nav.main >> text=Providers")
    expect(page).to_have_url(f"{live.url}/providers")
    page.fill("input[name=q]", "broom")
    page.click("#provider-search button")
    link = page.locator(f'#providers tr[data-provider="{provider.provider_id}"] a')
    expect(link).to_have_text("Browser <b>Broom</b>")
    link.click()
    expect(page.locator("#verified-state")).to_have_text("no")
    page.check("#verified")
    page.click("#save-provider")
    expect(page.locator(".saved")).to_have_text("Saved.")
    expect(page.locator("#verified-state")).to_have_text("yes")
    assert live.care.registry.record(provider.provider_id).verified is True
    for name in ("Queue", "Bookings", "People", "Audit"):
        expect(page.locator("nav.main").get_by_text(name, exact=True)).to_be_visible()
    page.click("nav.main >> text=Audit")
    expect(page.locator("#audit tbody tr").first.locator(".action")).to_have_text("provider.updated")
    assert errors == []
