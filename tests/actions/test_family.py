"""Family linking in the chat: code, confirmation by the senior, the family list."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from assistant.actions.family import (
    ActionChangeFamilyShare,
    ActionAnswerFamilyRequest,
    ActionCreateInvite,
    ActionFamilyLinkAnswer,
    ActionFamilyLinkRequest,
    ActionLinkWithCode,
    ActionListFamily,
    ActionRemoveRelative,
)
from assistant.care import CareServices
from assistant.care.core.errors import NotAllowed
from assistant.care.people.invites import MAX_WRONG_CODES

from .conftest import make_tracker, register, responses, slot_events

ANNE = {"telegram": {"update_id": 5, "first_name": "Anne", "last_name": "Jones"}}


def _payload_entities(button: dict[str, str]) -> list[tuple[str, str]]:
    _, _, body = button["payload"].partition("{")
    return list(json.loads("{" + body).items())


async def _invite(dispatcher: CollectingDispatcher, domain: dict[str, Any], text: str = "I want my daughter to help me") -> str:
    await ActionCreateInvite().run(dispatcher, make_tracker(text, "invite_relative"), domain)
    return dispatcher.messages[-1]["code"]


async def test_the_whole_link_from_code_to_yes(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    mary = CollectingDispatcher()
    code = await _invite(mary, domain)
    assert responses(mary) == ["utter_family_invite"]
    assert mary.messages[0]["who"] == "your daughter" and mary.messages[0]["until"].startswith("tomorrow at")

    anne = CollectingDispatcher()
    await ActionLinkWithCode().run(
        anne, make_tracker(f"hello, my mum gave me the code {code.lower()}", "link_account", sender="anne-1", metadata=ANNE), domain
    )
    assert responses(anne) == ["utter_family_code_sent"]
    assert (anne.messages[0]["name"], anne.messages[0]["senior"]) == (", Anne", "Mary")

    [request] = _pending(care, "mary-0001")
    asked = CollectingDispatcher()
    events = await ActionFamilyLinkRequest().run(
        asked, make_tracker("", "EXTERNAL_family_link_request",
                            entities=[("family_request", request["family_request"]), ("relative_name", "Anne Jones")]), domain)
    assert responses(asked) == ["utter_family_link_request"] and asked.messages[0]["relative"] == "Anne Jones"
    yes, no = asked.messages[0]["buttons"]
    assert yes["title"] == "Yes, allow Anne" and no["title"] == "No"
    assert slot_events(events) == {"family_request": request["family_request"]}

    answered = CollectingDispatcher()
    await ActionAnswerFamilyRequest().run(answered, make_tracker(yes["payload"], "answer_family_request",
                                                                 entities=_payload_entities(yes)), domain)
    assert responses(answered) == ["utter_family_allowed"]
    acting = care.family.acting("anne-1")
    assert acting is not None and acting.profile.full_name == "Mary Jones"

    told = CollectingDispatcher()
    await ActionFamilyLinkAnswer().run(told, make_tracker("", "EXTERNAL_family_link_answer", sender="anne-1",
                                                          entities=[("senior_name", "Mary"), ("family_answer", "yes")]), domain)
    assert responses(told) == ["utter_family_link_accepted"]


def _pending(care: CareServices, conversation_id: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from assistant.care.core.models import Notification, Person

    with care.db.reading() as session:
        return [n.entities for n in session.scalars(
            select(Notification).join(Person, Person.id == Notification.person_id)
            .where(Person.conversation_id == conversation_id, Notification.kind == "family_link_request"))]


async def test_a_plain_no_right_after_the_question_declines(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    code = await _invite(CollectingDispatcher(), domain)
    await ActionLinkWithCode().run(CollectingDispatcher(), make_tracker(f"link {code}", "link_account", sender="anne-1"), domain)
    [request] = _pending(care, "mary-0001")
    assert request["relative_name"] == "Your daughter", "without a channel name the senior's own words are used"

    said = CollectingDispatcher()
    events = await ActionAnswerFamilyRequest().run(
        said, make_tracker("no", "deny", slots={"family_request": request["family_request"]}), domain)
    assert responses(said) == ["utter_family_declined"]
    assert slot_events(events) == {"family_request": None}
    assert care.family.acting("anne-1") is None


async def test_without_a_code_the_relative_is_told_how_to_get_one(care: CareServices, dispatcher: CollectingDispatcher, domain: dict[str, Any]) -> None:
    await ActionLinkWithCode().run(dispatcher, make_tracker("I want to help my mum with her account", "link_account", sender="anne-1"), domain)
    assert responses(dispatcher) == ["utter_family_ask_code"]


async def test_a_wrong_code_gets_a_kind_answer_and_guessing_is_stopped(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    await _invite(CollectingDispatcher(), domain)
    replies = []
    for _ in range(MAX_WRONG_CODES + 1):
        said = CollectingDispatcher()
        await ActionLinkWithCode().run(said, make_tracker("/link", "link_account", sender="x-1",
                                                          entities=[("invite_code", "AAA-AAA")]), domain)
        replies.append(said.messages[0]["reason"])
    assert "I don't know that code" in replies[0]
    assert "wait an hour" in replies[-1]


async def test_a_relative_asking_for_a_code_is_told_only_the_senior_can(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    care.people.link_relative("mary-0001", "anne-1", "Anne Jones", "daughter")
    said = CollectingDispatcher()
    await ActionCreateInvite().run(said, make_tracker("/invite_relative", "invite_relative", sender="anne-1"), domain)
    assert responses(said) == ["utter_family_invite_failed"] and "Only the person you help" in said.messages[0]["reason"]


async def test_someone_without_a_profile_asking_to_be_linked_is_told_how(care: CareServices, domain: dict[str, Any]) -> None:
    said = CollectingDispatcher()
    await ActionCreateInvite().run(
        said, make_tracker("I'm her son, how do I get access to my mum's account", "invite_relative", sender="son-1"), domain)
    assert responses(said) == ["utter_family_invite_unregistered"]
    [text] = [r["text"] for r in domain["responses"]["utter_family_invite_unregistered"]]
    assert "family code" in text and "/link" in text and "register" in text
    assert [b["payload"] for b in domain["responses"]["utter_family_invite_unregistered"][0]["buttons"]] == [
        "/register", "/talk_to_human"]


async def test_the_family_list_removes_with_one_press(care: CareServices, domain: dict[str, Any]) -> None:
    register(care)
    care.people.link_relative("mary-0001", "anne-1", "Anne Jones", "daughter")
    care.people.link_relative("mary-0001", "tom-1", "Tom Jones", "son")

    listed = CollectingDispatcher()
    await ActionListFamily().run(listed, make_tracker("/family", "list_family"), domain)
    assert responses(listed) == ["utter_family_list_senior"]
    assert listed.messages[0]["names"] == (
        "• Anne Jones (daughter): meals and help at home, reminders and pills\n"
        "• Tom Jones (son): meals and help at home, reminders and pills"
    )
    remove_anne = next(b for b in listed.messages[0]["buttons"] if b["title"].startswith("Remove"))
    assert remove_anne["title"] == "Remove Anne Jones"

    removed = CollectingDispatcher()
    await ActionRemoveRelative().run(removed, make_tracker(remove_anne["payload"], "remove_relative",
                                                           entities=_payload_entities(remove_anne)), domain)
    assert responses(removed) == ["utter_family_removed"] and removed.messages[0]["name"] == "Anne Jones"
    assert care.family.acting("anne-1") is None and care.family.acting("tom-1") is not None

    tom = CollectingDispatcher()
    await ActionListFamily().run(tom, make_tracker("who am I helping", "list_family", sender="tom-1"), domain)
    assert responses(tom) == ["utter_family_list_relative"]
    assert tom.messages[0]["names"] == "Mary Jones (who shares with you: meals and help at home, reminders and pills)"


async def test_the_senior_stops_sharing_reminders_with_one_press_and_the_relative_is_refused(
    care: CareServices, domain: dict[str, Any]
) -> None:
    register(care)
    care.people.link_relative("mary-0001", "anne-1", "Anne Jones", "daughter")
    listed = CollectingDispatcher()
    await ActionListFamily().run(listed, make_tracker("/family", "list_family"), domain)
    titles = [b["title"] for b in listed.messages[0]["buttons"]]
    assert titles == ["Anne: stop sharing meals & visits", "Anne: stop sharing reminders", "Remove Anne Jones"]
    stop_reminders = listed.messages[0]["buttons"][1]

    changed = CollectingDispatcher()
    await ActionChangeFamilyShare().run(changed, make_tracker(stop_reminders["payload"], "change_family_share",
                                                              entities=_payload_entities(stop_reminders)), domain)
    assert responses(changed) == ["utter_family_share_changed"]
    assert changed.messages[0]["change"] == "Anne will no longer see or arrange your reminders and pills."
    with pytest.raises(NotAllowed):
        care.reminders.create("anne-1", "medication", "heart pills", "every day at 08:00")

    again = CollectingDispatcher()
    await ActionListFamily().run(again, make_tracker("/family", "list_family"), domain)
    assert "• Anne Jones (daughter): meals and help at home" in again.messages[0]["names"]
    assert [b["title"] for b in again.messages[0]["buttons"]][1] == "Anne: share reminders"

    by_anne = CollectingDispatcher()
    await ActionChangeFamilyShare().run(by_anne, make_tracker(stop_reminders["payload"].replace("no", "yes"), "change_family_share",
                                                              sender="anne-1", entities=_payload_entities(stop_reminders)), domain)
    assert responses(by_anne) == ["utter_family_remove_failed"] and "Only the person you help" in by_anne.messages[0]["reason"]


async def test_remove_without_a_name_shows_the_list_and_a_stranger_gets_a_kind_answer(
    care: CareServices, domain: dict[str, Any]
) -> None:
    register(care)
    said = CollectingDispatcher()
    await ActionRemoveRelative().run(said, make_tracker("remove a relative", "remove_relative"), domain)
    assert responses(said) == ["utter_family_none"]
    stranger = CollectingDispatcher()
    await ActionRemoveRelative().run(stranger, make_tracker("/remove_relative", "remove_relative", sender="x",
                                                            entities=[("family_member", "1")]), domain)
    assert responses(stranger) == ["utter_family_remove_failed"]
