"""The action server, answering only Rasa: ``python -m assistant.action_server``.

rasa-sdk's own server listens on every interface and runs any action for any conversation it is
sent. This one is the same rasa-sdk app (``rasa_sdk.endpoint.create_app`` with our actions) with
two doors locked:

- it listens on ``ASSISTANT_LISTEN_ADDRESS`` (127.0.0.1 unless set otherwise);
- every request except ``GET /health`` must carry ``X-Assistant-Action-Token`` equal to
  ``ASSISTANT_ACTION_TOKEN`` (compared in constant time), or it gets 401 and nothing runs. Rasa
  sends the header from ``endpoints.stack.yml``. Without a token it serves loopback only, and says so.
"""

from __future__ import annotations

import argparse
import hmac
import logging
import sys
from typing import Optional, Sequence

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.security import ACTION_TOKEN_HEADER, is_loopback
from assistant.settings import load_settings

log = logging.getLogger("assistant.action_server")

OPEN_PATHS = frozenset({"/health"})
"""What answers without the token: a liveness check that reveals nothing."""


def token_matches(expected: str, given: Optional[str]) -> bool:
    """Whether ``given`` equals ``expected``, in constant time; an empty expectation admits anyone."""
    if not expected:
        return True
    return given is not None and hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def build_app(token: str, actions_package: str = "assistant.actions") -> Sanic:
    """rasa-sdk's action server app with our actions, refusing requests without ``token``."""
    from rasa_sdk.endpoint import create_app

    # No CORS: a web page in the user's browser has no business calling the action server.
    app = create_app(actions_package, cors_origins=None)

    @app.on_request
    async def require_token(request: Request) -> Optional[HTTPResponse]:
        """Answer 401 before any route runs unless the request carries the token."""
        if request.path in OPEN_PATHS or token_matches(token, request.headers.get(ACTION_TOKEN_HEADER)):
            return None
        log.warning("refused a request to %s without the action token from %s", request.path, request.ip)
        return response.json({"error": "This server only answers the assistant's Rasa server."}, status=401)

    return app


def check_exposure(host: str, token: str) -> Optional[str]:
    """Why the server must not start this way, or None when it may."""
    if not is_loopback(host) and not token:
        return (f"The action server would listen on {host}, beyond this machine, without a secret. "
                "Set ASSISTANT_ACTION_TOKEN (and the same value for Rasa), or listen on 127.0.0.1.")
    return None


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Serve the actions until stopped; refuse an exposed server without a token."""
    settings = load_settings()
    parser = argparse.ArgumentParser(prog="python -m assistant.action_server", description=__doc__)
    parser.add_argument("--host", default=settings.listen_address, help="address to listen on")
    parser.add_argument("--port", type=int, default=settings.action_port)
    parser.add_argument("--actions", default="assistant.actions", help="the package of actions")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = settings.action_token
    refusal = check_exposure(args.host, token)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    if not token:
        log.warning("no ASSISTANT_ACTION_TOKEN: anyone on this machine can run actions")
    app = build_app(token, args.actions)
    log.info("action server on http://%s:%s (token %s)", args.host, args.port, "required" if token else "off")
    app.run(host=args.host, port=args.port, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
