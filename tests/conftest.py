"""Shared test set-up: no test may reach the internet."""

from __future__ import annotations

import socket
from typing import Any

import pytest

_real_connect = socket.socket.connect
_LOCAL_PREFIXES = ("127.", "::1", "localhost", "0.0.0.0")


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and not host.startswith(_LOCAL_PREFIXES) and self.family != socket.AF_UNIX:
        raise RuntimeError(f"tests must not reach the network (tried {address!r})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that opens a connection beyond this machine."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
