"""Run the console: in the foreground (``assistant console``) or in a background thread.

:class:`BackgroundServer` lets another process (the care service, tests) serve the console
on its own event loop in a thread, and stop it cleanly.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Optional

from sanic import Sanic

from assistant.care import CareServices
from assistant.care.coordinators.coordinators import CoordinatorService
from assistant.care.core.db import Database
from assistant.console.app import ConsoleDeps, create_app
from assistant.console.security import Signer, load_secret
from assistant.console.transcript import TranscriptSource
from assistant.settings import STATE_DIR, Settings

SECRET_FILE = STATE_DIR / "console-secret"
HOST = "127.0.0.1"


def build_app(settings: Settings, db: Optional[Database] = None, *, name: str = "care_console") -> Sanic:
    """Build the console app from the settings (the database schema must exist)."""
    database = db or Database(settings.database_url)
    signer = Signer(load_secret(settings.console_secret, SECRET_FILE))
    care = CareServices(database, timezone=settings.timezone)
    deps = ConsoleDeps(
        escalations=care.escalations,
        coordinators=CoordinatorService(database),
        signer=signer,
        timezone=settings.timezone,
        care=care,
        transcripts=TranscriptSource(settings.rasa_base_url, settings.rasa_token),
    )
    return create_app(deps, name=name)


def run_console(settings: Settings) -> None:
    """Serve the console on 127.0.0.1 until Ctrl-C."""
    app = build_app(settings)
    app.run(host=HOST, port=settings.console_port, workers=1, access_log=False, motd=False)


class BackgroundServer:
    """Serve a Sanic app on 127.0.0.1 from a thread with its own event loop.

    Args:
        app: The app (each app can be served once).
        port: The port; 0 picks a free one (see :attr:`port` after :meth:`start`).
    """

    def __init__(self, app: Sanic, port: int = 0) -> None:
        self.app = app
        self.port = port
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self._stop: Optional[asyncio.Event] = None
        self._error: Optional[BaseException] = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:5080``."""
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 10.0) -> "BackgroundServer":
        """Start serving and return once the port accepts connections."""
        self._thread = threading.Thread(target=self._main, name=f"{self.app.name}-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError("The console did not start in time.")
        if self._error is not None:
            raise RuntimeError("The console could not start.") from self._error
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread to end."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def _main(self) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as error:  # reported to start()
            self._error = error
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        import socket

        self._stop = asyncio.Event()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((HOST, self.port))
        sock.listen(100)
        self.port = sock.getsockname()[1]
        # ``create_server`` already binds: the returned AsyncioServer was awaited inside it.
        server: Any = await self.app.create_server(
            sock=sock, return_asyncio_server=True, access_log=False
        )
        await server.startup()
        await server.before_start()
        await server.start_serving()
        await server.after_start()
        self._ready.set()
        await self._stop.wait()
        await server.before_stop()
        for connection in list(server.connections):
            connection.close_if_idle()
        await asyncio.sleep(0.6)  # event streams notice ``stopping`` and end
        for connection in list(server.connections):
            if connection.transport is not None:
                connection.transport.abort()
        server.close()
        await server.wait_closed()
        await server.after_stop()
