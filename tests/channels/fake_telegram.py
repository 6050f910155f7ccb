"""A fake Telegram Bot API server on 127.0.0.1 for python-telegram-bot's real HTTP client.

Point a bot at it with ``base_url=server.base_url``. It records every call (method,
decoded parameters, uploaded files), answers like Telegram does, serves queued updates
to ``getUpdates``, and can be told to fail: 429 with ``retry_after``, 5xx, or a delay
longer than the client's timeout.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from aiohttp import web

TOKEN = "123456:TEST-token_for-the-fake-server"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Helper", "username": "helper_test_bot"}


@dataclass
class Call:
    """One Bot API request the server received."""

    method: str
    params: Dict[str, Any]
    files: Dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


@dataclass
class Failure:
    """What to answer instead of success, for the next ``times`` calls of a method."""

    status: int
    times: int = 1
    retry_after: Optional[int] = None
    delay: float = 0.0


class FakeTelegram:
    """The fake server; start it with :meth:`start` inside the test's event loop."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: List[Call] = []
        self.failures: Dict[str, List[Failure]] = {}
        self.updates: List[Dict[str, Any]] = []
        self._message_ids = itertools.count(1000)
        self._new_updates = asyncio.Event()
        self._runner: Optional[web.AppRunner] = None
        self.port = 0
        self.stored_files: Dict[str, bytes] = {}
        self.downloads: List[str] = []

    @property
    def base_url(self) -> str:
        """What to pass as the bot's ``base_url`` (the token is appended)."""
        return f"http://127.0.0.1:{self.port}/bot"

    async def start(self) -> "FakeTelegram":
        """Serves on a free loopback port."""
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        """Stops serving."""
        if self._runner is not None:
            await self._runner.cleanup()

    # -- test controls

    def fail(
        self, method: str, status: int, times: int = 1, retry_after: Optional[int] = None, delay: float = 0.0
    ) -> None:
        """Makes the next ``times`` calls of ``method`` fail with ``status``."""
        self.failures.setdefault(method, []).append(Failure(status, times, retry_after, delay))

    def add_file(self, file_id: str, data: bytes) -> None:
        """Makes ``data`` available through ``getFile`` and the file download, as a user's upload is."""
        self.stored_files[file_id] = data

    def queue_update(self, update: Dict[str, Any]) -> None:
        """Makes ``update`` available to ``getUpdates``."""
        self.updates.append(update)
        self._new_updates.set()

    def called(self, *methods: str) -> List[Call]:
        """The calls of the given methods (all calls if none given), in order."""
        return [call for call in self.calls if not methods or call.method in methods]

    def texts(self) -> List[str]:
        """The texts of every sendMessage call, in order."""
        return [call.params["text"] for call in self.called("sendMessage")]

    async def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> List[Call]:
        """Waits until ``method`` was called ``count`` times; returns those calls."""
        deadline = time.monotonic() + timeout
        while len(self.called(method)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{method} was called {len(self.called(method))} times, wanted {count}")
            await asyncio.sleep(0.01)
        return self.called(method)

    # -- serving

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        params, files = await _read_params(request)
        call = Call(method, params, files)

        failures = self.failures.get(method)
        if failures:
            failure = failures[0]
            failure.times -= 1
            if failure.times <= 0:
                failures.pop(0)
            self.calls.append(call)
            if failure.delay:
                await asyncio.sleep(failure.delay)
            if failure.status == 200:
                return await self._answer(call)
            return _error(failure.status, failure.retry_after)

        if method == "getUpdates":
            return await self._get_updates(call)
        self.calls.append(call)
        return await self._answer(call)

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        self.downloads.append(path)
        file_id = path.rsplit("/", 1)[-1].split(".", 1)[0]
        if file_id not in self.stored_files:
            return web.Response(status=404)
        return web.Response(body=self.stored_files[file_id], content_type="application/octet-stream")

    async def _answer(self, call: Call) -> web.Response:
        handler = getattr(self, f"_api_{call.method}", None)
        if handler is None:
            return _ok(True)
        return _ok(handler(call.params))

    async def _get_updates(self, call: Call) -> web.Response:
        self.calls.append(call)
        offset = int(call.params.get("offset") or 0)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        if not self.updates:
            self._new_updates.clear()
            wait = min(float(call.params.get("timeout") or 0), 0.3)
            try:
                await asyncio.wait_for(self._new_updates.wait(), timeout=wait)
            except asyncio.TimeoutError:
                pass
        return _ok(list(self.updates))

    def _message(self, params: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
        chat_id = int(params["chat_id"])
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group", "first_name": "Mary"},
            "from": BOT_USER,
            **extra,
        }

    def _api_getMe(self, params: Dict[str, Any]) -> Any:
        return BOT_USER

    def _api_getFile(self, params: Dict[str, Any]) -> Any:
        file_id = str(params["file_id"])
        data = self.stored_files.get(file_id)
        if data is None:
            raise web.HTTPBadRequest(
                text=json.dumps({"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}),
                content_type="application/json",
            )
        return {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": len(data),
                "file_path": f"voice/{file_id}.oga"}

    def _api_sendMessage(self, params: Dict[str, Any]) -> Any:
        extra = {"text": params["text"]}
        if params.get("reply_markup"):
            extra["reply_markup"] = params["reply_markup"]
        return self._message(params, **extra)

    def _api_sendVoice(self, params: Dict[str, Any]) -> Any:
        return self._message(
            params, voice={"file_id": "voice-1", "file_unique_id": "voice-u1", "duration": 2, "mime_type": "audio/ogg"}
        )

    def _api_sendDocument(self, params: Dict[str, Any]) -> Any:
        return self._message(
            params, document={"file_id": "document-1", "file_unique_id": "document-u1", "file_name": "file"}
        )

    def _api_sendPhoto(self, params: Dict[str, Any]) -> Any:
        return self._message(
            params, photo=[{"file_id": "photo-1", "file_unique_id": "photo-u1", "width": 10, "height": 10}]
        )

    def _api_editMessageText(self, params: Dict[str, Any]) -> Any:
        message = self._message(params, text=params["text"])
        message["message_id"] = int(params["message_id"])
        return message


class FakeTelegramThread:
    """The fake server on its own event loop in a daemon thread, for synchronous code.

    For tests that run a real stack in other processes (``tests/e2e``): start it, point
    ``TELEGRAM_API_BASE_URL`` at :attr:`base_url`, read :attr:`server` calls from the
    test thread, and stop it at the end.
    """

    def __init__(self, token: str = TOKEN) -> None:
        """Creates the server; nothing runs until :meth:`start`."""
        self.server = FakeTelegram(token)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-telegram", daemon=True)

    @property
    def base_url(self) -> str:
        """What to pass as the bot's ``base_url``."""
        return self.server.base_url

    def start(self) -> "FakeTelegramThread":
        """Starts the loop thread and serves on a free loopback port."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self._loop).result(timeout=10)
        return self

    def stop(self) -> None:
        """Stops serving and ends the thread."""
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self.server.stop(), self._loop).result(timeout=10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()

    def calls_to(self, chat_id: int, *methods: str) -> List[Call]:
        """The calls of ``methods`` (all if none) addressed to ``chat_id``, in order."""
        return [
            call
            for call in list(self.server.calls)
            if (not methods or call.method in methods) and str(call.params.get("chat_id")) == str(chat_id)
        ]

    def wait_for_text(self, chat_id: int, needle: str, timeout: float = 20.0, after: int = 0) -> Call:
        """Waits for a ``sendMessage`` to ``chat_id`` (beyond the first ``after``) containing ``needle``."""
        deadline = time.monotonic() + timeout
        while True:
            for call in self.calls_to(chat_id, "sendMessage")[after:]:
                if needle in str(call.params.get("text")):
                    return call
            if time.monotonic() > deadline:
                sent = [c.params.get("text") for c in self.calls_to(chat_id, "sendMessage")]
                raise AssertionError(f"no sendMessage with {needle!r} to {chat_id} within {timeout}s; sent: {sent[-5:]}")
            time.sleep(0.05)


async def _read_params(request: web.Request) -> tuple:
    params: Dict[str, Any] = {}
    files: Dict[str, bytes] = {}
    content_type = request.content_type
    if content_type == "application/json":
        params = await request.json()
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if hasattr(value, "file"):
                with value.file:  # aiohttp spools uploads to a temporary file
                    files[key] = value.file.read()
            else:
                params[key] = value
    for key, value in list(params.items()):
        if isinstance(value, str) and value[:1] in "[{":
            try:
                params[key] = json.loads(value)
            except ValueError:
                pass
    return params, files


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(status: int, retry_after: Optional[int]) -> web.Response:
    descriptions = {
        400: "Bad Request: chat not found",
        403: "Forbidden: bot was blocked by the user",
        429: f"Too Many Requests: retry after {retry_after}",
        500: "Internal Server Error",
        502: "Bad Gateway",
    }
    body: Dict[str, Any] = {"ok": False, "error_code": status, "description": descriptions.get(status, "Error")}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


# ---------------------------------------------------------------------- update builders

_update_ids = itertools.count(50_000)
CHAT_ID = 424242
USER = {"id": CHAT_ID, "is_bot": False, "first_name": "Mary", "language_code": "en"}
CHAT = {"id": CHAT_ID, "type": "private", "first_name": "Mary"}


def next_update_id() -> int:
    """A fresh update id."""
    return next(_update_ids)


def message_update(text: Optional[str] = None, update_id: Optional[int] = None, chat_id: int = CHAT_ID, **fields: Any) -> Dict[str, Any]:
    """A real-shaped ``message`` update with ``text`` or other message fields."""
    message: Dict[str, Any] = {
        "message_id": next_update_id(),
        "date": int(time.time()),
        "chat": {**CHAT, "id": chat_id, "type": "private" if chat_id > 0 else "group"},
        "from": {**USER, "id": abs(chat_id)},
        **fields,
    }
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    return {"update_id": update_id if update_id is not None else next_update_id(), "message": message}


def callback_update(data: str, message: Optional[Dict[str, Any]] = None, chat_id: int = CHAT_ID) -> Dict[str, Any]:
    """A ``callback_query`` update: a button press on ``message``."""
    message = message or {
        "message_id": 77,
        "date": int(time.time()),
        "chat": {**CHAT, "id": chat_id},
        "from": BOT_USER,
        "text": "When would you like it?",
    }
    return {
        "update_id": next_update_id(),
        "callback_query": {
            "id": f"cb-{next_update_id()}",
            "from": USER,
            "chat_instance": "ci-1",
            "data": data,
            "message": message,
        },
    }
