"""Each chat's own settings in the care database: spoken replies, their language, recent buttons."""

from __future__ import annotations

from assistant.care import CareServices
from assistant.care.people.chats import MAX_BUTTONS


def test_settings_are_per_chat_and_default_to_off(care: CareServices) -> None:
    chats = care.chats
    assert not chats.voice_replies("4242") and chats.language("4242") is None
    chats.set_voice_replies("4242", True)
    chats.set_language("4242", "de")
    assert chats.voice_replies("4242") and chats.language("4242") == "de"
    assert not chats.voice_replies("4343") and chats.language("4343") is None
    chats.set_voice_replies("4242", False)
    assert not chats.voice_replies("4242") and chats.language("4242") == "de"


def test_the_newest_buttons_are_kept_and_a_pressed_old_one_is_unknown(care: CareServices) -> None:
    chats = care.chats
    for n in range(MAX_BUTTONS + 5):
        chats.remember_button("4242", f"k{n}", f"Option {n}", f"/choose{{\"n\": {n}}}")
    assert chats.button("4242", "k0") is None and chats.button("4242", "k4") is None
    assert chats.button("4242", "k5") == ("Option 5", '/choose{"n": 5}')
    chats.remember_button("4242", "k5", "Option 5", '/choose{"n": 5}')  # shown again: now the newest
    chats.remember_button("4242", "new", "New", "/affirm")
    assert chats.button("4242", "k5") is not None and chats.button("4242", "k6") is None
    assert chats.button("4343", "k5") is None
