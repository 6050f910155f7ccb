"""Tests for the Telegram channel (``assistant.channels.telegram``).

python-telegram-bot's real HTTP client talks to a fake Bot API server on 127.0.0.1
(:mod:`tests.channels.fake_telegram`). The channel is mounted with Rasa's own
``register`` on Rasa's own HTTP app (``rasa.server.create_app``) whose agent is a fake,
so real Telegram update JSON is posted to ``/webhooks/telegram/webhook`` and
``trigger_intent`` goes through Rasa's code. No model, no network beyond 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, AsyncIterator, Awaitable, Callable, Dict, List, Optional

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage, register
from rasa.core.lock_store import InMemoryLockStore
from rasa.server import _get_output_channel, create_app
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Sanic

from assistant.channels.telegram import (
    ADDRESS_QUESTION,
    CONTACT_OWN_QUESTION,
    ERROR_REPLY,
    EXPIRED_BUTTON_REPLY,
    LISTEN_REPLY,
    LOCATION_REPLY,
    NOT_SAVED_REPLY,
    PICTURE_REPLY,
    STICKER_REPLY,
    VOICE_OFF_REPLY,
    VOICE_ON_REPLY,
    VOICE_QUESTION,
    UndeliveredReminder,
    TelegramInput,
    TelegramOutput,
)
from assistant.channels.telegram_bot import SECRET_HEADER, TelegramPoller, WebhookRelay, build_bot
from assistant.channels.telegram_config import CHANNEL_KEY, credentials_for_rasa, telegram_section
from assistant.channels.telegram_format import (
    Button,
    parse_command,
    short_label,
    split_text,
    spoken_text,
    utf16_len,
)
from assistant.care.core.db import Database
from assistant.care.core.models import ChatSetting
from assistant.care.people.chats import ChatSettingsService
from assistant.channels.telegram_state import ChatStore, RecentIds
from assistant.voice import Speech
from tests.channels.fake_telegram import (
    CHAT_ID,
    TOKEN,
    USER,
    FakeTelegram,
    callback_update,
    message_update,
)

SECRET = "s3cret-token_for_tests"
PROJECT = Path(__file__).resolve().parents[2]
LONG_PAYLOAD = '/order_meal{"meal_time": "tomorrow at 12:00", "meal_choice": "Vegetable soup with bread"}'
MENU_BUTTONS = [
    {"title": "Tomorrow at noon, with a long label that keeps going", "payload": LONG_PAYLOAD},
    {"title": "Not now", "payload": "/deny"},
]
LONG_REPLY = "\n\n".join(
    " ".join(f"Sentence {p}.{s} explains something useful for you." for s in range(60)) for p in range(5)
)


class FakeAgent:
    """Stands in for Rasa's agent behind Rasa's own HTTP app."""

    def __init__(self) -> None:
        self.received: List[UserMessage] = []
        self.lock_store = InMemoryLockStore()
        self.domain = SimpleNamespace(intents=["EXTERNAL_reminder", "greet"])
        self.trackers: Dict[str, DialogueStateTracker] = {}
        self.processor = SimpleNamespace(fetch_tracker_and_update_session=self._tracker)
        self.fail = False

    def is_ready(self) -> bool:
        return True

    async def _tracker(self, conversation_id: str, *_: Any, **__: Any) -> DialogueStateTracker:
        return self.trackers.setdefault(conversation_id, DialogueStateTracker(conversation_id, slots=[]))

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        tracker = await self._tracker(message.sender_id)
        tracker.update(UserUttered(message.text, input_channel=message.input_channel))
        if self.fail:
            raise RuntimeError("the model fell over")
        out = message.output_channel
        text = message.text or ""
        if text == "menu":
            await out.send_response(message.sender_id, {"text": "When would you like it?", "buttons": list(MENU_BUTTONS)})
        elif text == "long":
            await out.send_response(message.sender_id, {"text": LONG_REPLY, "buttons": [{"title": "Done", "payload": "/affirm"}]})
        elif text == "tricky":
            await out.send_response(message.sender_id, {"text": "*bold* _it_ <b>x</b> [a](b)"})
        elif text.startswith("/"):
            await out.send_response(message.sender_id, {"text": "You chose well."})
        else:
            await out.send_response(message.sender_id, {"text": f"You said: {text}"})

    async def trigger_intent(self, intent_name: str, entities: Any, output_channel: Any, tracker: Any) -> None:
        await output_channel.send_response(
            tracker.sender_id,
            {"text": "Time for your tablets.", "buttons": [{"title": "Done", "payload": "/reminder_done"}]},
        )


@dataclass
class Served:
    """A running Rasa app with the Telegram blueprint at ``/webhooks/telegram``."""

    base_url: str
    channel: TelegramInput
    agent: FakeAgent
    fake: FakeTelegram
    session: aiohttp.ClientSession
    server: Any = field(repr=False)

    @property
    def webhook(self) -> str:
        return f"{self.base_url}/webhooks/telegram/webhook"

    async def post(self, update: Any, secret: Optional[str] = SECRET, raw: Optional[bytes] = None) -> aiohttp.ClientResponse:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        data = raw if raw is not None else json.dumps(update).encode()
        response = await self.session.post(self.webhook, data=data, headers=headers)
        await response.read()
        return response

    async def send(self, update: Dict[str, Any]) -> None:
        response = await self.post(update)
        assert response.status == 200, await response.text()

    def texts_to_rasa(self) -> List[Optional[str]]:
        return [m.text for m in self.agent.received]


Start = Callable[..., Awaitable[Served]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram().start()
    yield server
    await server.stop()


def make_channel(fake: FakeTelegram, state_dir: Path, **options: Any) -> TelegramInput:
    """A channel against the fake server, with its chat settings in a care database beside ``state_dir``."""
    database = state_dir.parent / "care.db"
    if not database.exists():
        Database(f"sqlite:///{database}").upgrade()
    settings: Dict[str, Any] = dict(
        secret_token=SECRET,
        mode="webhook",
        base_url=fake.base_url,
        state_dir=state_dir,
        database_url=f"sqlite:///{database}",
        speech=Speech(state_dir / "voice-cache", online=False),
        retry_backoff_seconds=0.01,
        chat_rate=100.0,
        chat_burst=20,
    )
    settings.update(options)
    return TelegramInput(TOKEN, **settings)


@pytest.fixture
async def start(fake: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Start]:
    """Starts Rasa apps with the channel on free loopback ports and stops them afterwards."""
    monkeypatch.setattr(Sanic, "test_mode", True)  # several apps in one process
    running: List[Served] = []

    async def start_app(**options: Any) -> Served:
        agent = FakeAgent()
        channel = make_channel(fake, tmp_path / f"state-{len(running)}", **options)
        app = create_app(agent=agent, cors_origins=None)  # type: ignore[arg-type]
        register([channel], app, route="/webhooks/")  # exactly how `rasa run` mounts it
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        server = await app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        await server.startup()
        await server.before_start()
        await server.after_start()
        served = Served(
            base_url=f"http://127.0.0.1:{port}",
            channel=channel,
            agent=agent,
            fake=fake,
            session=aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)),
            server=server,
        )
        running.append(served)
        return served

    yield start_app

    for served in running:
        await served.session.close()
        await served.server.before_stop()  # the channel stops polling and closes its HTTP clients
        for connection in list(served.server.connections):
            connection.close_if_idle()
        await served.server.close()
        await served.server.after_stop()
    await asyncio.sleep(0.02)


async def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def keyboard(call: Any) -> List[List[Dict[str, Any]]]:
    return call.params["reply_markup"]["inline_keyboard"]


def failures(served: Served) -> List[Dict[str, Any]]:
    path = served.channel.failures.path
    if path is None or not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


# ---------------------------------------------------------------------- formatting


def test_split_text_respects_the_limit_and_sentences() -> None:
    chunks = split_text(LONG_REPLY)
    assert len(chunks) > 1
    assert all(utf16_len(chunk) <= 4000 for chunk in chunks)
    assert all(chunk.endswith(".") for chunk in chunks)  # never cut inside a sentence
    assert " ".join(" ".join(chunks).split()) == " ".join(LONG_REPLY.split())
    assert split_text("Short.") == ["Short."]
    assert split_text("   ") == []
    # Emoji count twice in UTF-16; a single endless word is cut hard.
    assert all(utf16_len(c) <= 10 for c in split_text("😀" * 12, limit=10))
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("One. Two. Three.", limit=9) == ["One. Two.", "Three."]
    assert split_text("Para one.\n\nPara two.", limit=12) == ["Para one.", "Para two."]


def test_labels_commands_and_spoken_text() -> None:
    assert short_label("Yes") == "Yes"
    label = short_label(MENU_BUTTONS[0]["title"])
    assert len(label) <= 40 and label.endswith("…") and not label.endswith(" …")
    assert parse_command("/voice on") == parse_command("/Voice@helper_test_bot   on")
    assert parse_command("/voice@other_bot on", bot_username="helper_test_bot") is None
    assert parse_command("hello /start") is None
    assert parse_command("/link AB12CD").argument == "AB12CD"  # type: ignore[union-attr]
    assert spoken_text("Shall I order it?", [Button("Yes", "/affirm"), Button("No", "/deny")]) == (
        "Shall I order it? You can choose: Yes; No."
    )


def test_recent_ids_are_bounded_and_expire() -> None:
    now = [0.0]
    recent = RecentIds(max_size=3, ttl_seconds=10, clock=lambda: now[0])
    assert recent.first_time(1) and not recent.first_time(1)
    for key in (2, 3, 4):
        assert recent.first_time(key)
    assert len(recent) == 3 and recent.first_time(1)  # 1 was pushed out by size
    now[0] = 11
    assert recent.first_time(4)  # expired


def _chat_settings(tmp_path: Path) -> ChatSettingsService:
    database = Database(f"sqlite:///{tmp_path / 'care.db'}")
    database.upgrade()
    return ChatSettingsService(database)


def test_chat_store_keeps_voice_and_buttons_in_the_database_but_not_private_payloads(tmp_path: Path) -> None:
    settings = _chat_settings(tmp_path)
    store = ChatStore(settings, max_buttons=2)
    store.set_voice(7, True)
    keys = [store.remember_button(7, Button(f"B{n}", f"/p{n}")) for n in range(70)]
    secret = store.remember_button(7, Button("Yes", '/update_profile{"phone": "+4470"}'), persist=False)
    again = ChatStore(settings)  # another process, or after a restart
    assert again.voice_enabled(7) and not again.voice_enabled(8)
    assert again.button(7, keys[0]) is None  # only the newest 64 are kept
    assert again.button(7, keys[-1]) == Button("B69", "/p69") and again.button(7, keys[6]) == Button("B6", "/p6")
    assert again.button(7, secret) is None and store.button(7, secret) is not None
    with settings._db.reading() as session:
        row = session.get(ChatSetting, "7")
        assert row is not None and row.voice_replies and "+4470" not in row.buttons_json
    assert again.language(7) == "en"


def test_a_chat_file_of_an_older_version_moves_into_the_database(tmp_path: Path) -> None:
    legacy = tmp_path / "telegram-chats.json"
    legacy.write_text(json.dumps({"version": 1, "chats": {"7": {"voice": True, "language": "de", "buttons": {"k1": ["Yes", "/affirm"]}}}}))
    store = ChatStore(_chat_settings(tmp_path), legacy_path=legacy)
    assert not legacy.exists()
    assert store.voice_enabled(7) and store.language(7) == "de" and store.button(7, "k1") == Button("Yes", "/affirm")


def test_without_the_database_the_chat_goes_on_from_memory(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = _chat_settings(tmp_path)
    store = ChatStore(settings)
    store.set_voice(7, True)
    settings._db.engine.dispose()
    (tmp_path / "care.db").unlink()
    (tmp_path / "care.db").mkdir()  # the database file is gone and cannot be made again
    store.set_voice(8, True)
    key = store.remember_button(8, Button("Yes", "/affirm"))
    assert store.voice_enabled(8) and store.button(8, key) == Button("Yes", "/affirm")
    assert "kept in memory only" in caplog.text


# ---------------------------------------------------------------------- set-up


def test_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_DATABASE_URL", f"sqlite:///{tmp_path / 'care.db'}")
    assert TelegramInput.name() == "telegram" and TelegramOutput.name() == "telegram"
    polling = TelegramInput.from_credentials({"bot_token": TOKEN, "state_dir": str(tmp_path)})
    assert isinstance(polling, TelegramInput) and polling.mode == "polling" and polling.secret_token is None
    hooked = TelegramInput.from_credentials(
        {"bot_token": TOKEN, "webhook_url": "https://bot.example.org/webhooks/telegram/webhook", "state_dir": str(tmp_path)}
    )
    assert hooked.mode == "webhook" and hooked.secret_token  # a fresh secret for our own setWebhook
    assert isinstance(hooked.get_output_channel(), TelegramOutput)
    with pytest.raises(ValueError, match="TELEGRAM_BOT_TOKEN"):
        TelegramInput.from_credentials({"bot_token": ""})
    with pytest.raises(ValueError, match="secret_token"):
        TelegramInput.from_credentials({"bot_token": TOKEN, "secret_token": "has spaces!"})
    with pytest.raises(ValueError, match="mode"):
        TelegramInput.from_credentials({"bot_token": TOKEN, "mode": "carrier-pigeon"})
    with pytest.raises(ValueError, match="secret_token"):
        TelegramInput.from_credentials({"bot_token": TOKEN, "mode": "webhook"})
    off = TelegramInput.from_credentials({"bot_token": TOKEN, "voice_engine": "off", "state_dir": str(tmp_path),
                                          "database_url": f"sqlite:///{tmp_path / 'care.db'}"})
    assert off.voice is None


def test_credentials_file_only_names_telegram_when_a_token_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasa.shared.exceptions import RasaException
    from rasa.shared.utils.io import read_yaml_file

    source = PROJECT / "credentials.yml"
    target = tmp_path / "credentials.yml"
    assert credentials_for_rasa(source, target, environ={}) == source
    assert not target.exists()
    assert CHANNEL_KEY not in read_yaml_file(source)

    environ = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_SECRET_TOKEN": SECRET, "TELEGRAM_WEBHOOK_URL": " "}
    assert telegram_section(environ) == {"bot_token": "${TELEGRAM_BOT_TOKEN}", "secret_token": "${TELEGRAM_SECRET_TOKEN}"}
    assert credentials_for_rasa(source, target, environ=environ) == target
    assert TOKEN not in target.read_text() and SECRET not in target.read_text()
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", SECRET)
    loaded = read_yaml_file(target)
    assert "rest" in loaded and "assistant.channels.webchat.WebChatInput" in loaded
    assert loaded[CHANNEL_KEY] == {"bot_token": TOKEN, "secret_token": SECRET}
    # Why credentials.yml itself cannot name the channel: Rasa refuses unset variables.
    monkeypatch.delenv("TELEGRAM_SECRET_TOKEN")
    with pytest.raises(RasaException, match="TELEGRAM_SECRET_TOKEN"):
        read_yaml_file(target)


async def test_rasa_routes_trigger_intent_output_to_telegram(fake: FakeTelegram, tmp_path: Path) -> None:
    channel = make_channel(fake, tmp_path)
    request = SimpleNamespace(
        args={"output_channel": "telegram"},
        app=SimpleNamespace(ctx=SimpleNamespace(input_channels=[channel])),
    )
    output = _get_output_channel(request, None)  # type: ignore[arg-type]
    assert isinstance(output, TelegramOutput) and output.channel is channel
    await channel.stop()


# ---------------------------------------------------------------------- webhook


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", SECRET + "x", SECRET[:-1]])
async def test_webhook_refuses_a_wrong_secret(start: Start, secret: Optional[str]) -> None:
    served = await start()
    response = await served.post(message_update("hello"), secret=secret)
    assert response.status == 403
    assert served.agent.received == [] and served.fake.calls == []


async def test_webhook_without_a_configured_secret_refuses_everything(start: Start) -> None:
    served = await start(secret_token=None, mode="polling", poll_timeout=1)
    response = await served.post(message_update("hello"), secret="")
    assert response.status == 403
    assert served.agent.received == []


@pytest.mark.parametrize(
    "raw", [b"{not json", b"[1, 2]", b'{"no_update_id": 1}', b'{"update_id": "7"}']
)
async def test_webhook_refuses_what_is_not_an_update(start: Start, raw: bytes) -> None:
    served = await start()
    response = await served.post(None, raw=raw)
    assert response.status == 400
    assert served.agent.received == []


async def test_text_goes_to_rasa_and_buttons_become_an_inline_keyboard(start: Start) -> None:
    served = await start()
    async with served.session.get(f"{served.base_url}/webhooks/telegram/") as status:
        assert await status.json() == {"status": "ok", "mode": "webhook"}
    update = message_update("menu")
    await served.send(update)

    [message] = served.agent.received
    assert (message.text, message.sender_id, message.input_channel) == ("menu", str(CHAT_ID), "telegram")
    assert message.message_id == f"telegram-{update['update_id']}"
    assert message.metadata["telegram"]["language_code"] == "en"
    assert isinstance(message.output_channel, TelegramOutput)

    [call] = served.fake.called("sendMessage")
    assert call.params["chat_id"] == CHAT_ID or int(call.params["chat_id"]) == CHAT_ID
    assert call.params["text"] == "When would you like it?"
    assert "parse_mode" not in call.params  # plain text: nothing to escape
    rows = keyboard(call)
    assert [len(row) for row in rows] == [1, 1]  # one large button per row
    assert rows[0][0]["text"] == short_label(MENU_BUTTONS[0]["title"])
    assert rows[1][0]["text"] == "Not now"
    for row in rows:
        assert len(row[0]["callback_data"].encode()) <= 64
    assert len(LONG_PAYLOAD.encode()) > 64


async def test_markup_characters_are_sent_as_plain_text(start: Start) -> None:
    served = await start()
    await served.send(message_update("tricky"))
    [call] = served.fake.called("sendMessage")
    assert call.params["text"] == "*bold* _it_ <b>x</b> [a](b)"
    assert "parse_mode" not in call.params and "entities" not in call.params


async def test_a_repeated_update_is_handled_once(start: Start) -> None:
    served = await start()
    update = message_update("hello")
    await served.send(update)
    await served.send(update)  # Telegram retries a webhook it thinks failed
    await asyncio.gather(served.send(message_update("one")), served.send(message_update("two")))
    assert sorted(served.texts_to_rasa()) == ["hello", "one", "two"]
    assert len(served.fake.called("sendMessage")) == 3


async def test_a_button_press_sends_its_payload(start: Start) -> None:
    served = await start()
    await served.send(message_update("menu"))
    [question] = served.fake.called("sendMessage")
    data = keyboard(question)[0][0]["callback_data"]
    shown = {
        "message_id": 1000,
        "date": int(time.time()),
        "chat": {"id": CHAT_ID, "type": "private"},
        "text": "When would you like it?",
    }
    press = callback_update(data, message=shown)
    await served.send(press)

    assert served.texts_to_rasa() == ["menu", LONG_PAYLOAD]
    assert served.agent.received[-1].metadata["button_title"] == MENU_BUTTONS[0]["title"]
    [answer] = served.fake.called("answerCallbackQuery")
    assert answer.params["callback_query_id"] == press["callback_query"]["id"]
    [edit] = served.fake.called("editMessageText")
    assert edit.params["text"] == f"When would you like it?\n\n✓ {MENU_BUTTONS[0]['title']}"
    assert "reply_markup" not in edit.params  # the buttons are gone
    assert served.fake.texts()[-1] == "You chose well."


async def test_buttons_survive_a_restart_of_the_channel(start: Start, fake: FakeTelegram, tmp_path: Path) -> None:
    served = await start()
    await served.send(message_update("menu"))
    data = keyboard(served.fake.called("sendMessage")[0])[1][0]["callback_data"]
    restarted = make_channel(fake, tmp_path / "after-a-restart")
    assert restarted.store.button(CHAT_ID, data[2:]) == Button("Not now", "/deny")
    await restarted.stop()


async def test_an_unknown_button_gets_a_kind_reply(start: Start) -> None:
    served = await start()
    await served.send(callback_update("b:000000000000"))
    await served.send(callback_update("something-else"))
    assert served.agent.received == []
    assert served.fake.texts() == [EXPIRED_BUTTON_REPLY, EXPIRED_BUTTON_REPLY]
    assert len(served.fake.called("answerCallbackQuery")) == 2


@pytest.mark.parametrize(
    "command, payload",
    [
        ("/start", "/greet"),
        ("/help", "/ask_capabilities"),
        ("/repeat", "/repeat"),
        ("/stop", "/stop"),
        ("/start@helper_test_bot", "/greet"),
        ("/cancel my lunch", "cancel my lunch"),
        ("/invite", "/invite_relative"),
        ("/family", "/list_family"),
        ("/mydata", "/my_data"),
        ("/forget", "/forget_me"),
        ("/link k7m-4qp", '/link_account{"invite_code": "k7m-4qp"}'),
        ("/link K7M 4QP", '/link_account{"invite_code": "K7M4QP"}'),
        ('/link "}{/x', '/link_account{"invite_code": "\\"}{/x"}'),
        ("/link", "/link_account"),
    ],
)
async def test_commands_become_intents(start: Start, command: str, payload: str) -> None:
    served = await start()
    await served.send(message_update(command))
    assert served.texts_to_rasa() == [payload]


async def test_a_relative_is_introduced_by_the_name_telegram_shows(start: Start) -> None:
    served = await start()
    await served.send(message_update("/link K7M-4QP"))
    [message] = served.agent.received
    assert message.text == '/link_account{"invite_code": "K7M-4QP"}'
    assert (message.metadata["telegram"]["first_name"], message.metadata["telegram"]["last_name"]) == (
        USER["first_name"], USER.get("last_name", ""))


async def test_the_assistant_failing_gets_an_apology(start: Start) -> None:
    served = await start()
    served.agent.fail = True
    await served.send(message_update("hello"))
    assert served.fake.texts() == [ERROR_REPLY]


async def test_messages_in_groups_are_ignored(start: Start) -> None:
    served = await start()
    await served.send(message_update("hello", chat_id=-100200))
    assert served.agent.received == [] and served.fake.calls == []


# ---------------------------------------------------------------------- other kinds of message


@pytest.mark.parametrize(
    "fields, reply",
    [
        ({"sticker": {"file_id": "s", "file_unique_id": "su", "type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False}}, STICKER_REPLY),
        ({"photo": [{"file_id": "p", "file_unique_id": "pu", "width": 90, "height": 90}]}, PICTURE_REPLY),
        ({"document": {"file_id": "d", "file_unique_id": "du", "file_name": "letter.pdf"}}, PICTURE_REPLY),
        ({"voice": {"file_id": "v", "file_unique_id": "vu", "duration": 3}}, LISTEN_REPLY),
        ({"location": {"latitude": 51.5, "longitude": -0.12}}, LOCATION_REPLY),
    ],
)
async def test_other_messages_get_a_kind_reply(start: Start, fields: Dict[str, Any], reply: str) -> None:
    served = await start()
    await served.send(message_update(**fields))
    assert served.agent.received == []
    assert served.fake.texts() == [reply]


async def test_a_picture_caption_still_reaches_the_assistant(start: Start) -> None:
    served = await start()
    photo = [{"file_id": "p", "file_unique_id": "pu", "width": 90, "height": 90}]
    await served.send(message_update(photo=photo, caption="my heating is broken"))
    assert served.fake.texts() == [PICTURE_REPLY, "You said: my heating is broken"]


async def test_a_shared_contact_is_saved_only_after_yes(start: Start, tmp_path: Path) -> None:
    served = await start()
    contact = {"phone_number": "447700900123", "first_name": "Mary", "user_id": CHAT_ID}
    await served.send(message_update(contact=contact))
    [question] = served.fake.called("sendMessage")
    assert question.params["text"] == CONTACT_OWN_QUESTION.format(phone="+447700900123")
    yes, no = (row[0] for row in keyboard(question))
    assert (yes["text"], no["text"]) == ("Yes, save it", "No, thank you")
    assert served.agent.received == []

    await served.send(callback_update(no["callback_data"]))
    assert served.agent.received == [] and served.fake.texts()[-1] == NOT_SAVED_REPLY
    await served.send(callback_update(yes["callback_data"]))
    assert served.texts_to_rasa() == ['/update_profile{"phone": "+447700900123"}']
    # The phone number offered on a button is never written down: not in the database, not in a file.
    kept = [path for path in tmp_path.rglob("*") if path.is_file() and b"447700900123" in path.read_bytes()]
    assert kept == []


async def test_a_shared_venue_offers_its_address(start: Start) -> None:
    served = await start()
    venue = {
        "location": {"latitude": 51.5, "longitude": -0.12},
        "title": "Home",
        "address": "12 Mill Lane, Riverside",
    }
    await served.send(message_update(venue=venue, location=venue["location"]))
    [question] = served.fake.called("sendMessage")
    assert question.params["text"] == ADDRESS_QUESTION.format(address="Home, 12 Mill Lane, Riverside")
    await served.send(callback_update(keyboard(question)[0][0]["callback_data"]))
    assert served.texts_to_rasa() == ['/update_profile{"address": "Home, 12 Mill Lane, Riverside"}']


# ---------------------------------------------------------------------- sending


async def test_a_long_reply_is_split_with_the_keyboard_on_the_last_part(start: Start) -> None:
    served = await start()
    await served.send(message_update("long"))
    calls = served.fake.called("sendMessage")
    assert len(calls) == len(split_text(LONG_REPLY)) > 1
    assert all(utf16_len(call.params["text"]) <= 4096 for call in calls)
    assert " ".join(" ".join(c.params["text"] for c in calls).split()) == " ".join(LONG_REPLY.split())
    assert all("reply_markup" not in call.params for call in calls[:-1])
    assert keyboard(calls[-1])[0][0]["text"] == "Done"


async def test_a_data_export_is_sent_as_a_document_after_its_text(start: Start) -> None:
    served = await start()
    content = '{"held_about_you": {"senior_profiles": [{"full_name": "Mary Jones"}]}}'
    await served.channel.get_output_channel().send_response("4242", {
        "text": "Here is all of it as one file.",
        "custom": {"download": {"filename": "my-data-2026-12-07.json", "content": content, "label": "Download my data"}},
    })
    [text] = served.fake.called("sendMessage")
    [document] = served.fake.called("sendDocument")
    assert text.params["text"] == "Here is all of it as one file." and document.params["caption"] == "Download my data"
    assert list(document.files.values()) == [content.encode()]
    assert served.fake.calls.index(text) < served.fake.calls.index(document)


async def test_retry_after_is_waited_out_then_sent(start: Start) -> None:
    served = await start()
    served.fake.fail("sendMessage", 429, retry_after=1)
    await served.send(message_update("hello"))
    first, second = served.fake.called("sendMessage")
    assert second.at - first.at >= 1.0
    assert second.params["text"] == "You said: hello"
    assert failures(served) == []


async def test_network_errors_are_retried_with_backoff(start: Start) -> None:
    served = await start(read_timeout=0.3)
    served.fake.fail("sendMessage", 502, times=2)
    served.fake.fail("sendMessage", 200, delay=0.6)  # longer than the read timeout
    await served.send(message_update("hello"))
    calls = served.fake.called("sendMessage")
    assert len(calls) == 4 and calls[-1].params["text"] == "You said: hello"
    assert failures(served) == []


async def test_what_still_fails_is_recorded(start: Start) -> None:
    served = await start(retries=2)
    served.fake.fail("sendMessage", 500, times=3)
    await served.send(message_update("hello"))
    assert len(served.fake.called("sendMessage")) == 3
    served.fake.fail("sendMessage", 403)  # the user blocked the bot: not retried
    await served.send(message_update("again"))
    assert len(served.fake.called("sendMessage")) == 4
    first, second = failures(served)
    assert (first["chat_id"], first["action"], first["characters"]) == (CHAT_ID, "sendMessage", len("You said: hello"))
    assert "hello" not in served.channel.failures.path.read_text()  # type: ignore[union-attr]
    assert "NetworkError" in first["error"] and "Forbidden" in second["error"]
    assert served.channel.failures.count == 2


async def test_a_reminder_telegram_refuses_is_not_dropped_quietly(fake: FakeTelegram, tmp_path: Path) -> None:
    channel = make_channel(fake, tmp_path, retries=1)
    output = channel.get_output_channel()
    reminder = {"text": "It's 08:00. Reminder: pills.", "buttons": [{"title": "Done", "payload": "/reminder_done"}],
                "delivery_id": 41, "reminder_kind": "medication"}
    fake.fail("sendMessage", 500, times=2)
    with pytest.raises(UndeliveredReminder, match="41"):  # Rasa then refuses the append; the care service retries
        await output.send_response(str(CHAT_ID), dict(reminder))

    await output.send_response(str(CHAT_ID), dict(reminder))  # Telegram works again
    assert [c.params["text"] for c in fake.called("sendMessage")][-1] == "It's 08:00. Reminder: pills."
    fake.fail("sendMessage", 500, times=2)
    await output.send_response(str(CHAT_ID), {"text": "Anything else?", "buttons": reminder["buttons"]})  # recorded only
    assert channel.failures.count == 2
    await channel.stop()


async def test_a_bad_recipient_is_recorded(fake: FakeTelegram, tmp_path: Path) -> None:
    channel = make_channel(fake, tmp_path)
    await channel.get_output_channel().send_text_message("not-a-chat", "Hello")
    assert fake.calls == [] and channel.failures.count == 1
    await channel.stop()


async def test_messages_to_one_chat_are_paced(fake: FakeTelegram, tmp_path: Path) -> None:
    channel = make_channel(fake, tmp_path, chat_rate=10.0, chat_burst=2)
    output = channel.get_output_channel()
    for n in range(4):
        await output.send_text_message(str(CHAT_ID), f"Message {n}")
    calls = fake.called("sendMessage")
    assert calls[1].at - calls[0].at < 0.05  # a short burst goes at once
    assert calls[3].at - calls[0].at >= 0.15  # then about chat_rate per second
    await channel.stop()


# ---------------------------------------------------------------------- proactive messages


async def test_trigger_intent_reaches_the_chat(start: Start) -> None:
    served = await start()
    await served.send(message_update("hello"))  # the tracker's latest channel is telegram
    for output_channel in ("telegram", "latest"):
        async with served.session.post(
            f"{served.base_url}/conversations/{CHAT_ID}/trigger_intent?output_channel={output_channel}",
            json={"name": "EXTERNAL_reminder"},
        ) as response:
            assert response.status == 200, await response.text()
            assert "messages" not in await response.json()  # delivered, not collected
    reminders = served.fake.called("sendMessage")[1:]
    assert [c.params["text"] for c in reminders] == ["Time for your tablets."] * 2
    assert keyboard(reminders[0])[0][0]["text"] == "Done"
    await served.send(callback_update(keyboard(reminders[0])[0][0]["callback_data"]))
    assert served.texts_to_rasa()[-1] == "/reminder_done"


# ---------------------------------------------------------------------- voice


async def test_voice_on_sends_the_text_then_a_voice_note(start: Start) -> None:
    served = await start()
    await served.send(message_update("/voice on"))
    await served.fake.wait_for("sendVoice")
    await served.send(message_update("hello"))
    await served.fake.wait_for("sendVoice", 2)
    await served.channel.voice.wait_idle(5)  # type: ignore[union-attr]

    methods = [(c.method, c.params.get("text")) for c in served.fake.called("sendMessage", "sendVoice")]
    assert methods == [
        ("sendMessage", VOICE_ON_REPLY),
        ("sendVoice", None),
        ("sendMessage", "You said: hello"),
        ("sendVoice", None),
    ]
    for call in served.fake.called("sendVoice"):
        assert call.files["voice"].startswith(b"OggS")
    assert served.texts_to_rasa() == ["hello"]  # /voice is handled by the channel
    assert served.channel.store.voice_enabled(CHAT_ID)
    assert served.channel.store.settings is not None and served.channel.store.settings.voice_replies(str(CHAT_ID))

    await served.send(message_update("/voice off"))
    await served.send(message_update("hello again"))
    await served.channel.voice.wait_idle(5)  # type: ignore[union-attr]
    assert len(served.fake.called("sendVoice")) == 2
    assert served.fake.texts()[-2:] == [VOICE_OFF_REPLY, "You said: hello again"]


async def test_voice_without_an_argument_asks_with_buttons(start: Start) -> None:
    served = await start()
    await served.send(message_update("/voice"))
    [question] = served.fake.called("sendMessage")
    assert question.params["text"] == VOICE_QUESTION
    yes = keyboard(question)[0][0]
    await served.send(callback_update(yes["callback_data"]))
    assert served.channel.store.voice_enabled(CHAT_ID)
    await served.fake.wait_for("sendVoice")
    await served.channel.voice.wait_idle(5)  # type: ignore[union-attr]


async def test_the_text_is_not_held_back_by_slow_speech(fake: FakeTelegram, tmp_path: Path) -> None:
    class SlowSpeech:
        def synthesize(self, text: str, language: str) -> Any:
            time.sleep(2.5)
            return SimpleNamespace(audio=b"OggS-fake")

    channel = make_channel(fake, tmp_path, speech=SlowSpeech())
    channel.store.set_voice(CHAT_ID, True)
    started = time.monotonic()
    await channel.get_output_channel().send_text_message(str(CHAT_ID), "Your lunch is on its way.")
    assert time.monotonic() - started < 2.0, "the text waited for the voice note"
    assert fake.texts() == ["Your lunch is on its way."] and fake.called("sendVoice") == []
    await fake.wait_for("sendVoice")
    await channel.stop()


# ---------------------------------------------------------------------- polling


async def test_polling_feeds_the_same_handler(start: Start) -> None:
    served = await start(mode="polling", secret_token=None, poll_timeout=1)
    update, command = message_update("hello from polling"), message_update("/voice off")
    served.fake.queue_update(update)
    served.fake.queue_update(command)
    await served.fake.wait_for("sendMessage", 2)
    assert served.texts_to_rasa() == ["hello from polling"]
    assert served.fake.called("deleteWebhook")  # getUpdates needs no webhook
    # Telegram delivering the same update again (e.g. by webhook) is still handled once.
    served.channel.secret_token = SECRET
    await served.send(update)
    assert served.texts_to_rasa() == ["hello from polling"]
    await wait_until(lambda: served.channel.poller is not None and served.channel.poller.offset == command["update_id"] + 1)


async def test_a_poller_in_another_process_can_feed_the_webhook(start: Start, fake: FakeTelegram) -> None:
    served = await start()
    bot, requests = build_bot(TOKEN, fake.base_url)
    relay = WebhookRelay(served.webhook, SECRET)
    poller = TelegramPoller(bot, relay, timeout=1)
    fake.queue_update(message_update("relayed"))
    fake.queue_update(callback_update("b:000000000000"))
    try:
        assert await poller.poll_once() == 2
    finally:
        await relay.aclose()
        for request in requests:
            await request.shutdown()
    assert served.texts_to_rasa() == ["relayed"]
    assert served.fake.texts() == ["You said: relayed", EXPIRED_BUTTON_REPLY]


async def test_webhook_mode_registers_the_webhook_with_the_secret(start: Start) -> None:
    served = await start(webhook_url="https://bot.example.org/webhooks/telegram/webhook")
    [call] = served.fake.called("setWebhook")
    assert call.params["url"] == "https://bot.example.org/webhooks/telegram/webhook"
    assert call.params["secret_token"] == SECRET
    assert call.params["allowed_updates"] == ["message", "callback_query"]
