"""The speech server: a small HTTP service on loopback that turns audio into words.

Runs in the speech virtualenv (``.venv-speech/bin/python -m assistant.hearing.server``), started and
supervised by ``assistant run``. One request at a time reaches the model; others wait their turn.

* ``GET  /health``      ``{"status": "ok", "model": "tiny.en"}`` once the model is loaded
* ``POST /transcribe``  the audio file as the body (any content type) → 200 with the transcript
  (``text``, ``avg_logprob``, ``no_speech_prob``, ``seconds``, ``elapsed``), or 400/413/422 with
  ``{"error": reason}`` (``empty``, ``too_big``, ``too_long``, ``not_audio``)

``python -m assistant.hearing.server --file FILE`` prints one file's transcript as JSON and exits
(what ``assistant transcribe`` runs). Audio lives only in memory and is dropped after each request.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

from assistant.hearing.engine import VOCABULARY, Engine, Unreadable
from assistant.hearing.limits import EMPTY, MAX_BYTES, TOO_BIG, TOO_LONG

log = logging.getLogger("assistant.hearing")

STATUS_FOR = {EMPTY: HTTPStatus.BAD_REQUEST, TOO_BIG: HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
              TOO_LONG: HTTPStatus.REQUEST_ENTITY_TOO_LARGE}
"""HTTP status per reason a file is refused (the rest: 422)."""


class SpeechHandler(BaseHTTPRequestHandler):
    """Answers ``/health`` and ``/transcribe`` with JSON."""

    server: "SpeechServer"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        """Health check."""
        if self.path.split("?", 1)[0] == "/health":
            self._reply(HTTPStatus.OK, {"status": "ok", "model": self.server.engine.path.name})
        else:
            self._reply(HTTPStatus.NOT_FOUND, {"error": "not_found"})

    def do_POST(self) -> None:  # noqa: N802
        """One transcription."""
        if self.path.split("?", 1)[0] != "/transcribe":
            self._reply(HTTPStatus.NOT_FOUND, {"error": "not_found"})
            return
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if length < 0:
            self._reply(HTTPStatus.LENGTH_REQUIRED, {"error": "length_required"}, close=True)
            return
        if length > MAX_BYTES:
            self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": TOO_BIG}, close=True)
            return
        data = self.rfile.read(length) if length else b""
        try:
            transcript = self.server.engine.transcribe(data)
        except Unreadable as error:
            self._reply(STATUS_FOR.get(error.reason, HTTPStatus.UNPROCESSABLE_ENTITY), {"error": error.reason})
            return
        except Exception:  # noqa: BLE001 - one bad file never stops the server
            log.exception("speech: transcription failed")
            self._reply(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": "failed"})
            return
        finally:
            del data
        self._reply(HTTPStatus.OK, transcript.as_dict())

    def _reply(self, status: HTTPStatus, body: dict[str, Any], close: bool = False) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the standard library's name
        """Request lines go to the debug log, not stderr."""
        log.debug("speech: " + format, *args)


class SpeechServer(ThreadingHTTPServer):
    """The HTTP server holding one :class:`Engine`."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], engine: Engine) -> None:
        super().__init__(address, SpeechHandler)
        self.engine = engine


def main(argv: Optional[list[str]] = None) -> int:
    """Serves on ``--host``/``--port``, or transcribes ``--file`` once."""
    parser = argparse.ArgumentParser(prog="assistant.hearing.server", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5058)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads for the model")
    parser.add_argument("--file", type=Path, help="transcribe this file, print JSON and exit")
    parser.add_argument("--no-prompt", action="store_true", help="read clips without the vocabulary prompt")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    engine = Engine(threads=args.threads, prompt=None if args.no_prompt else VOCABULARY)
    if args.file is not None:
        try:
            result: dict[str, Any] = engine.transcribe(args.file.read_bytes()).as_dict()
        except Unreadable as error:
            result = {"error": error.reason}
        except OSError as error:
            result = {"error": "unreadable_file", "detail": error.strerror or str(error)}
        print(json.dumps(result))
        return 0 if "error" not in result else 2
    server = SpeechServer((args.host, args.port), engine)
    log.info("speech: listening on http://%s:%s (model %s)", args.host, args.port, engine.path.name)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
