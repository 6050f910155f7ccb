"""Locks on the stack's doors shared by its processes: secrets, listening addresses, file modes."""

from __future__ import annotations

import ipaddress
import os
import secrets
import stat
from pathlib import Path
from typing import Final

ACTION_TOKEN_HEADER: Final = "X-Assistant-Action-Token"
"""The header Rasa sends to the action server (endpoints.stack.yml) and the action server checks."""

PRIVATE_DIR_MODE: Final = 0o700
PRIVATE_FILE_MODE: Final = 0o600


def is_loopback(host: str) -> bool:
    """Whether listening on ``host`` keeps a server reachable from this machine only."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name, or "0.0.0.0"-like wildcards are parsed above; assume exposed


def load_or_create_secret(configured: str, path: Path) -> str:
    """Return ``configured`` when set, else the secret stored at ``path``.

    A missing or empty file is created with a new random 256-bit secret, readable by the owner only.
    """
    if configured:
        return configured
    if path.exists():
        stored = path.read_text(encoding="utf-8").strip()
        if stored:
            os.chmod(path, PRIVATE_FILE_MODE)
            return stored
    make_private_dir(path.parent)
    value = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    os.chmod(path, PRIVATE_FILE_MODE)
    return value


def make_private_dir(path: Path) -> None:
    """Create ``path`` (and its parents) if needed; ``path`` itself becomes owner-only (0700)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, PRIVATE_DIR_MODE)


def make_private_tree(path: Path) -> None:
    """Make ``path`` and everything in it owner-only: directories 0700, files 0600.

    Databases, secrets, logs and per-chat state live in the state directory; another user of the
    machine must not read them.
    """
    make_private_dir(path)
    for root, dirs, files in os.walk(path):
        for name in dirs:
            _chmod(Path(root) / name, PRIVATE_DIR_MODE)
        for name in files:
            _chmod(Path(root) / name, PRIVATE_FILE_MODE)


def _chmod(path: Path, mode: int) -> None:
    try:
        if not stat.S_ISLNK(os.lstat(path).st_mode):
            os.chmod(path, mode)
    except FileNotFoundError:
        pass  # a SQLite journal that came and went
