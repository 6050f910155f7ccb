"""Rasa's own command line with our speed-ups applied: ``python -m assistant.rasa_server run ...``.

Takes exactly the arguments of ``python -m rasa``. The stack (``assistant run``, the benchmarks and
the end-to-end tests) starts the Rasa server this way. ``ASSISTANT_RASA_SPEEDUPS=0`` starts plain
Rasa, ``ASSISTANT_RASA_SPEEDUPS=validator`` (a list of parts) only some (see :mod:`assistant.rasa_speedups`).
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

from assistant import rasa_speedups


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Apply the speed-ups (unless switched off), then run Rasa's CLI with ``argv``."""
    if argv is not None:
        sys.argv = ["rasa", *argv]
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

    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
