"""Family linking in the chat: invite codes, the senior's confirmation, and the family list."""

from __future__ import annotations

import logging
import re
from typing import Any, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.actions.base import (
    care,
    channel_of,
    entity_values,
    first_entity,
    intent_payload,
    latest_intent,
    latest_text,
    user_timezone,
)
from assistant.actions.meals import say_when
from assistant.care.core.errors import CareError, NotRegistered
from assistant.care.core.vocabulary import FAMILY_SHARES, SHARE_WORDS
from assistant.care.people.family import FamilyMember, describe_shares
from assistant.care.people.invites import CODE_ALPHABET, CODE_LENGTH

logger = logging.getLogger(__name__)
SHARE_BUTTON_WORDS = {"bookings": "meals & visits", "reminders": "reminders"}
"""Short words for the share buttons (Telegram shows about 30 characters of a button)."""

_CODE_IN_TEXT = re.compile(r"(?<![A-Za-z0-9])([A-Za-z0-9]{3})[- ]?([A-Za-z0-9]{3})(?![A-Za-z0-9])")
_RELATION_WORDS = {
    "mum": "mum", "mom": "mum", "mother": "mother", "dad": "dad", "father": "father",
    "daughter": "daughter", "son": "son", "grandson": "grandson", "granddaughter": "granddaughter",
    "niece": "niece", "nephew": "nephew", "husband": "husband", "wife": "wife", "sister": "sister",
    "brother": "brother", "neighbour": "neighbour", "neighbor": "neighbour", "friend": "friend",
    "carer": "carer", "grandchild": "grandchild",
}


def code_in(tracker: Tracker) -> str:
    """The invite code the user sent: the ``invite_code`` entity, or the most code-like word in the text."""
    given = entity_values(tracker, "invite_code")
    if given:
        return given[0]
    best: tuple[int, str] = (0, "")
    for match in _CODE_IN_TEXT.finditer(latest_text(tracker)):
        raw = (match.group(1) + match.group(2)).upper()
        if len(raw) != CODE_LENGTH or not set(raw) <= set(CODE_ALPHABET):
            continue
        whole = match.group(0)
        score = 1 + ("-" in whole) + any(ch.isdigit() for ch in whole) + whole.isupper()
        if score > best[0]:
            best = (score, raw)
    return best[1]


def relation_in(tracker: Tracker) -> str:
    """Who the senior wants to invite ("daughter"), from the entity or the words used."""
    for value in entity_values(tracker, "relation"):
        return _RELATION_WORDS.get(value.lower(), value.lower())[:60]
    for word in re.findall(r"[a-z]+", latest_text(tracker).lower()):
        if word in _RELATION_WORDS:
            return _RELATION_WORDS[word]
    return ""


def sender_name(tracker: Tracker) -> str:
    """The name the channel knows the sender by (Telegram's first and last name), or ''."""
    metadata: Any = tracker.latest_message.get("metadata") or {}
    person = metadata.get("telegram", {}) if isinstance(metadata, dict) else {}
    parts = [str(person.get(key) or "").strip() for key in ("first_name", "last_name")] if isinstance(person, dict) else []
    return " ".join(part for part in parts if part)[:120]


def _payload(intent: str, **entities: str) -> str:
    return intent_payload(intent, entities)


class ActionCreateInvite(Action):
    """Gives the senior a one-time family code and explains how the relative uses it."""

    def name(self) -> str:
        return "action_create_invite"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        relation = relation_in(tracker)
        try:
            invite = care().invites.create(tracker.sender_id, relation)
            profile = care().people.find_by_conversation(tracker.sender_id)
        except NotRegistered:
            # usually a relative asking how to help a parent: explain the code, and registering
            dispatcher.utter_message(response="utter_family_invite_unregistered")
            return []
        except CareError as error:
            dispatcher.utter_message(response="utter_family_invite_failed", reason=error.message)
            return []
        except Exception:
            logger.exception("could not create a family invite for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_family_unavailable")
            return []
        who = f"your {invite.relationship}" if invite.relationship else "the person who will help you"
        until = say_when(invite.expires_at, user_timezone(profile))
        dispatcher.utter_message(response="utter_family_invite", code=invite.code, who=who, until=until)
        return []


class ActionLinkWithCode(Action):
    """A relative sends a code: the senior is asked to confirm; a wrong code gets a kind answer."""

    def name(self) -> str:
        return "action_link_with_code"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = code_in(tracker)
        if not code:
            dispatcher.utter_message(response="utter_family_ask_code")
            return []
        name = sender_name(tracker)
        try:
            request = care().invites.claim(tracker.sender_id, code, name, channel_of(tracker))
        except CareError as error:
            dispatcher.utter_message(response="utter_family_code_refused", reason=error.message)
            return []
        except Exception:
            logger.exception("could not use a family code for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_family_unavailable")
            return []
        first = name.split()[0] if name else ""
        dispatcher.utter_message(
            response="utter_family_code_sent", name=f", {first}" if first else "", senior=request.senior_first_name
        )
        return []


class ActionFamilyLinkRequest(Action):
    """Asks the senior (delivered by the care service) whether a relative may help them."""

    def name(self) -> str:
        return "action_family_link_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        request = first_entity(tracker, "family_request")
        relative = first_entity(tracker, "relative_name", "A relative")
        if not request:
            return []
        first = relative.split()[0]
        buttons = [
            {"title": f"Yes, allow {first}", "payload": _payload("answer_family_request", family_request=request, family_answer="yes")},
            {"title": "No", "payload": _payload("answer_family_request", family_request=request, family_answer="no")},
        ]
        dispatcher.utter_message(response="utter_family_link_request", relative=relative, buttons=buttons)
        return [SlotSet("family_request", request)]


class ActionAnswerFamilyRequest(Action):
    """Records the senior's yes or no to a link request (a button, or yes/no right after the question)."""

    def name(self) -> str:
        return "action_answer_family_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        request = first_entity(tracker, "family_request") or tracker.get_slot("family_request") or ""
        answer = first_entity(tracker, "family_answer")
        accept = answer == "yes" if answer else latest_intent(tracker) == "affirm"
        try:
            decision = care().invites.decide(tracker.sender_id, request, accept)
        except CareError as error:
            dispatcher.utter_message(response="utter_family_answer_failed", reason=error.message)
            return [SlotSet("family_request", None)]
        except Exception:
            logger.exception("could not record a family link answer for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_family_unavailable")
            return []
        response = "utter_family_allowed" if decision.accepted else "utter_family_declined"
        dispatcher.utter_message(response=response, relative=decision.relative_name)
        return [SlotSet("family_request", None)]


class ActionFamilyLinkAnswer(Action):
    """Tells the relative (delivered by the care service) what the senior decided."""

    def name(self) -> str:
        return "action_family_link_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        senior = first_entity(tracker, "senior_name", "Your relative")
        accepted = first_entity(tracker, "family_answer") == "yes"
        dispatcher.utter_message(
            response="utter_family_link_accepted" if accepted else "utter_family_link_refused", senior=senior
        )
        return []


class ActionListFamily(Action):
    """Shows who is linked, each name a button that removes the link."""

    def name(self) -> str:
        return "action_list_family"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        family = _family_or_say(dispatcher, tracker)
        if family is None:
            return []
        if not family.members:
            dispatcher.utter_message(response="utter_family_none" if family.is_senior else "utter_family_none_relative")
            return []
        if family.is_senior:
            names = "\n".join(f"• {_with_relation(m.name, m.relationship)}: {describe_shares(m.shares)}" for m in family.members)
            buttons = [button for m in family.members for button in _member_buttons(m)]
            dispatcher.utter_message(response="utter_family_list_senior", names=names, buttons=buttons)
            return []
        names = _and_join([f"{m.name} (who shares with you: {describe_shares(m.shares)})" for m in family.members])
        buttons = [{"title": f"Stop helping {m.name}", "payload": _payload("remove_relative", family_member=str(m.link_id))}
                   for m in family.members]
        dispatcher.utter_message(response="utter_family_list_relative", names=names, buttons=buttons)
        return []


def _member_buttons(member: FamilyMember) -> list[dict[str, str]]:
    """One button per thing that can be shared (on or off), then one that removes the relative."""
    first = member.name.split()[0] if member.name else "them"
    buttons = [
        {"title": f"{first}: {'stop sharing' if share in member.shares else 'share'} {SHARE_BUTTON_WORDS[share]}",
         "payload": _payload("change_family_share", family_member=str(member.link_id), share=share,
                             share_on="no" if share in member.shares else "yes")}
        for share in FAMILY_SHARES
    ]
    return buttons + [{"title": f"Remove {member.name}", "payload": _payload("remove_relative", family_member=str(member.link_id))}]


class ActionChangeFamilyShare(Action):
    """The senior shares, or stops sharing, meals and visits or reminders with one relative."""

    def name(self) -> str:
        return "action_change_family_share"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        member = first_entity(tracker, "family_member")
        share = first_entity(tracker, "share")
        on = first_entity(tracker, "share_on") == "yes"
        if not member or not share:
            return await ActionListFamily().run(dispatcher, tracker, domain)
        try:
            changed = care().family.set_share(tracker.sender_id, member, share, on)
        except CareError as error:
            dispatcher.utter_message(response="utter_family_remove_failed", reason=error.message)
            return []
        first = changed.name.split()[0] if changed.name else "They"
        change = (f"{first} can now see and arrange your {SHARE_WORDS[share]}." if on
                  else f"{first} will no longer see or arrange your {SHARE_WORDS[share]}.")
        dispatcher.utter_message(response="utter_family_share_changed", change=change)
        return []


class ActionRemoveRelative(Action):
    """Ends one link (from the family list's button); without a chosen name, shows the list."""

    def name(self) -> str:
        return "action_remove_relative"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        member = first_entity(tracker, "family_member")
        if not member:
            return await ActionListFamily().run(dispatcher, tracker, domain)
        try:
            family = care().family.family(tracker.sender_id)
            removed = care().family.remove(tracker.sender_id, member)
        except CareError as error:
            dispatcher.utter_message(response="utter_family_remove_failed", reason=error.message)
            return []
        except Exception:
            logger.exception("could not remove a family link for %s", tracker.sender_id)
            dispatcher.utter_message(response="utter_family_unavailable")
            return []
        response = "utter_family_removed" if family.is_senior else "utter_family_removed_relative"
        dispatcher.utter_message(response=response, name=removed.name)
        return []


class ActionFamilyUnlinked(Action):
    """Tells the other side (delivered by the care service) that a link was ended."""

    def name(self) -> str:
        return "action_family_unlinked"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        name = first_entity(tracker, "relative_name", "Your relative")
        dispatcher.utter_message(response="utter_family_unlinked", name=name)
        return []


def _family_or_say(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[Any]:
    try:
        return care().family.family(tracker.sender_id)
    except CareError:
        dispatcher.utter_message(response="utter_family_none_relative")
    except Exception:
        logger.exception("could not read the family of %s", tracker.sender_id)
        dispatcher.utter_message(response="utter_family_unavailable")
    return None


def _with_relation(name: str, relationship: str) -> str:
    return f"{name} ({relationship})" if relationship and relationship not in name.lower() else name


def _and_join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
