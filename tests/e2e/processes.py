"""What the operating system says about the stack's processes: their trees and listening sockets (Linux /proc)."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path
from typing import Iterator


def _stat(pid: int) -> tuple[str, int, int]:
    """(state, parent pid, process group) of ``pid``."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[1]), int(fields[2])


def _all_pids() -> Iterator[int]:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            yield int(entry)


def is_running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        return _stat(pid)[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return False


def descendants(root: int) -> set[int]:
    """``root`` and every process below it."""
    parents: dict[int, int] = {}
    for pid in _all_pids():
        try:
            parents[pid] = _stat(pid)[1]
        except (FileNotFoundError, ValueError):
            continue
    found = {root}
    changed = True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in found and pid not in found:
                found.add(pid)
                changed = True
    return found


def in_groups(groups: set[int]) -> set[int]:
    """Every running process in the given process groups."""
    pids = set()
    for pid in _all_pids():
        try:
            if _stat(pid)[2] in groups:
                pids.add(pid)
        except (FileNotFoundError, ValueError):
            continue
    return pids


def listening(pids: set[int]) -> list[tuple[str, int]]:
    """The (address, port) pairs that ``pids`` listen on over TCP."""
    inodes: set[str] = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
        except (FileNotFoundError, PermissionError):
            continue
    found = []
    for table, family in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 6)):
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            local, state, inode = parts[1], parts[3], parts[9]
            if state != "0A" or inode not in inodes:  # 0A: LISTEN
                continue
            address, port = local.split(":")
            raw = bytes.fromhex(address)
            if family == 4:
                ip = str(ipaddress.IPv4Address(raw[::-1]))
            else:
                ip = str(ipaddress.IPv6Address(b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))))
            found.append((ip, int(port, 16)))
    return found


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:``port`` now."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True

