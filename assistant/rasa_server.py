"""Rasa's own command line with our speed-ups applied: ``python -m assistant.rasa_server run ...``.

Takes exactly the arguments of ``python -m rasa``. The stack (``assistant run``, the benchmarks and
the end-to-end tests) starts the Rasa server this way. ``ASSISTANT_RASA_SPEEDUPS=0`` starts plain
Rasa, ``ASSISTANT_RASA_SPEEDUPS=validator`` (a list of parts) only some (see :mod:`assistant.rasa_speedups`).

A server whose HTTP API would listen beyond loopback without ``--auth-token`` refuses to start.
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from assistant import rasa_resilience, rasa_speedups
from assistant.security import is_loopback


def exposure_refusal(argv: Sequence[str]) -> Optional[str]:
    """Why ``rasa run`` with these arguments must not start, or None when it may.

    Rasa listens on every interface unless ``--interface`` says otherwise; its HTTP API (``--enable-api``)
    can then read and change every conversation, so beyond loopback it needs ``--auth-token``.
    """
    args = list(argv)
    if not args or args[0] != "run" or "--enable-api" not in args:
        return None
    interface = _option(args, "--interface", "-i") or "0.0.0.0"
    if is_loopback(interface) or _option(args, "--auth-token", "-t"):
        return None
    return (f"Rasa's HTTP API would listen on {interface}, beyond this machine, without a token. "
            "Set ASSISTANT_RASA_TOKEN (the stack passes it as --auth-token), or listen on 127.0.0.1.")


def _option(args: list[str], *names: str) -> Optional[str]:
    for index, arg in enumerate(args):
        for name in names:
            if arg == name and index + 1 < len(args):
                return args[index + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Apply the speed-ups (unless switched off), then run Rasa's CLI with ``argv``."""
    if argv is not None:
        sys.argv = ["rasa", *argv]
    refusal = exposure_refusal(sys.argv[1:])
    if refusal:
        print(refusal, file=sys.stderr, flush=True)
        sys.exit(2)
    parts = rasa_speedups.enabled_parts()
    if parts:
        # Rasa sets this before its first TensorFlow import; applying imports TensorFlow earlier.
        from rasa.utils.common import update_tensorflow_log_level

        update_tensorflow_log_level()
        rasa_speedups.apply(parts)
        status = rasa_speedups.describe(parts)
    else:
        status = f"off ({rasa_speedups.ENV_VAR}=0)"
    print(f"assistant.rasa_server: speed-ups: {status}", file=sys.stderr, flush=True)
    rasa_resilience.apply()

    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
