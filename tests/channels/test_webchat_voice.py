"""The chat page's microphone: recordings heard by the real speech server, and the page in Chromium.

The browser records through Chromium's fake audio capture, which plays a WAV file that espeak-ng
spoke into the microphone, exactly as MediaRecorder would record a person.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any, Dict, List

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
from tests.browser import BROWSER_ARGS, CHROMIUM, fake_microphone_args, require_chromium
from tests.channels.test_webchat import SENDER, ChatServer, StartServer, start_server  # noqa: F401 - fixture
from tests.hearing.clips import Voice, silence, speak, tone

CLEAN = "can someone come and clean on friday morning"
HEARD_CLEAN = "Can someone come and clean on Friday morning?"


async def send_recording(chat: ChatServer, data: bytes, content_type: str = "audio/webm") -> Dict[str, Any]:
    response = await chat.session.post(
        chat.url(f"/voice?sender={SENDER}"), data=data, headers={"Content-Type": content_type}
    )
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_recording_is_echoed_and_answered_like_typed_text(
    start_server: StartServer, speech_url: str, clip_dir: Path  # noqa: F811
) -> None:
    chat = await start_server(speech_url=speech_url)
    body = await send_recording(chat, speak(CLEAN, clip_dir, Voice(), "webm").read_bytes())
    assert body["heard"] == {"kind": "heard", "text": HEARD_CLEAN}
    assert [m.get("text") for m in body["messages"]][:2] == [f"I heard: “{HEARD_CLEAN}”", f"You said: {HEARD_CLEAN}"]
    [message] = chat.agent.received
    assert message.text == HEARD_CLEAN and message.metadata["voice"]["seconds"] > 3


async def test_an_unsure_recording_is_asked_back_with_a_local_no(
    start_server: StartServer, speech_url: str, clip_dir: Path  # noqa: F811
) -> None:
    chat = await start_server(speech_url=speech_url)
    body = await send_recording(chat, speak("glorp fimble snark wuzzle", clip_dir, Voice(), "webm").read_bytes())
    [question] = body["messages"]
    assert body["heard"]["kind"] == "unsure" and question["text"].startswith("I'm not sure I heard you right.")
    yes, no = question["buttons"]
    assert (yes["title"], yes["payload"]) == (YES_TITLE, body["heard"]["text"])
    assert no == {"title": NO_TITLE, "reply": SAY_AGAIN_REPLY}
    assert chat.agent.received == []


async def test_bad_recordings_get_kind_answers_and_reach_nobody(
    start_server: StartServer, speech_url: str, clip_dir: Path  # noqa: F811
) -> None:
    chat = await start_server(speech_url=speech_url)
    cases = [
        (b"", NOTHING_REPLY),
        (silence(clip_dir, 2, "webm").read_bytes(), NOTHING_REPLY),
        (b"<html>not a recording</html>" * 10, NOT_AUDIO_REPLY),
        (tone(clip_dir, 75, "webm").read_bytes(), TOO_LONG_REPLY),
        (bytes(6 * 1024 * 1024), TOO_LONG_REPLY),  # larger than any minute of speech
    ]
    for data, reply in cases:
        body = await send_recording(chat, data)
        assert [m["text"] for m in body["messages"]] == [reply]
    assert chat.agent.received == []
    response = await chat.session.post(chat.url("/voice?sender=no"), data=b"x")
    assert response.status == 400 and "sender" in (await response.json())["error"]


async def test_without_the_speech_server_the_page_offers_a_person(start_server: StartServer, clip_dir: Path) -> None:  # noqa: F811
    chat = await start_server(speech_url=f"http://127.0.0.1:{free_port()}")
    body = await send_recording(chat, speak(CLEAN, clip_dir, Voice(), "webm").read_bytes())
    assert body["messages"] == [
        {"text": UNAVAILABLE_REPLY, "buttons": [{"title": "Talk to a person", "payload": "/talk_to_human"}]}
    ]


def microphone_file(clip_dir: Path, text: str) -> Path:
    """A 48 kHz WAV of ``text`` with a second of quiet after it, for Chromium's fake microphone."""
    spoken = speak(text, clip_dir, Voice(), "wav")
    target = clip_dir / f"mic-{spoken.stem}.wav"
    if not target.exists():
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-i", str(spoken), "-af", "apad=pad_dur=1.5",
             "-ar", "48000", "-ac", "1", str(target)],
            check=True,
        )
    return target


async def test_speaking_into_the_page_at_phone_width(
    start_server: StartServer, speech_url: str, clip_dir: Path  # noqa: F811
) -> None:
    require_chromium()
    from playwright.async_api import async_playwright, expect

    chat = await start_server(speech_url=speech_url)
    microphone = microphone_file(clip_dir, CLEAN)
    page_errors: List[str] = []
    args = BROWSER_ARGS + fake_microphone_args(microphone)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            context = await browser.new_context(viewport={"width": 390, "height": 844}, permissions=["microphone"])
            page = await context.new_page()
            page.set_default_timeout(15_000)
            page.on("pageerror", lambda error: page_errors.append(str(error)))
            await page.goto(chat.url(f"/?sender={SENDER}"))
            log = page.locator("#log")
            mic = page.locator("#mic")
            await expect(mic).to_be_visible()
            box = await mic.bounding_box()
            assert box is not None and box["height"] >= 56 and box["width"] >= 300  # large, the width of a phone

            # Start, then cancel: nothing is sent.
            await mic.click()
            panel = page.locator("#recording")
            await expect(panel).to_be_visible()
            await expect(panel.locator(".rec-state")).to_contain_text("Recording… speak now")
            for selector in ("#rec-send", "#rec-cancel"):
                button = await page.locator(selector).bounding_box()
                assert button is not None and button["height"] >= 56 and button["x"] + button["width"] <= 390
            await page.click("#rec-cancel")
            await expect(panel).to_be_hidden()
            await expect(mic).to_be_visible()
            assert chat.agent.received == []

            # Speak, then send: the words are echoed and answered.
            await mic.click()
            await expect(panel).to_be_visible()
            await page.wait_for_timeout(5000)  # the sentence takes about 3.5 s to say
            await expect(page.locator("#rec-time")).not_to_have_text("0:00")
            await page.click("#rec-send")
            await expect(log.locator(".msg.user").last).to_have_text("🎤 Voice message")
            await expect(log.locator(".msg.bot").nth(1)).to_have_text(f"I heard: “{HEARD_CLEAN}”")
            await expect(log.locator(".msg.bot").nth(2)).to_have_text(f"You said: {HEARD_CLEAN}")
            assert [m.text for m in chat.agent.received] == [HEARD_CLEAN]
            await expect(mic).to_be_visible()
            await expect(mic).to_be_enabled()
        finally:
            await browser.close()
    assert page_errors == []


async def test_a_page_without_permission_for_the_microphone_says_so(
    start_server: StartServer, speech_url: str  # noqa: F811
) -> None:
    require_chromium()
    from playwright.async_api import async_playwright, expect

    chat = await start_server(speech_url=speech_url)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 900, "height": 1000})
            page.set_default_timeout(10_000)
            await page.goto(chat.url(f"/?sender={SENDER}"))
            await page.click("#mic")
            await expect(page.locator("#log .msg.bot").last).to_have_text(
                "I can't use the microphone. Please allow it in your browser, or type your message."
            )
            await expect(page.locator("#recording")).to_be_hidden()
        finally:
            await browser.close()


async def test_no_microphone_when_listening_is_off(start_server: StartServer) -> None:  # noqa: F811
    require_chromium()
    from playwright.async_api import async_playwright, expect

    chat = await start_server(speech_url="off")
    response = await chat.session.get(chat.url("/voice"))
    assert await response.json() == {"available": False}
    response = await chat.session.post(chat.url(f"/voice?sender={SENDER}"), data=b"audio")
    assert (await response.json())["messages"][0]["text"] == UNAVAILABLE_REPLY
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(chat.url(f"/?sender={SENDER}"))
            await expect(page.locator("#text")).to_be_focused()
            await page.wait_for_timeout(300)
            await expect(page.locator("#mic")).to_be_hidden()
        finally:
            await browser.close()
