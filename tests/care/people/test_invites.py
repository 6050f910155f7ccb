"""Tests for family linking by invite code (assistant.care.people.invites) and the family list (care.family)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from assistant.care import CareServices
from assistant.care.core.errors import InvalidInput, InvalidTransition, NotAllowed, NotFound, NotRegistered
from assistant.care.people.invites import CODE_ALPHABET, MAX_WRONG_CODES, normalise_code
from assistant.care.core.models import AuditLog, FamilyInvite, Notification, Person

from ..helpers import FakeClock, add_meal_provider, register


@pytest.fixture
def edith(care: CareServices) -> str:
    add_meal_provider(care, "Riverside Kitchen", ["Riverside"])
    register(care, "conv-edith", name="Edith Smith")
    return "conv-edith"


def _told(care: CareServices, conversation_id: str) -> list[Notification]:
    with care.db.reading() as session:
        return list(session.scalars(
            select(Notification).join(Person, Person.id == Notification.person_id)
            .where(Person.conversation_id == conversation_id).order_by(Notification.id)
        ))


def test_a_daughter_links_with_the_code_after_her_mother_allows_it(care: CareServices, edith: str) -> None:
    invite = care.invites.create(edith, "daughter")
    assert len(normalise_code(invite.code)) == 6 and invite.code[3] == "-"
    assert set(normalise_code(invite.code)) <= set(CODE_ALPHABET)

    request = care.invites.claim("conv-anne", invite.code.lower().replace("-", " "), "Anne Jones", "telegram")

    assert (request.senior_first_name, request.relative_name) == ("Edith", "Anne Jones")
    assert care.family.acting("conv-anne") is None, "nothing is linked before Edith says yes"
    [asked] = _told(care, edith)
    assert asked.intent == "EXTERNAL_family_link_request"
    assert asked.entities == {"family_request": str(request.request_id), "relative_name": "Anne Jones",
                              "relation": "daughter"}

    decision = care.invites.decide(edith, request.request_id, accept=True)

    assert decision.accepted and decision.relative_name == "Anne Jones"
    acting = care.family.acting("conv-anne")
    assert acting is not None and acting.profile.full_name == "Edith Smith" and acting.is_relative
    [answer] = _told(care, "conv-anne")
    assert answer.intent == "EXTERNAL_family_link_answer"
    assert answer.entities == {"senior_name": "Edith", "family_answer": "yes"}
    family = care.family.family(edith)
    assert family.is_senior and [(m.name, m.relationship) for m in family.members] == [("Anne Jones", "daughter")]
    assert [m.name for m in care.family.family("conv-anne").members] == ["Edith Smith"]


def test_a_code_works_once(care: CareServices, edith: str) -> None:
    invite = care.invites.create(edith)
    care.invites.claim("conv-anne", invite.code, "Anne")

    with pytest.raises(InvalidInput) as caught:
        care.invites.claim("conv-stranger", invite.code, "Mallory")
    assert "already been used" in caught.value.message
    assert care.family.acting("conv-stranger") is None


def test_a_code_expires_after_a_day(care: CareServices, edith: str, clock: FakeClock) -> None:
    invite = care.invites.create(edith)
    clock.advance(hours=24, seconds=1)

    with pytest.raises(InvalidInput):
        care.invites.claim("conv-anne", invite.code, "Anne")
    with care.db.reading() as session:
        assert session.scalar(select(FamilyInvite.status)) == "expired"


def test_declining_links_nobody_and_tells_the_relative(care: CareServices, edith: str) -> None:
    request = care.invites.claim("conv-anne", care.invites.create(edith).code, "Anne")

    decision = care.invites.decide(edith, request.request_id, accept=False)

    assert not decision.accepted
    assert care.family.acting("conv-anne") is None
    assert care.family.family(edith).members == []
    assert _told(care, "conv-anne")[-1].entities["family_answer"] == "no"
    with pytest.raises(InvalidTransition):
        care.invites.decide(edith, request.request_id, accept=True)


def test_only_the_senior_who_made_the_code_can_answer_the_request(care: CareServices, edith: str) -> None:
    register(care, "conv-other", name="Otto Brown")
    request = care.invites.claim("conv-anne", care.invites.create(edith).code, "Anne")

    with pytest.raises(NotFound):
        care.invites.decide("conv-other", request.request_id, accept=True)
    with pytest.raises(NotFound):
        care.invites.decide(edith, "abc", accept=True)
    with pytest.raises(NotRegistered):
        care.invites.decide("conv-anne", request.request_id, accept=True)
    assert care.family.acting("conv-anne") is None


def test_a_relative_cannot_invite_and_a_seniors_chat_cannot_claim(care: CareServices, edith: str) -> None:
    register(care, "conv-otto", name="Otto Brown")
    care.invites.decide(edith, care.invites.claim("conv-anne", care.invites.create(edith).code, "Anne").request_id, True)

    with pytest.raises(NotAllowed) as caught:
        care.invites.create("conv-anne")
    assert "Only the person you help" in caught.value.message
    with pytest.raises(NotAllowed):
        care.invites.claim("conv-otto", care.invites.create(edith).code, "Otto")
    with pytest.raises(NotRegistered):
        care.invites.create("conv-nobody")


def test_wrong_codes_are_refused_then_the_chat_is_locked_for_an_hour(
    care: CareServices, edith: str, clock: FakeClock
) -> None:
    good = care.invites.create(edith).code
    for guess in ["AAAAAA", "", "x" * 500, "CCC-CCC", "DDDDDD"][:MAX_WRONG_CODES]:
        with pytest.raises(InvalidInput):
            care.invites.claim("conv-guesser", guess, "G")

    with pytest.raises(NotAllowed) as caught:
        care.invites.claim("conv-guesser", good, "G")
    assert "wait an hour" in caught.value.message
    clock.advance(hours=1, minutes=1)
    assert care.invites.claim("conv-guesser", good, "G").senior_first_name == "Edith"


def test_a_relative_of_one_senior_never_sees_another_seniors_family(care: CareServices, edith: str) -> None:
    register(care, "conv-otto", name="Otto Brown")
    care.invites.decide(edith, care.invites.claim("conv-anne", care.invites.create(edith).code, "Anne").request_id, True)
    care.invites.decide("conv-otto", care.invites.claim("conv-ben", care.invites.create("conv-otto").code, "Ben").request_id, True)

    assert care.family.acting("conv-anne").profile.full_name == "Edith Smith"
    assert [m.name for m in care.family.family("conv-ben").members] == ["Otto Brown"]
    [anne_link] = care.family.family(edith).members
    with pytest.raises(NotFound):
        care.family.remove("conv-otto", anne_link.link_id)
    assert [m.name for m in care.family.family(edith).members] == ["Anne"]


def test_the_senior_removes_a_relative_who_is_told(care: CareServices, edith: str) -> None:
    care.invites.decide(edith, care.invites.claim("conv-anne", care.invites.create(edith).code, "Anne Jones").request_id, True)
    [link] = care.family.family(edith).members

    removed = care.family.remove(edith, str(link.link_id))

    assert removed.name == "Anne Jones"
    assert care.family.acting("conv-anne") is None
    assert care.family.family(edith).members == []
    assert _told(care, "conv-anne")[-1].intent == "EXTERNAL_family_unlinked"
    with care.db.reading() as session:
        actions = list(session.scalars(select(AuditLog.action).order_by(AuditLog.id)))
    assert actions[-4:] == ["family.invite_claimed", "relative.linked", "family.link_accepted", "relative.unlinked"]


def test_already_linked_relative_is_told_so(care: CareServices, edith: str) -> None:
    care.invites.decide(edith, care.invites.claim("conv-anne", care.invites.create(edith).code, "Anne").request_id, True)

    with pytest.raises(NotAllowed) as caught:
        care.invites.claim("conv-anne", care.invites.create(edith).code, "Anne")
    assert "already linked" in caught.value.message


def test_at_most_five_codes_wait_at_once(care: CareServices, edith: str) -> None:
    for _ in range(5):
        care.invites.create(edith)
    with pytest.raises(NotAllowed):
        care.invites.create(edith)


def test_unknown_people_have_no_family(care: CareServices) -> None:
    with pytest.raises(NotRegistered):
        care.family.family("conv-nobody")


def test_withdrawing_consent_ends_codes_links_and_unsent_messages(care: CareServices, edith: str) -> None:
    waiting = care.invites.create(edith)
    request = care.invites.claim("conv-anne", care.invites.create(edith).code, "Anne")
    assert _told(care, edith), "the link request waits in the outbox"

    care.people.withdraw_consent(edith)

    assert _told(care, edith) == []
    with pytest.raises(InvalidInput):
        care.invites.claim("conv-ben", waiting.code, "Ben")
    with pytest.raises(NotRegistered):
        care.invites.decide(edith, request.request_id, accept=True)
    with care.db.reading() as session:
        assert set(session.scalars(select(FamilyInvite.status))) == {"revoked"}
