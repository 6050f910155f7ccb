"""Signed cookies, CSRF tokens and the console's secret key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any, Optional

from assistant.security import load_or_create_secret


def load_secret(configured: str, path: Path) -> bytes:
    """Return the signing key: ``configured`` when set, else the one stored at ``path``.

    A missing file is created with a new random key, readable by the owner only.
    """
    return load_or_create_secret(configured, path).encode("utf-8")


class Signer:
    """Sign small JSON payloads with HMAC-SHA256 and check them (with an expiry).

    Args:
        key: The secret key.
        clock: Returns the current Unix time (tests move it).
    """

    def __init__(self, key: bytes, clock: Any = time.time) -> None:
        if len(key) < 16:
            raise ValueError("The console secret must have at least 16 characters.")
        self._key = key
        self._clock = clock

    def _mac(self, purpose: str, body: bytes) -> str:
        digest = hmac.new(self._key, purpose.encode() + b"|" + body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, purpose: str, payload: dict[str, Any], max_age: int) -> str:
        """Return ``payload`` as a signed token valid for ``max_age`` seconds."""
        data = dict(payload, exp=int(self._clock()) + max_age)
        body = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=")
        return f"{body.decode()}.{self._mac(purpose, body)}"

    def unsign(self, purpose: str, token: Optional[str]) -> Optional[dict[str, Any]]:
        """Return the payload of a valid, unexpired token signed for ``purpose``, else None."""
        if not token or token.count(".") != 1 or len(token) > 4096:
            return None
        body, mac = token.split(".")
        if not hmac.compare_digest(mac, self._mac(purpose, body.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("exp"), int) or data["exp"] < self._clock():
            return None
        return data

    def token_for(self, purpose: str, value: str) -> str:
        """Return a token bound to ``value`` (e.g. the login form's CSRF token for its nonce)."""
        return self._mac(purpose, value.encode())


def same(a: Optional[str], b: Optional[str]) -> bool:
    """Compare two secrets in constant time; missing values never match."""
    return bool(a) and bool(b) and hmac.compare_digest(str(a), str(b))
