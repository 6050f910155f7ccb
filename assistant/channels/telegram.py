"""Telegram, on python-telegram-bot: a Rasa input channel and its output channel.

Registered (only when ``TELEGRAM_BOT_TOKEN`` is set, see
:mod:`assistant.channels.telegram_config`) as::

    assistant.channels.telegram.TelegramInput:
      bot_token: ${TELEGRAM_BOT_TOKEN}
      webhook_url: ${TELEGRAM_WEBHOOK_URL}      # optional: webhook mode, else polling
      secret_token: ${TELEGRAM_SECRET_TOKEN}    # optional: checked on every webhook call
      base_url: ${TELEGRAM_API_BASE_URL}        # optional: a local Bot API server
      voice_engine: ${TELEGRAM_VOICE_ENGINE}    # optional: auto (default) | offline | off
      # optional: speech_url (ASSISTANT_SPEECH_URL): the offline speech-to-text server; "off": no listening
      # optional: database_url (ASSISTANT_DATABASE_URL): per-chat settings and buttons live there
      # optional tuning: mode (webhook | polling), voice_language (en), state_dir (.state),
      # retries (3), retry_backoff_seconds (1), chat_rate (1/s), chat_burst (3),
      # overall_rate (30/s), poll_timeout (30 s), read_timeout (10 s)

Rasa mounts the blueprint at ``/webhooks/telegram/``:

* ``POST /webhooks/telegram/webhook``  Telegram's updates; the
  ``X-Telegram-Bot-Api-Secret-Token`` header must match (constant-time), else 403.
* ``GET  /webhooks/telegram/``         ``{"status": "ok", "mode": ...}``.

Modes: with ``webhook_url`` the channel registers the webhook when the server starts
(``setWebhook`` with the secret); without it, it polls ``getUpdates`` in a task inside
Rasa's process (:class:`~assistant.channels.telegram_bot.TelegramPoller`) and feeds the
same handler as the webhook. A poller in another process can feed the webhook instead
(:class:`~assistant.channels.telegram_bot.WebhookRelay`).

Every update is handled once (Telegram retries webhooks: ids are remembered for an hour).
Text and button presses go to Rasa; ``/start``, ``/help``, ``/repeat``, ``/stop``, ``/mydata``
and ``/forget`` become intents (:mod:`~assistant.channels.commands`); ``/voice
on|off`` is handled here. Voice notes, audio files and round videos are downloaded
(``getFile``), heard offline by the speech server (:mod:`assistant.hearing`), echoed
("I heard: ...") and handled as typed text; an unsure guess is asked back ("Did you
say ...?" with Yes/No) unless it shows a sign of an emergency. Stickers, pictures and
files get a kind explanation; a shared contact or venue is offered to fill the phone
or the address, and only on "Yes" does ``/update_profile{...}`` go to Rasa.

Replies are plain text (no parse mode, so nothing needs escaping), split under
Telegram's 4096-character limit at paragraphs and sentences, with Rasa buttons as an
inline keyboard of one large button per row. Sending goes through python-telegram-bot's
:class:`~telegram.ext.AIORateLimiter` (30 messages/s overall, waits out ``RetryAfter``)
plus a per-chat limit (about one message a second after a short burst); network errors
are retried with backoff, and what still fails is logged at ERROR and appended to
``.state/telegram-failures.jsonl``. With voice replies on for a chat, each reply is
sent as text first and then, synthesised in a worker thread, as a voice note.

Helpers: :mod:`~assistant.channels.telegram_format` (splitting, labels, commands),
:mod:`~assistant.channels.telegram_state` (what is remembered),
:mod:`~assistant.channels.telegram_bot` (the Bot API: sending, voice notes, polling).

State kept by the channel (``.state/telegram-chats.json``): per chat, whether voice
replies are on, the voice language, and the payloads behind the buttons we sent
(``callback_data`` holds only a short id: Telegram allows 64 bytes). Run Rasa with one
worker (its default).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hmac
import json
import logging
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Text

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
    User,
)
from telegram.error import TelegramError

from assistant.channels.commands import COMMAND_PAYLOADS
from assistant.channels.telegram_bot import (
    ALLOWED_UPDATES,
    SECRET_HEADER,
    TelegramPoller,
    TelegramSender,
    VoiceReplies,
    build_bot,
)
from assistant.channels.telegram_format import (
    Button,
    Command,
    clean_buttons,
    parse_command,
    short_label,
    split_text,
    spoken_text,
    update_profile_payload,
    utf16_len,
)
from assistant.channels.telegram_state import (
    FAILURE_FILE,
    STATE_FILE,
    ChatStore,
    FailureLog,
    RecentIds,
)
from assistant.care.core.db import Database
from assistant.care.people.chats import ChatSettingsService
from assistant.hearing.client import listener
from assistant.hearing.limits import MAX_BYTES, MAX_SECONDS
from assistant.hearing.verdict import (
    HEARD,
    NO_TITLE,
    SAY_AGAIN_REPLY,
    TOO_LONG_REPLY,
    UNAVAILABLE,
    UNAVAILABLE_REPLY,
    UNSURE,
    YES_TITLE,
    Hearing,
)
from assistant.settings import STATE_DIR, load_settings

logger = logging.getLogger(__name__)

CHANNEL_NAME = "telegram"
MAX_BODY_BYTES = 1_000_000
SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
CHAT_ID_RE = re.compile(r"-?\d{1,20}")

MODE_WEBHOOK = "webhook"
MODE_POLLING = "polling"
MODES = (MODE_WEBHOOK, MODE_POLLING)
VOICE_ENGINES = ("auto", "offline", "off")

MAX_CODE_CHARS = 20
VOICE_ON_WORDS = frozenset({"on", "yes", "1", "true", "start"})
VOICE_OFF_WORDS = frozenset({"off", "no", "0", "false", "stop"})

# callback_data prefixes: a Rasa payload kept by id, or an action of this channel.
CALLBACK_BUTTON = "b:"
CALLBACK_ACTION = "x:"
ACTION_NOT_NOW = "x:no"
ACTION_VOICE_ON = "x:voice-on"
ACTION_VOICE_OFF = "x:voice-off"
ACTION_SAY_AGAIN = "x:say-again"

TALK_TO_PERSON = Button("Talk to a person", "/talk_to_human")

VOICE_ON_REPLY = (
    "Voice replies are on. After each text I will also send it as a voice message. "
    "To stop them, send /voice off."
)
VOICE_OFF_REPLY = "Voice replies are off. To hear my answers again, send /voice on."
VOICE_QUESTION = "Would you like to hear my answers as voice messages too?"
VOICE_UNAVAILABLE_REPLY = "I'm sorry, voice messages are not available here. I will keep writing."
STICKER_REPLY = (
    "Thank you! I can only read words, not stickers. Please tell me in a few words what "
    "you need, or send /help."
)
PICTURE_REPLY = (
    "I'm sorry, I can't look at pictures or files. Please tell me in a few words what "
    "you need. A care coordinator can look at it with you if you like."
)
LISTEN_REPLY = (
    "I'm sorry, I can't listen to voice or audio messages yet. Please type a few words "
    "instead, or send /help."
)
OTHER_REPLY = "I'm sorry, I can only read typed messages. Please tell me in a few words what you need."
LOCATION_REPLY = (
    "Thank you for sharing your location. I can't read a street address from a map, "
    "I'm sorry. Please type it, for example: “my new address is 12 Mill Lane”."
)
CONTACT_OWN_QUESTION = "Shall I save {phone} as your phone number?"
CONTACT_OTHER_QUESTION = "This is the number of {name}: {phone}. Shall I save it as your own phone number?"
ADDRESS_QUESTION = "Shall I save “{address}” as your home address?"
NOT_SAVED_REPLY = "All right, I haven't saved it."
EXPIRED_BUTTON_REPLY = (
    "That button belongs to an earlier message, so I'm not sure what it was for. "
    "Please type your answer, or send /help."
)
ERROR_REPLY = "I'm sorry, something went wrong on my side. Please try again in a moment."
YES_SAVE = "Yes, save it"
NO_THANKS = "No, thank you"

MessageHandler = Callable[[UserMessage], Awaitable[Any]]


def chat_id_of(recipient_id: Any) -> Optional[int]:
    """The Telegram chat id a Rasa sender id stands for, or ``None``."""
    text = str(recipient_id).strip() if recipient_id is not None else ""
    return int(text) if CHAT_ID_RE.fullmatch(text) else None


# ---------------------------------------------------------------------- output


@dataclass(frozen=True)
class Choice:
    """One inline button: its label and its ``callback_data``."""

    title: str
    data: str


class UndeliveredReminder(Exception):
    """A reminder could not be sent to Telegram: Rasa refuses the append, the care service retries."""


class TelegramOutput(OutputChannel):
    """Sends Rasa's replies to a Telegram chat (also proactive ones: reminders, notifications).

    A message that carries a reminder's ``delivery_id`` (appended by the care service) must not be
    dropped: if Telegram refuses it for good, :class:`UndeliveredReminder` is raised, so Rasa does
    not store it and the care service tries again (and tells a coordinator after its last try).
    """

    def __init__(self, channel: "TelegramInput") -> None:
        """Creates an output channel sharing the bot, state and voice of ``channel``."""
        self.channel = channel

    @classmethod
    def name(cls) -> Text:
        """The channel's name, as used by ``output_channel=telegram``."""
        return CHANNEL_NAME

    # -- Rasa's interface

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        """Sends a text, split under Telegram's limit."""
        chat_id = self._chat(recipient_id, "sendMessage", text)
        if chat_id is not None:
            await self.deliver(chat_id, text)

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Sends a text with one large button per row."""
        chat_id = self._chat(recipient_id, "sendMessage", text)
        if chat_id is None:
            return
        cleaned = clean_buttons(buttons)
        choices = self.channel.rasa_choices(chat_id, cleaned)
        delivered = await self.deliver(chat_id, text, choices, spoken_titles=cleaned)
        if not delivered and kwargs.get("delivery_id") is not None:
            raise UndeliveredReminder(f"reminder delivery {kwargs['delivery_id']} did not reach chat {chat_id}")

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        """Quick replies look like buttons here."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        """Sends an image by URL."""
        chat_id = self._chat(recipient_id, "sendPhoto", image)
        if chat_id is None:
            return
        bot = self.channel.bot
        await self.channel.sender.call(
            "sendPhoto", chat_id, lambda: bot.send_photo(chat_id=chat_id, photo=image), text=image
        )

    async def send_attachment(self, recipient_id: Text, attachment: Text, **kwargs: Any) -> None:
        """Sends an attachment as text (a link or a description)."""
        await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        """Sends a ``download`` of custom JSON as a document; else its ``text`` (with its ``buttons``)."""
        if isinstance(json_message, dict) and isinstance(json_message.get("download"), dict):
            await self.send_download(recipient_id, json_message["download"])
            return
        if not isinstance(json_message, dict) or not json_message.get("text"):
            logger.debug("telegram: custom JSON without text for %s is not shown", recipient_id)
            return
        if json_message.get("buttons"):
            await self.send_text_with_buttons(recipient_id, str(json_message["text"]), json_message["buttons"])
        else:
            await self.send_text_message(recipient_id, str(json_message["text"]))

    # -- ours

    async def send_download(self, recipient_id: Text, download: Dict[Text, Any]) -> None:
        """Sends a file the user asked for (``{"filename", "content", "label"}``) as a document."""
        filename = str(download.get("filename") or "")
        content = download.get("content")
        chat_id = self._chat(recipient_id, "sendDocument", filename)
        if chat_id is None or not isinstance(content, str) or not filename:
            return
        bot = self.channel.bot
        data = content.encode("utf-8")
        caption = str(download.get("label") or "")[:1024] or None
        await self.channel.sender.call(
            "sendDocument",
            chat_id,
            lambda: bot.send_document(chat_id=chat_id, document=data, filename=filename, caption=caption),
            text=filename,
        )

    def _chat(self, recipient_id: Any, action: str, text: Optional[str]) -> Optional[int]:
        chat_id = chat_id_of(recipient_id)
        if chat_id is None:
            self.channel.failures.record(
                None, action, ValueError(f"{recipient_id!r} is not a Telegram chat id"), text
            )
        return chat_id

    async def deliver(
        self,
        chat_id: int,
        text: str,
        choices: Sequence[Choice] = (),
        spoken_titles: Sequence[Button] = (),
    ) -> bool:
        """Sends ``text`` (split), the keyboard on its last part, then the voice note if on.

        Returns whether every part reached Telegram (what failed for good is recorded).
        """
        channel = self.channel
        chunks = split_text(text) or (["Please choose:"] if choices else [])
        markup = (
            InlineKeyboardMarkup([[InlineKeyboardButton(c.title, callback_data=c.data)] for c in choices])
            if choices
            else None
        )
        delivered = True
        for index, chunk in enumerate(chunks):
            keyboard = markup if index == len(chunks) - 1 else None
            sent = await channel.sender.call(
                "sendMessage",
                chat_id,
                functools.partial(
                    channel.bot.send_message,
                    chat_id=chat_id,
                    text=chunk,
                    reply_markup=keyboard,
                    parse_mode=None,
                ),
                text=chunk,
            )
            delivered = delivered and sent is not None
        if channel.voice is not None and channel.store.voice_enabled(chat_id):
            titles = list(spoken_titles) or [Button(c.title, c.data) for c in choices]
            channel.voice.schedule(chat_id, spoken_text(text, titles), channel.store.language(chat_id))
        return delivered


# ---------------------------------------------------------------------- input


def _text(value: Any) -> Optional[str]:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _number(credentials: Dict[Text, Any], key: str, default: float, kind: type, minimum: float = 0) -> Any:
    value = credentials.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return kind(default)
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"telegram channel: {key} must be a number, got {value!r}") from None
    if number < minimum:
        raise ValueError(f"telegram channel: {key} must be at least {minimum}, got {value!r}")
    return number


class TelegramInput(InputChannel):
    """Rasa input channel for Telegram on python-telegram-bot (webhook or polling)."""

    def __init__(
        self,
        bot_token: str,
        *,
        secret_token: Optional[str] = None,
        webhook_url: Optional[str] = None,
        mode: Optional[str] = None,
        base_url: Optional[str] = None,
        state_dir: Optional[Path] = STATE_DIR,
        database_url: Optional[str] = None,
        voice_engine: str = "auto",
        speech: Any = None,
        voice_language: str = "en",
        speech_url: Optional[str] = None,
        retries: int = 3,
        retry_backoff_seconds: float = 1.0,
        chat_rate: float = 1.0,
        chat_burst: int = 3,
        overall_rate: float = 30.0,
        poll_timeout: int = 30,
        read_timeout: float = 10.0,
    ) -> None:
        """Creates the channel; see the module docstring for the credentials keys."""
        if not bot_token:
            raise ValueError("telegram channel: bot_token is required (set TELEGRAM_BOT_TOKEN)")
        self.webhook_url = webhook_url
        self.mode = mode or (MODE_WEBHOOK if webhook_url else MODE_POLLING)
        if self.mode not in MODES:
            raise ValueError(f"telegram channel: mode must be one of {MODES}, got {self.mode!r}")
        if secret_token is not None and not SECRET_TOKEN_RE.fullmatch(secret_token):
            raise ValueError(
                "telegram channel: secret_token must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        if secret_token is None and self.mode == MODE_WEBHOOK:
            if not webhook_url:
                raise ValueError(
                    "telegram channel: webhook mode without webhook_url needs a secret_token "
                    "(set TELEGRAM_SECRET_TOKEN), or nothing could ever post to it"
                )
            # We register the webhook ourselves, so a fresh secret works as well as a set one.
            secret_token = secrets.token_urlsafe(32)
        self.secret_token = secret_token
        if voice_engine not in VOICE_ENGINES:
            raise ValueError(f"telegram channel: voice_engine must be one of {VOICE_ENGINES}")
        self.poll_timeout = poll_timeout

        state_dir = Path(state_dir) if state_dir is not None else None
        self.bot, self._requests = build_bot(
            bot_token, base_url, overall_rate=overall_rate, read_timeout=read_timeout
        )
        self.failures = FailureLog(state_dir / FAILURE_FILE if state_dir else None)
        self.store = ChatStore(
            ChatSettingsService(Database(database_url)) if database_url else None,
            default_language=voice_language,
            legacy_path=state_dir / STATE_FILE if state_dir else None,
        )
        self.sender = TelegramSender(
            self.bot,
            self.failures,
            retries=retries,
            backoff_seconds=retry_backoff_seconds,
            chat_rate=chat_rate,
            chat_burst=chat_burst,
        )
        if speech is None and voice_engine != "off":
            from assistant.voice import DEFAULT_CACHE_DIR, Speech

            cache_dir = state_dir / "voice-cache" if state_dir else DEFAULT_CACHE_DIR
            speech = Speech(cache_dir, online=voice_engine == "auto")
        self.voice: Optional[VoiceReplies] = VoiceReplies(speech, self.sender) if speech is not None else None
        self.hearing = listener(speech_url)
        self.recent = RecentIds()
        self.poller: Optional[TelegramPoller] = None
        self._poll_task: Optional["asyncio.Task[None]"] = None
        self._warned_no_secret = False

    @classmethod
    def name(cls) -> Text:
        """The channel's name and URL prefix."""
        return CHANNEL_NAME

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        """Creates the channel from its ``credentials.yml`` keys."""
        credentials = credentials or {}
        token = _text(credentials.get("bot_token"))
        if not token:
            raise ValueError(
                "telegram channel: bot_token is empty; set TELEGRAM_BOT_TOKEN "
                "(the token BotFather gave you)"
            )
        state_dir = _text(credentials.get("state_dir"))
        return cls(
            token,
            secret_token=_text(credentials.get("secret_token")),
            webhook_url=_text(credentials.get("webhook_url")),
            mode=_text(credentials.get("mode")),
            base_url=_text(credentials.get("base_url")),
            state_dir=Path(state_dir) if state_dir else STATE_DIR,
            database_url=_text(credentials.get("database_url")) or load_settings().database_url,
            voice_engine=_text(credentials.get("voice_engine")) or "auto",
            voice_language=_text(credentials.get("voice_language")) or "en",
            speech_url=_text(credentials.get("speech_url")) or load_settings().speech_base_url,
            retries=_number(credentials, "retries", 3, int),
            retry_backoff_seconds=_number(credentials, "retry_backoff_seconds", 1.0, float),
            chat_rate=_number(credentials, "chat_rate", 1.0, float),
            chat_burst=_number(credentials, "chat_burst", 3, int, minimum=1),
            overall_rate=_number(credentials, "overall_rate", 30.0, float, minimum=1),
            poll_timeout=_number(credentials, "poll_timeout", 30, int, minimum=1),
            read_timeout=_number(credentials, "read_timeout", 10.0, float, minimum=0.1),
        )

    def get_output_channel(self) -> OutputChannel:
        """The output for ``trigger_intent?output_channel=telegram`` (or ``latest``)."""
        return TelegramOutput(self)

    # ------------------------------------------------------------------ buttons

    def rasa_choice(self, chat_id: int, button: Button, persist: bool = True) -> Choice:
        """An inline button that sends ``button.payload`` to Rasa when pressed."""
        return self.rasa_choices(chat_id, [button], persist)[0]

    def rasa_choices(self, chat_id: int, buttons: Sequence[Button], persist: bool = True) -> List[Choice]:
        """The inline buttons of one message, kept with one write."""
        keys = self.store.remember_buttons(chat_id, buttons, persist=persist)
        return [Choice(short_label(b.title), CALLBACK_BUTTON + key) for b, key in zip(buttons, keys)]

    async def _say(self, chat_id: int, text: str, choices: Sequence[Choice] = ()) -> None:
        """Sends the channel's own reply (voiced too when voice replies are on)."""
        await TelegramOutput(self).deliver(chat_id, text, choices)

    # ------------------------------------------------------------------ updates

    async def handle_update(self, update: Update, on_new_message: MessageHandler) -> None:
        """Handles one update once: the webhook and the poller both end here."""
        if not self.recent.first_time(update.update_id):
            logger.info("telegram: update %s was already handled; ignoring the repeat", update.update_id)
            return
        chat = update.effective_chat
        try:
            if update.callback_query is not None:
                await self._on_button(update, update.callback_query, on_new_message)
            elif update.message is not None:
                await self._on_message(update, update.message, on_new_message)
            else:
                logger.debug("telegram: ignoring update %s of another kind", update.update_id)
        except Exception:  # noqa: BLE001 - tell the user, keep serving
            logger.exception("telegram: handling update %s failed", update.update_id)
            if chat is not None and chat.type == chat.PRIVATE:
                await self._say(chat.id, ERROR_REPLY)

    async def _to_rasa(
        self,
        update: Update,
        chat_id: int,
        text: str,
        on_new_message: MessageHandler,
        button_title: Optional[str] = None,
        spoken: Optional[Hearing] = None,
    ) -> None:
        user: Optional[User] = update.effective_user
        metadata: Dict[str, Any] = {"telegram": {"update_id": update.update_id}}
        if spoken is not None:
            metadata.update(spoken.metadata())
        if user is not None:
            if user.language_code:
                metadata["telegram"]["language_code"] = user.language_code
            # The name Telegram shows for the sender: a relative using a family code is introduced by it.
            metadata["telegram"]["first_name"] = (user.first_name or "")[:60]
            metadata["telegram"]["last_name"] = (user.last_name or "")[:60]
        if button_title:
            metadata["button_title"] = button_title
        message = UserMessage(
            text,
            self.get_output_channel(),
            str(chat_id),
            input_channel=self.name(),
            message_id=f"telegram-{update.update_id}",
            metadata=metadata,
        )
        try:
            await on_new_message(message)
        except Exception:  # noqa: BLE001
            logger.exception("telegram: the assistant failed on a message from chat %s", chat_id)
            await self._say(chat_id, ERROR_REPLY)

    async def _on_message(self, update: Update, message: Message, on_new_message: MessageHandler) -> None:
        chat = message.chat
        if chat.type != chat.PRIVATE:
            logger.debug("telegram: ignoring a message in %s chat %s", chat.type, chat.id)
            return
        chat_id = chat.id
        if message.text is not None:
            command = parse_command(message.text, self.bot.username if self._knows_username() else None)
            if command is not None:
                await self._on_command(update, chat_id, command, on_new_message)
            elif message.text.strip():
                await self._to_rasa(update, chat_id, message.text, on_new_message)
            return
        if message.contact is not None:
            await self._offer_phone(chat_id, message)
        elif message.venue is not None and message.venue.address:
            address = ", ".join(part for part in (message.venue.title, message.venue.address) if part)
            await self._offer(chat_id, ADDRESS_QUESTION.format(address=address), update_profile_payload(address=address))
        elif message.location is not None:
            await self._say(chat_id, LOCATION_REPLY)
        elif message.sticker is not None or message.animation is not None or message.dice is not None:
            await self._say(chat_id, STICKER_REPLY)
        elif message.voice is not None or message.audio is not None or message.video_note is not None:
            await self._on_voice(update, chat_id, message.voice or message.audio or message.video_note, on_new_message)
        elif message.photo or message.document is not None or message.video is not None:
            await self._say(chat_id, PICTURE_REPLY, [self.rasa_choice(chat_id, TALK_TO_PERSON)])
            if message.caption and message.caption.strip():
                await self._to_rasa(update, chat_id, message.caption, on_new_message)
        else:
            await self._say(chat_id, OTHER_REPLY)

    async def _on_voice(self, update: Update, chat_id: int, media: Any, on_new_message: MessageHandler) -> None:
        """A voice note (or audio file, or round video): heard offline, then handled like typed text."""
        if self.hearing is None:
            await self._say(chat_id, LISTEN_REPLY, [self.rasa_choice(chat_id, TALK_TO_PERSON)])
            return
        if (media.duration or 0) > MAX_SECONDS + 0.5 or (media.file_size or 0) > MAX_BYTES:
            await self._say(chat_id, TOO_LONG_REPLY)
            return
        await self.sender.call(
            "sendChatAction", chat_id, lambda: self.bot.send_chat_action(chat_id, "typing"), limit=False, record=False
        )
        data = await self._download(chat_id, media.file_id)
        hearing = await self.hearing.hear(data) if data is not None else Hearing(UNAVAILABLE, reply=UNAVAILABLE_REPLY)
        del data  # the recording is never kept
        if hearing.kind == HEARD:
            await self._say(chat_id, hearing.reply)
            await self._to_rasa(update, chat_id, hearing.typed, on_new_message, spoken=hearing)
        elif hearing.kind == UNSURE:
            yes = self.rasa_choice(chat_id, Button(YES_TITLE, hearing.typed), persist=False)
            await self._say(chat_id, hearing.reply, [yes, Choice(NO_TITLE, ACTION_SAY_AGAIN)])
        else:
            offer = [self.rasa_choice(chat_id, TALK_TO_PERSON)] if hearing.kind == UNAVAILABLE else []
            await self._say(chat_id, hearing.reply, offer)

    async def _download(self, chat_id: int, file_id: str) -> Optional[bytes]:
        """The bytes of a file the user sent (``getFile``, then the download); None when it fails."""
        file = await self.sender.call("getFile", chat_id, lambda: self.bot.get_file(file_id), limit=False, record=False)
        if file is None or (file.file_size or 0) > MAX_BYTES:
            return None
        try:
            return bytes(await file.download_as_bytearray())
        except (TelegramError, OSError) as error:
            logger.error("telegram: downloading a voice message from chat %s failed: %s", chat_id, error)
            return None

    def _knows_username(self) -> bool:
        try:
            return bool(self.bot.username)
        except RuntimeError:  # the bot was not initialised with getMe
            return False

    async def _on_command(
        self, update: Update, chat_id: int, command: Command, on_new_message: MessageHandler
    ) -> None:
        if command.name in COMMAND_PAYLOADS:
            await self._to_rasa(update, chat_id, COMMAND_PAYLOADS[command.name], on_new_message)
        elif command.name == "voice":
            await self._voice_command(chat_id, command.argument.lower())
        elif command.name == "link":
            await self._to_rasa(update, chat_id, link_payload(command.argument), on_new_message)
        else:
            # Not one of ours: let the assistant read the words ("/cancel" → "cancel").
            words = " ".join(part for part in (command.name.replace("_", " "), command.argument) if part)
            await self._to_rasa(update, chat_id, words, on_new_message)

    async def _voice_command(self, chat_id: int, argument: str) -> None:
        if self.voice is None:
            await self._say(chat_id, VOICE_UNAVAILABLE_REPLY)
        elif argument in VOICE_ON_WORDS:
            self.store.set_voice(chat_id, True)
            await self._say(chat_id, VOICE_ON_REPLY)
        elif argument in VOICE_OFF_WORDS:
            self.store.set_voice(chat_id, False)
            await self._say(chat_id, VOICE_OFF_REPLY)
        else:
            await self._say(
                chat_id,
                VOICE_QUESTION,
                [Choice("Yes, read them to me", ACTION_VOICE_ON), Choice("No, text only", ACTION_VOICE_OFF)],
            )

    async def _offer_phone(self, chat_id: int, message: Message) -> None:
        contact = message.contact
        phone = " ".join((contact.phone_number or "").split())
        if not phone:
            await self._say(chat_id, OTHER_REPLY)
            return
        if not phone.startswith("+") and phone.isdigit():
            phone = "+" + phone  # Telegram sends international numbers without the plus
        sender = message.from_user
        own = contact.user_id is not None and sender is not None and contact.user_id == sender.id
        if own or contact.user_id is None and not contact.first_name:
            question = CONTACT_OWN_QUESTION.format(phone=phone)
        else:
            name = " ".join(part for part in (contact.first_name, contact.last_name) if part) or "someone"
            question = CONTACT_OTHER_QUESTION.format(name=name, phone=phone)
        await self._offer(chat_id, question, update_profile_payload(phone=phone))

    async def _offer(self, chat_id: int, question: str, payload: str) -> None:
        """Asks before saving: "Yes" sends ``payload`` to Rasa, "No" only answers."""
        yes = self.rasa_choice(chat_id, Button(YES_SAVE, payload), persist=False)
        await self._say(chat_id, question, [yes, Choice(NO_THANKS, ACTION_NOT_NOW)])

    async def _on_button(self, update: Update, query: CallbackQuery, on_new_message: MessageHandler) -> None:
        await self.sender.call(
            "answerCallbackQuery",
            None,
            lambda: self.bot.answer_callback_query(query.id),
            limit=False,
            record=False,
        )
        message = query.message
        chat = message.chat if message is not None else None
        if chat is None or chat.type != chat.PRIVATE:
            return
        chat_id = chat.id
        data = query.data or ""
        if data.startswith(CALLBACK_ACTION):
            await self._on_action(chat_id, data, message)
            return
        button = self.store.button(chat_id, data[len(CALLBACK_BUTTON):]) if data.startswith(CALLBACK_BUTTON) else None
        if button is None:
            await self._say(chat_id, EXPIRED_BUTTON_REPLY)
            return
        await self._mark_chosen(chat_id, message, button.title)
        await self._to_rasa(update, chat_id, button.payload, on_new_message, button_title=button.title)

    async def _on_action(self, chat_id: int, data: str, message: Any) -> None:
        if data == ACTION_NOT_NOW:
            await self._mark_chosen(chat_id, message, NO_THANKS)
            await self._say(chat_id, NOT_SAVED_REPLY)
        elif data == ACTION_SAY_AGAIN:
            await self._mark_chosen(chat_id, message, NO_TITLE)
            await self._say(chat_id, SAY_AGAIN_REPLY)
        elif data in (ACTION_VOICE_ON, ACTION_VOICE_OFF):
            on = data == ACTION_VOICE_ON
            await self._mark_chosen(chat_id, message, "Voice on" if on else "Text only")
            await self._voice_command(chat_id, "on" if on else "off")
        else:
            await self._say(chat_id, EXPIRED_BUTTON_REPLY)

    async def _mark_chosen(self, chat_id: int, message: Any, title: str) -> None:
        """Shows the choice under the question and removes its buttons, so they are not pressed twice."""
        if not isinstance(message, Message):
            return
        text = message.text
        if text and utf16_len(text) + utf16_len(title) + 4 <= 4096:
            request = functools.partial(
                self.bot.edit_message_text,
                chat_id=chat_id,
                message_id=message.message_id,
                text=f"{text}\n\n✓ {title}",
                reply_markup=None,
                parse_mode=None,
            )
        else:
            request = functools.partial(
                self.bot.edit_message_reply_markup, chat_id=chat_id, message_id=message.message_id, reply_markup=None
            )
        await self.sender.call("editMessage", chat_id, request, record=False)

    # ------------------------------------------------------------------ webhook

    def _secret_matches(self, request: Request) -> bool:
        if not self.secret_token:
            if not self._warned_no_secret:
                logger.warning(
                    "telegram: webhook call refused: no secret_token is configured (set TELEGRAM_SECRET_TOKEN)"
                )
                self._warned_no_secret = True
            return False
        given = request.headers.get(SECRET_HEADER) or ""
        return hmac.compare_digest(
            given.encode("utf-8", "surrogateescape"), self.secret_token.encode("utf-8")
        )

    async def handle_webhook(self, request: Request, on_new_message: MessageHandler) -> HTTPResponse:
        """Checks the secret, parses the update and handles it; 200 once handled."""
        if not self._secret_matches(request):
            return response.json({"error": "forbidden"}, status=403)
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return response.json({"error": "too large"}, status=413)
        try:
            data = json.loads(body)
        except ValueError:
            return response.json({"error": "the body must be JSON"}, status=400)
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return response.json({"error": "not a Telegram update"}, status=400)
        try:
            update = Update.de_json(data, self.bot)
        except Exception:  # noqa: BLE001 - malformed update
            logger.warning("telegram: cannot parse update %s", data.get("update_id"), exc_info=True)
            return response.json({"error": "not a Telegram update"}, status=400)
        await self.handle_update(update, on_new_message)
        return response.json({"ok": True})

    # ------------------------------------------------------------------ lifecycle

    async def register_webhook(self) -> bool:
        """Tells Telegram where to post updates (``setWebhook`` with our secret)."""
        if not self.webhook_url:
            return False
        try:
            await self.bot.set_webhook(
                url=self.webhook_url,
                secret_token=self.secret_token,
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
            )
        except TelegramError as error:
            logger.error("telegram: setWebhook for %s failed: %s", self.webhook_url, error)
            return False
        logger.info("telegram: webhook registered at %s", self.webhook_url)
        return True

    def start_polling(self, on_new_message: MessageHandler) -> "asyncio.Task[None]":
        """Starts the in-process poller feeding :meth:`handle_update`."""
        if self._poll_task is not None and not self._poll_task.done():
            return self._poll_task
        self.poller = TelegramPoller(
            self.bot,
            functools.partial(self.handle_update, on_new_message=on_new_message),
            timeout=self.poll_timeout,
        )
        self._poll_task = asyncio.get_running_loop().create_task(self.poller.run())
        logger.info("telegram: polling for updates")
        return self._poll_task

    async def start(self, on_new_message: MessageHandler) -> None:
        """Runs when the server starts: registers the webhook or starts polling."""
        if self.mode == MODE_POLLING:
            self.start_polling(on_new_message)
        else:
            await self.register_webhook()

    async def stop(self) -> None:
        """Runs when the server stops: ends polling, finishes voice notes, closes HTTP."""
        if self.poller is not None:
            self.poller.stop()
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._poll_task
            self._poll_task = None
        if self.voice is not None:
            await self.voice.close()
        for request in self._requests:
            with contextlib.suppress(Exception):
                await request.shutdown()

    def blueprint(self, on_new_message: MessageHandler) -> Blueprint:
        """The webhook endpoint, a status endpoint and the start/stop hooks."""
        telegram = Blueprint(f"telegram_{id(self)}")

        @telegram.route("/", methods=["GET"])
        async def status(request: Request) -> HTTPResponse:
            return response.json({"status": "ok", "mode": self.mode})

        @telegram.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            return await self.handle_webhook(request, on_new_message)

        @telegram.listener("after_server_start")
        async def start(*_: Any) -> None:
            await self.start(on_new_message)

        @telegram.listener("before_server_stop")
        async def stop(*_: Any) -> None:
            await self.stop()

        return telegram


def link_payload(argument: str) -> str:
    """``/link K7M-4QP`` as a Rasa payload carrying the code (JSON-escaped); without a code, just the intent."""
    code = "".join(argument.split())[:MAX_CODE_CHARS]
    return f"/link_account{json.dumps({'invite_code': code})}" if code else "/link_account"
