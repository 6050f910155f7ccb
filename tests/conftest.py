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


@pytest.fixture(scope="session")
def speech_url(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The real offline speech server (its own virtualenv), started once for the session."""
    from tests.hearing.clips import speech_server

    log = tmp_path_factory.mktemp("speech") / "speech.log"
    with speech_server(log) as url:
        yield url


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Where spoken test clips are cached for the session."""
    return tmp_path_factory.mktemp("clips")
