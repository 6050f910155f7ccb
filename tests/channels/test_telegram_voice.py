"""Voice notes on Telegram: downloaded through the fake Bot API, heard by the real speech server.

The channel runs on Rasa's own HTTP app with a fake agent (see ``test_telegram.py``); the speech
server is the real one in its own virtualenv, hearing clips spoken by espeak-ng.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict

import pytest

from assistant.channels.telegram import LISTEN_REPLY
from assistant.hearing.verdict import (
    NO_TITLE,
    NOT_AUDIO_REPLY,
    NOTHING_REPLY,
    SAY_AGAIN_REPLY,
    TOO_LONG_REPLY,
    UNAVAILABLE_REPLY,
    YES_TITLE,
)
from assistant.stack import free_port
from tests.channels.fake_telegram import callback_update, message_update
from tests.channels.test_telegram import Start, fake, keyboard, start  # noqa: F401 - fixtures
from tests.hearing.clips import Voice, silence, speak

FALL = "I have fallen and I cannot get up"
CLEAN = "can someone come and clean on friday morning"
GIBBERISH = "glorp fimble snark wuzzle"
"""Words the model is unsure of (average log-probability about -0.9): the assistant asks back."""


def voice_note(served: Any, clip: Path, file_id: str, duration: int = 3) -> Dict[str, Any]:
    """A voice-note update whose file the fake server holds."""
    data = clip.read_bytes()
    served.fake.add_file(file_id, data)
    voice = {"file_id": file_id, "file_unique_id": f"u{file_id}", "duration": duration,
             "mime_type": "audio/ogg", "file_size": len(data)}
    return message_update(voice=voice)


async def test_a_voice_note_is_echoed_and_handled_as_typed_text(start: Start, speech_url: str, clip_dir: Path) -> None:
    served = await start(speech_url=speech_url)
    await served.send(voice_note(served, speak(CLEAN, clip_dir), "clean-1"))
    assert served.fake.downloads == ["voice/clean-1.oga"]
    assert served.fake.texts() == [
        "I heard: “Can someone come and clean on Friday morning?”",
        "You said: Can someone come and clean on Friday morning?",
    ]
    [message] = served.agent.received
    assert message.metadata["voice"]["seconds"] > 3
    assert served.fake.called("sendChatAction")[0].params["action"] == "typing"


async def test_a_fall_said_aloud_reaches_the_assistant_even_from_a_noisy_room(
    start: Start, speech_url: str, clip_dir: Path
) -> None:
    served = await start(speech_url=speech_url)
    await served.send(voice_note(served, speak(FALL, clip_dir, Voice("en-us", 130, 40, noise=0.03)), "fall-1"))
    [text] = served.texts_to_rasa()
    assert "cannot get up" in text.lower()


async def test_an_unsure_guess_is_asked_back_and_acted_on_only_after_yes(
    start: Start, speech_url: str, clip_dir: Path
) -> None:
    served = await start(speech_url=speech_url)
    await served.send(voice_note(served, speak(GIBBERISH, clip_dir), "odd-1"))
    [question] = served.fake.called("sendMessage")
    assert question.params["text"].startswith("I'm not sure I heard you right. Did you say: “")
    yes, no = [row[0] for row in keyboard(question)]
    assert (yes["text"], no["text"]) == (YES_TITLE, NO_TITLE)
    assert served.agent.received == []

    await served.send(callback_update(no["callback_data"]))
    assert served.fake.texts()[-1] == SAY_AGAIN_REPLY and served.agent.received == []

    await served.send(callback_update(yes["callback_data"]))
    [message] = served.agent.received
    heard = question.params["text"].split("“", 1)[1].rsplit("”", 1)[0]
    assert message.text == heard and message.metadata["button_title"] == YES_TITLE


async def test_silence_a_broken_file_and_a_long_note_get_kind_answers(
    start: Start, speech_url: str, clip_dir: Path
) -> None:
    served = await start(speech_url=speech_url)
    await served.send(voice_note(served, silence(clip_dir, 3), "quiet-1"))
    broken = clip_dir / "broken.ogg"
    broken.write_bytes(b"OggS" + bytes(5000))
    await served.send(voice_note(served, broken, "broken-1"))
    await served.send(voice_note(served, speak(CLEAN, clip_dir), "long-1", duration=95))
    assert served.fake.texts() == [NOTHING_REPLY, NOT_AUDIO_REPLY, TOO_LONG_REPLY]
    assert "voice/long-1.oga" not in served.fake.downloads  # refused from its length, never downloaded
    assert served.agent.received == []


async def test_without_the_speech_server_the_user_is_asked_to_type(
    start: Start, clip_dir: Path, speech_url: str
) -> None:
    served = await start(speech_url=f"http://127.0.0.1:{free_port()}")  # nobody listens there
    await served.send(voice_note(served, speak(CLEAN, clip_dir), "down-1"))
    [reply] = served.fake.called("sendMessage")
    assert reply.params["text"] == UNAVAILABLE_REPLY
    assert [row[0]["text"] for row in keyboard(reply)] == ["Talk to a person"]
    served.fake.fail("getFile", 400)
    up = await start(speech_url=speech_url)
    await up.send(voice_note(up, speak(CLEAN, clip_dir), "gone-1"))
    assert up.fake.texts()[-1] == UNAVAILABLE_REPLY
    assert up.agent.received == []


async def test_listening_switched_off_keeps_the_old_answer(start: Start) -> None:
    served = await start(speech_url="off")
    await served.send(message_update(voice={"file_id": "v", "file_unique_id": "vu", "duration": 3}))
    assert served.fake.texts() == [LISTEN_REPLY]


@pytest.mark.parametrize("field", ["audio", "video_note"])
async def test_audio_files_and_round_videos_are_heard_too(
    start: Start, speech_url: str, clip_dir: Path, field: str
) -> None:
    served = await start(speech_url=speech_url)
    clip = speak(CLEAN, clip_dir, Voice(), "mp3" if field == "audio" else "webm")
    served.fake.add_file(f"{field}-1", clip.read_bytes())
    media: Dict[str, Any] = {"file_id": f"{field}-1", "file_unique_id": "u", "duration": 4}
    if field == "video_note":
        media["length"] = 240
    await served.send(message_update(**{field: media}))
    assert served.texts_to_rasa() == ["Can someone come and clean on Friday morning?"]
