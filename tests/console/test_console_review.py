"""The review list over real HTTP: unclear messages filed under an intent or dismissed, then exported."""

from __future__ import annotations

import yaml

from .conftest import Console


def test_a_coordinator_files_unclear_messages_and_downloads_them_as_training_data(console: Console) -> None:
    care = console.care
    tea = care.review_list.record("conv-r1", "can u sort my tea out <b>pls</b>", [("order_meal", 0.31)], message_id="r-1")
    noise = care.review_list.record("conv-r2", "qwerty", [("greet", 0.2)], message_id="r-2")
    assert tea and noise
    care.review_list.note_choice(tea.id, "order_meal")
    client = console.logged_in()

    page = client.get("/review")
    assert page.status_code == 200
    assert "can u sort my tea out &lt;b&gt;pls&lt;/b&gt;" in page.text, "the user's words are escaped"
    assert "order_meal (31%)" in page.text and '<option value="order_meal" selected>' in page.text

    token = client.csrf("/review")
    refused = client.post(f"/review/{tea.id}", {"csrf": token, "action": "accept", "intent": "launch_rocket"})
    assert refused.status_code == 400 and "Choose one of the assistant" in refused.text
    accepted = client.post(f"/review/{tea.id}", {"csrf": client.csrf("/review"), "action": "accept", "intent": "order_meal"})
    assert accepted.status_code == 303
    dismissed = client.post(f"/review/{noise.id}", {"csrf": client.csrf("/review"), "action": "dismiss"})
    assert dismissed.status_code == 303
    assert "Nothing to review." in client.get("/review").text

    export = client.get("/review/export.yml")
    assert export.status_code == 200 and "attachment" in export.headers["Content-Disposition"]
    data = yaml.safe_load(export.text)
    assert {"intent": "order_meal", "examples": "- can u sort my tea out <b>pls</b>\n"} in data["nlu"]
    assert "qwerty" not in export.text
    assert "Alice Smith" in client.get("/review?status=accepted").text


def test_the_review_list_needs_a_session_and_a_csrf_token(console: Console) -> None:
    anonymous = console.client()
    assert anonymous.get("/review").status_code in (302, 303)
    assert anonymous.get("/review/export.yml").status_code in (302, 303)
    row = console.care.review_list.record("conv-r3", "hmm what", [], message_id="r-3")
    assert row is not None
    forged = console.logged_in().post(f"/review/{row.id}", {"action": "dismiss"})
    assert forged.status_code in (400, 403)
    assert console.care.review_list.search("new")[0][0].id == row.id
