"""Run the care service: take the lock, catch up, start the jobs, stop cleanly on SIGTERM/SIGINT.

``python -m assistant.careservice --database-url ... --rasa-url ...`` (or ``assistant care-service``).
Exit codes: 0 stopped cleanly, 1 failed (or lost its lock), 2 another care service is running.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence

from assistant.settings import load_settings

if TYPE_CHECKING:  # pragma: no cover
    from assistant.care.core.db import Database
    from assistant.careservice.coordinator_chat import CoordinatorChat
    from assistant.console.server import BackgroundServer

log = logging.getLogger("assistant.careservice")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the care service's options (defaults from the settings) to ``parser``."""
    settings = load_settings()
    parser.add_argument("--database-url", default=settings.database_url, help="SQLAlchemy database URL")
    parser.add_argument("--rasa-url", default=settings.rasa_base_url, help="base URL of Rasa's HTTP API")
    parser.add_argument("--tracker-url", default=settings.tracker_url,
                        help="Rasa's tracker store (SQLAlchemy URL): emergencies the action server missed are read from it")
    parser.add_argument("--rasa-token", default=settings.rasa_token or None, help="Rasa's --auth-token")
    parser.add_argument("--tick-seconds", type=float, default=float(settings.care_tick_seconds),
                        help="how often the jobs poll the database")
    parser.add_argument("--notify-seconds", type=float, default=float(settings.care_notify_seconds),
                        help="how often the notification outbox is polled (coordinator replies, alerts)")
    parser.add_argument("--stale-after", type=float, default=float(settings.care_lock_stale_seconds),
                        help="seconds after which a silent care service's lock may be taken over")
    parser.add_argument("--history-days", type=_positive_int, default=settings.history_days,
                        help="days of conversation history kept in Rasa's tracker store")
    parser.add_argument("--escalation-days", type=_positive_int, default=settings.escalation_days,
                        help="days a resolved escalation is kept")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for Rasa")
    parser.add_argument("--workers", type=_positive_int, default=settings.care_delivery_workers,
                        help="requests to Rasa in flight at once (ASSISTANT_CARE_DELIVERY_WORKERS)")
    parser.add_argument("--console-port", type=int, default=settings.console_port,
                        help="serve the coordinators' console on 127.0.0.1 at this port (ASSISTANT_CONSOLE_PORT)")
    parser.add_argument("--no-console", dest="console", action="store_false",
                        help="do not serve the console (run `assistant console` on its own instead)")
    parser.add_argument("--log-level", default="INFO", help="logging level")


def coordinator_chat(db: "Database") -> Optional["CoordinatorChat"]:
    """The coordinators' Telegram chat when ``TELEGRAM_BOT_TOKEN`` and ``TELEGRAM_COORDINATOR_CHAT_ID`` are set."""
    from assistant.careservice.coordinator_chat import CoordinatorChat

    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    chat_id = os.environ.get("TELEGRAM_COORDINATOR_CHAT_ID", "").strip()
    if not token or not chat_id:
        return None
    settings = load_settings()
    return CoordinatorChat(db, token, chat_id, f"http://127.0.0.1:{settings.console_port}",
                           base_url=os.environ.get("TELEGRAM_API_BASE_URL", "").strip() or None)


def serve_console(db: "Database", port: int) -> "BackgroundServer":
    """Serve the coordinators' console from this process (its own thread and event loop)."""
    from dataclasses import replace

    from assistant.console.server import BackgroundServer, build_app

    settings = replace(load_settings(), console_port=port)
    return BackgroundServer(build_app(settings, db), port=port).start(timeout=30)


def _positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def run(args: argparse.Namespace, stop: Optional[threading.Event] = None) -> int:
    """Run until ``stop`` is set (by SIGTERM/SIGINT when not given); return the exit code."""
    from sqlalchemy.exc import SQLAlchemyError

    from assistant.care.safety.danger_checks import DangerCheckService
    from assistant.care.core.db import Database
    from assistant.care.safety.emergencies import EmergencyService
    from assistant.care.core.lock import ServiceLockHeld
    from assistant.care.coordinators.review_list import ReviewListService
    from assistant.careservice.delivery import RasaDelivery
    from assistant.careservice.emergency_sweep import EmergencySweep
    from assistant.careservice.retention import Retention
    from assistant.careservice.scheduler import CareScheduler

    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop = stop or _stop_on_signals()
    if args.database_url.startswith("sqlite:///"):
        Path(args.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db = Database(args.database_url)
    delivery = RasaDelivery(args.rasa_url, token=args.rasa_token, timeout=args.timeout)
    chat = coordinator_chat(db)
    sweep = EmergencySweep(
        args.tracker_url, EmergencyService(db), danger_checks=DangerCheckService(db), review_list=ReviewListService(db),
    ) if args.tracker_url else None
    retention = Retention(db, args.tracker_url or None, history=timedelta(days=args.history_days),
                          escalations=timedelta(days=args.escalation_days))
    scheduler = CareScheduler(
        db, delivery, tick_seconds=args.tick_seconds, stale_after=timedelta(seconds=args.stale_after),
        workers=args.workers, notify_seconds=args.notify_seconds, coordinator_chat=chat,
        emergency_sweep=sweep, retention=retention,
    )
    try:
        scheduler.start()
    except ServiceLockHeld as held:
        print(
            f"The care service is already running ({held.message}) Only one may run at a time: stop it "
            f"first. If it crashed, its lock is taken over {args.stale_after:g} seconds after its last "
            "heartbeat.",
            file=sys.stderr,
        )
        return 2
    except SQLAlchemyError as error:
        print(f"The care service could not use the database ({type(error).__name__}); "
              "run `assistant db upgrade` first.", file=sys.stderr)
        return 1
    finally:
        if not scheduler.running:
            delivery.close()
            retention.close()
            db.dispose()
    console = None
    if getattr(args, "console", False):
        try:
            console = serve_console(db, args.console_port)
        except Exception as error:  # noqa: BLE001 - the reminders must go on without the console
            log.error("the coordinators' console could not start on port %s: %s", args.console_port, error)
        else:
            print(f"Coordinators' console: {console.url}", flush=True)
    print(f"Care service running: delivering through {args.rasa_url} every {args.tick_seconds:g} s "
          f"with {args.workers} workers{'; emergencies also go to the coordinators Telegram chat' if chat else ''}. "
          "Stop with Ctrl-C.", flush=True)
    code = 0
    try:
        while not stop.wait(0.2):
            if scheduler.lost_lock.is_set():
                print("The care service lost its lock to another process and stopped.", file=sys.stderr)
                code = 1
                break
    finally:
        if console is not None:
            console.stop()
        scheduler.stop()
        delivery.close()
        if chat is not None:
            chat.close()
        if sweep is not None:
            sweep.close()
        retention.close()
        db.dispose()
    log.info("care service stopped")
    return code


def _stop_on_signals() -> threading.Event:
    """Return an event set by SIGTERM or SIGINT."""
    stop = threading.Event()

    def handle(signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return stop


def build_parser() -> argparse.ArgumentParser:
    """The command line parser of ``python -m assistant.careservice``."""
    parser = argparse.ArgumentParser(prog="python -m assistant.careservice", description=__doc__)
    add_arguments(parser)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of ``python -m assistant.careservice``."""
    return run(build_parser().parse_args(argv))
