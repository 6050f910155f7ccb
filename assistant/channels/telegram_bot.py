"""Talking to the Bot API: the bot with its rate limiter, retries, voice notes, polling.

Built on python-telegram-bot; nothing here knows Rasa. :class:`TelegramSender` wraps
every call (per-chat pace, ``RetryAfter``, backoff on network errors, failures
recorded); :class:`VoiceReplies` sends voice notes after their texts;
:class:`TelegramPoller` long-polls ``getUpdates`` for any handler, e.g. the channel's
own or a :class:`WebhookRelay` posting to the channel's webhook from another process.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import warnings
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    List,
    Optional,
    Sequence,
    Set,
    Tuple,
    TypeVar,
)

from aiolimiter import AsyncLimiter
from telegram import Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from assistant.channels.telegram_format import speakable
from assistant.channels.telegram_state import FailureLog
from assistant.voice import NothingToSay

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
ALLOWED_UPDATES = ["message", "callback_query"]

UpdateHandler = Callable[[Update], Awaitable[Any]]
T = TypeVar("T")




class TelegramSender:
    """Calls the Bot API with a per-chat limit, retries with backoff, and records failures.

    ``RetryAfter`` (429) is waited out by the bot's :class:`AIORateLimiter`; if it still
    comes through, it is waited out here too. ``TimedOut`` and other network errors are
    retried with exponential backoff. ``BadRequest``, ``Forbidden`` (the user blocked
    the bot) and the like are not retried. Whatever fails for good is recorded.
    """

    def __init__(
        self,
        bot: ExtBot,
        failures: FailureLog,
        *,
        retries: int = 3,
        backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 30.0,
        chat_rate: float = 1.0,
        chat_burst: int = 3,
        max_retry_after: float = 60.0,
    ) -> None:
        """Creates a sender; ``chat_rate`` messages/s per chat after a burst of ``chat_burst``."""
        self.bot = bot
        self.failures = failures
        self.retries = retries
        self.backoff_seconds = backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.chat_rate = chat_rate
        self.chat_burst = max(1, chat_burst)
        self.max_retry_after = max_retry_after
        self._limiters: "OrderedDict[int, AsyncLimiter]" = OrderedDict()

    def _limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._limiters.get(chat_id)
        if limiter is None:
            limiter = self._limiters[chat_id] = AsyncLimiter(
                max_rate=self.chat_burst, time_period=self.chat_burst / self.chat_rate
            )
            while len(self._limiters) > 2048:
                self._limiters.popitem(last=False)
        self._limiters.move_to_end(chat_id)
        return limiter

    async def call(
        self,
        action: str,
        chat_id: Optional[int],
        request: Callable[[], Awaitable[T]],
        *,
        text: Optional[str] = None,
        limit: bool = True,
        record: bool = True,
    ) -> Optional[T]:
        """Runs ``request`` (a fresh Bot API call each attempt); ``None`` if it failed for good."""
        attempt = 0
        while True:
            try:
                if limit and chat_id is not None and self.chat_rate > 0:
                    async with self._limiter(chat_id):
                        return await request()
                return await request()
            except RetryAfter as error:
                wait = _retry_after_seconds(error)
                if attempt >= self.retries or wait > self.max_retry_after:
                    return self._failed(action, chat_id, error, text, record)
                logger.warning("telegram: %s to chat %s: flood limit, waiting %.1f s", action, chat_id, wait)
                await asyncio.sleep(wait + 0.1)
            except (BadRequest, Forbidden, InvalidToken, ChatMigrated) as error:
                return self._failed(action, chat_id, error, text, record)
            except NetworkError as error:  # includes TimedOut; BadRequest is caught above
                if attempt >= self.retries:
                    return self._failed(action, chat_id, error, text, record)
                delay = min(self.max_backoff_seconds, self.backoff_seconds * (2**attempt))
                logger.warning(
                    "telegram: %s to chat %s failed (%s); retrying in %.1f s", action, chat_id, error, delay
                )
                await asyncio.sleep(delay)
            except TelegramError as error:
                return self._failed(action, chat_id, error, text, record)
            attempt += 1

    def _failed(
        self, action: str, chat_id: Optional[int], error: BaseException, text: Optional[str], record: bool
    ) -> None:
        if record:
            self.failures.record(chat_id, action, error, text)
        else:
            logger.warning("telegram: %s in chat %s failed: %s", action, chat_id, error)
        return None


def _retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():  # PTB 22 warns that the type becomes a timedelta
        warnings.simplefilter("ignore")
        value = error.retry_after
    return float(value.total_seconds() if hasattr(value, "total_seconds") else value)


class VoiceReplies:
    """Synthesises voice notes in worker threads and sends them after their texts.

    ``schedule`` returns at once: the text has been sent already and never waits for
    audio. Notes of one chat are sent in the order they were scheduled.
    """

    def __init__(self, speech: Any, sender: TelegramSender, max_workers: int = 2) -> None:
        """``speech`` has ``synthesize(text, language)`` returning an object with ``audio``."""
        self.speech = speech
        self.sender = sender
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="voice")
        self._tasks: Set["asyncio.Task[None]"] = set()
        self._tails: Dict[int, "asyncio.Task[None]"] = {}

    def schedule(self, chat_id: int, text: str, language: str) -> Optional["asyncio.Task[None]"]:
        """Starts making and sending the voice note for ``text``; returns its task."""
        if not speakable(text):
            return None
        previous = self._tails.get(chat_id)
        task = asyncio.get_running_loop().create_task(self._run(chat_id, text, language, previous))
        self._tasks.add(task)
        self._tails[chat_id] = task
        task.add_done_callback(functools.partial(self._forget, chat_id))
        return task

    def _forget(self, chat_id: int, task: "asyncio.Task[None]") -> None:
        self._tasks.discard(task)
        if self._tails.get(chat_id) is task:
            del self._tails[chat_id]

    async def _run(
        self, chat_id: int, text: str, language: str, previous: Optional["asyncio.Task[None]"]
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            spoken = await loop.run_in_executor(self._executor, self.speech.synthesize, text, language)
        except NothingToSay:
            return
        except Exception as error:  # noqa: BLE001 - the text went out; record and carry on
            self.sender.failures.record(chat_id, "voice synthesis", error, text)
            return
        finally:
            if previous is not None:
                await asyncio.wait([previous])
        audio = spoken.audio
        await self.sender.call(
            "sendVoice",
            chat_id,
            lambda: self.sender.bot.send_voice(chat_id=chat_id, voice=audio, filename="reply.ogg"),
            text=text,
        )

    async def wait_idle(self, timeout: Optional[float] = None) -> None:
        """Waits until every scheduled note has been sent or has failed."""
        while self._tasks:
            await asyncio.wait_for(asyncio.gather(*list(self._tasks), return_exceptions=True), timeout)

    async def close(self, grace_seconds: float = 5.0) -> None:
        """Lets pending notes finish for a moment, then cancels the rest."""
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=grace_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
        self._executor.shutdown(wait=False, cancel_futures=True)


class TelegramPoller:
    """Long-polls ``getUpdates`` and hands each update to ``handle``.

    Used inside Rasa's process (``handle`` is the channel's own handler) or in another
    process with a :class:`WebhookRelay` as ``handle``. Updates of one chat are handled
    in order; different chats in parallel; the offset moves on once a batch is done.
    """

    def __init__(
        self,
        bot: ExtBot,
        handle: UpdateHandler,
        *,
        timeout: int = 30,
        allowed_updates: Sequence[str] = tuple(ALLOWED_UPDATES),
        delete_webhook: bool = True,
        min_backoff_seconds: float = 1.0,
        max_backoff_seconds: float = 60.0,
    ) -> None:
        """Creates a poller; ``delete_webhook`` removes a webhook first (Telegram needs that)."""
        self.bot = bot
        self.handle = handle
        self.timeout = timeout
        self.allowed_updates = list(allowed_updates)
        self.delete_webhook = delete_webhook
        self.min_backoff_seconds = min_backoff_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.offset: Optional[int] = None
        self._stopping = False

    def stop(self) -> None:
        """Asks :meth:`run` to finish after the current request."""
        self._stopping = True

    async def run(self) -> None:
        """Polls until stopped (or cancelled); errors are logged and retried with backoff."""
        if self.delete_webhook:
            with contextlib.suppress(TelegramError):
                await self.bot.delete_webhook(drop_pending_updates=False)
        delay = self.min_backoff_seconds
        while not self._stopping:
            try:
                await self.poll_once()
                delay = self.min_backoff_seconds
            except asyncio.CancelledError:
                raise
            except InvalidToken as error:
                logger.error("telegram polling stopped: the bot token was refused (%s)", error)
                return
            except Conflict as error:
                logger.error("telegram polling: another process polls this bot or a webhook is set (%s)", error)
                await asyncio.sleep(delay)
                delay = min(self.max_backoff_seconds, delay * 2)
            except TelegramError as error:
                logger.warning("telegram polling failed (%s); retrying in %.0f s", error, delay)
                await asyncio.sleep(delay)
                delay = min(self.max_backoff_seconds, delay * 2)

    async def poll_once(self) -> int:
        """One ``getUpdates`` call and the handling of what it returned; returns the count."""
        updates = await self.bot.get_updates(
            offset=self.offset, timeout=self.timeout, allowed_updates=self.allowed_updates
        )
        if not updates:
            return 0
        by_chat: "OrderedDict[Any, List[Update]]" = OrderedDict()
        for update in updates:
            chat = update.effective_chat
            by_chat.setdefault(chat.id if chat else ("update", update.update_id), []).append(update)
        await asyncio.gather(*(self._handle_in_order(group) for group in by_chat.values()))
        self.offset = max(update.update_id for update in updates) + 1
        return len(updates)

    async def _handle_in_order(self, updates: Iterable[Update]) -> None:
        for update in updates:
            try:
                await self.handle(update)
            except Exception:  # noqa: BLE001 - one bad update must not stop polling
                logger.exception("telegram: handling update %s failed", update.update_id)


class WebhookRelay:
    """Posts updates to the channel's webhook: for a poller running in another process."""

    def __init__(self, webhook_url: str, secret_token: str, timeout: float = 60.0) -> None:
        """Relays to ``webhook_url`` (e.g. ``http://127.0.0.1:5005/webhooks/telegram/webhook``)."""
        import httpx

        self.webhook_url = webhook_url
        self.secret_token = secret_token
        self._client = httpx.AsyncClient(timeout=timeout)

    async def __call__(self, update: Update) -> None:
        """Posts one update; raises if the webhook does not accept it."""
        reply = await self._client.post(
            self.webhook_url,
            content=json.dumps(update.to_dict(), ensure_ascii=False).encode("utf-8"),
            headers={SECRET_HEADER: self.secret_token, "Content-Type": "application/json"},
        )
        reply.raise_for_status()

    async def aclose(self) -> None:
        """Closes the HTTP client."""
        await self._client.aclose()


def _quiet_httpx() -> None:
    """httpx logs every request at INFO, long polls included; keep Rasa's log readable."""
    httpx_logger = logging.getLogger("httpx")
    if httpx_logger.level == logging.NOTSET:
        httpx_logger.setLevel(logging.WARNING)


def file_base_url(base_url: Optional[str]) -> str:
    """Where files are downloaded from: a local Bot API server at ``.../bot`` serves them at ``.../file/bot``."""
    if base_url and base_url.rstrip("/").endswith("/bot"):
        return base_url.rstrip("/")[: -len("bot")] + "file/bot"
    return "https://api.telegram.org/file/bot"


def build_bot(
    token: str,
    base_url: Optional[str] = None,
    *,
    overall_rate: float = 30.0,
    rate_limit_retries: int = 3,
    read_timeout: float = 10.0,
) -> Tuple[ExtBot, List[HTTPXRequest]]:
    """A bot with python-telegram-bot's rate limiter, and its request objects (to close).

    Calls are paced evenly, one every ``1 / overall_rate`` seconds, not in bursts of ``overall_rate``:
    a burst of 30 followed by 30 a second puts up to 60 in one second, which Telegram answers with
    429 and a pause of every call (measured: 904 refusals in a wave of 2,000 reminders).
    """
    _quiet_httpx()
    request = HTTPXRequest(
        connection_pool_size=64,
        read_timeout=read_timeout,
        write_timeout=read_timeout,
        connect_timeout=5.0,
        pool_timeout=5.0,
        media_write_timeout=30.0,
    )
    updates_request = HTTPXRequest(
        connection_pool_size=2, read_timeout=read_timeout, connect_timeout=5.0, pool_timeout=5.0
    )
    bot = ExtBot(
        token,
        base_url=base_url or DEFAULT_API_BASE_URL,
        base_file_url=file_base_url(base_url),
        request=request,
        get_updates_request=updates_request,
        rate_limiter=AIORateLimiter(
            overall_max_rate=1, overall_time_period=1 / overall_rate, max_retries=rate_limit_retries
        ),
    )
    return bot, [request, updates_request]
