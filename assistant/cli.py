"""The `assistant` command: database set-up, training, running the stack."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from pathlib import Path
from typing import Optional, Sequence

from assistant.settings import STATE_DIR, load_settings


def _database():
    from assistant.care.core.db import Database

    settings = load_settings()
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    return Database(settings.database_url)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Apply the database migrations."""
    _database().upgrade()
    print("Database is up to date.")
    return 0


def cmd_db_seed(args: argparse.Namespace) -> int:
    """Load the demo registry (does nothing when providers exist)."""
    from assistant.care.registry.seed import load_demo_data

    counts = load_demo_data(_database())
    print("Demo data: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "already loaded"))
    return 0


def cmd_db_import(args: argparse.Namespace) -> int:
    """Import providers from a CSV file."""
    from assistant.care.registry.csv_import import import_providers_csv

    report = import_providers_csv(_database(), Path(args.path))
    print(report)
    return 0 if not getattr(report, "errors", None) else 1


def cmd_train(args: argparse.Namespace) -> int:
    """Train the model when its data changed."""
    from assistant.training import train

    train(force=args.force)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Start the whole local stack, restart a crashed part, and stop it all on Ctrl-C, SIGTERM or SIGHUP."""
    from assistant.stack import Stack

    settings = load_settings()
    stack = Stack(settings)
    _stop_on_signals()
    print("Starting the servers (loading the model takes about a minute)...", flush=True)
    try:
        stack.start()
        print()
        print(f"  Chat page:        {stack.chat_url}")
        print(f"  REST webhook:     {stack.rasa_url}/webhooks/rest/webhook")
        print(f"  Action server:    http://127.0.0.1:{settings.action_port}  (answers only Rasa)")
        print(f"  Coordinators:     {stack.console_url}  (accounts: assistant coordinator create-account)")
        if stack.hears:
            print(f"  Speech to text:   {stack.speech_url}  (offline; voice messages never leave this machine)")
        if os.environ.get("TELEGRAM_BOT_TOKEN", "").strip():
            mode = "webhook" if os.environ.get("TELEGRAM_WEBHOOK_URL", "").strip() else "polling"
            print(f"  Telegram:         on ({mode})")
        print(f"  Logs:             {stack.log_dir}")
        print("\nPress Ctrl-C to stop.", flush=True)
        while True:
            stack.watch()
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nStopping...", flush=True)
        return 0
    except (RuntimeError, TimeoutError, FileNotFoundError) as error:
        print(f"The assistant could not start: {error}", file=sys.stderr)
        return 1
    finally:
        _ignore_stop_signals()
        stack.stop()


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _stop_on_signals() -> None:
    """SIGTERM (a service manager, ``kill``) and SIGHUP (a closed terminal) stop the stack like Ctrl-C.

    The first stop signal turns the others off before it interrupts: a signal sent to make's process
    group reaches this process twice (make passes SIGTERM on to its children), and the second must not
    cut short the stopping the first began.
    """

    def interrupt(signum: int, _frame: object) -> None:
        _ignore_stop_signals()
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in STOP_SIGNALS:
        signal.signal(sig, interrupt)


def _ignore_stop_signals() -> None:
    """While stopping, a second Ctrl-C or SIGTERM must not cut the clean-up short."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)


def _care():
    from assistant.care import CareServices

    settings = load_settings()
    return CareServices(_database(), timezone=settings.timezone)


def cmd_queue(args: argparse.Namespace) -> int:
    """Print the coordinators' queue: most urgent first, then oldest."""
    for item in _care().escalations.list_open():
        who = f" [{item.claimed_by}]" if item.claimed_by else ""
        print(f"{item.reference}  P{item.priority}  {item.kind:<18} {item.created_at:%Y-%m-%d %H:%M}{who}  {item.summary[:80]}")
    return 0


def cmd_answer(args: argparse.Namespace) -> int:
    """Answer a consultation ticket; the answer goes into the user's chat."""
    from assistant.care.core.errors import CareError

    try:
        view = _care().escalations.answer(args.reference, args.by, " ".join(args.text))
    except CareError as error:
        print(error.message, file=sys.stderr)
        return 1
    print(f"{view.reference} answered and resolved; the care service delivers it to the user.")
    return 0


def cmd_booking_status(args: argparse.Namespace) -> int:
    """Move a home-service booking on (assigned, in_progress, done); the senior is told."""
    from assistant.care.core.errors import CareError

    try:
        view = _care().home_services.set_status(args.reference, args.status, f"coordinator:{args.by}")
    except CareError as error:
        print(error.message, file=sys.stderr)
        return 1
    print(f"{view.reference} is now {view.status}; the senior is told (and asked for a rating when done).")
    return 0


def cmd_create_account(args: argparse.Namespace) -> int:
    """Create a coordinator's console account; the password is read without echo."""
    import getpass

    from assistant.care.coordinators.coordinators import CoordinatorService
    from assistant.care.core.errors import CareError

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password (at least 12 characters): ")
        if getpass.getpass("Password again: ") != password:
            print("The two passwords differ; nothing was created.", file=sys.stderr)
            return 1
    try:
        view = CoordinatorService(_database()).create(args.username, args.name, password)
    except CareError as error:
        print(error.message, file=sys.stderr)
        return 1
    print(f"Account {view.username!r} ({view.display_name}) created; log in at the console.")
    return 0


def cmd_console(args: argparse.Namespace) -> int:
    """Serve the coordinators' console on 127.0.0.1 until Ctrl-C."""
    from assistant.console.server import run_console

    settings = load_settings()
    print(f"Care console on http://127.0.0.1:{settings.console_port} (Ctrl-C stops it)", flush=True)
    run_console(settings)
    return 0


def cmd_care_service(args: argparse.Namespace) -> int:
    """Run the care service (reminders, escalation timers, notifications) until Ctrl-C."""
    from assistant.careservice.main import run

    return run(args)


def cmd_transcribe(args: argparse.Namespace) -> int:
    """Print the words in an audio file (OGG, WebM, WAV, MP3), heard offline by the speech model."""
    from assistant.hearing.client import transcribe_file
    from assistant.hearing.verdict import REFUSAL_REPLIES, UNAVAILABLE_REPLY

    path = Path(args.path)
    if not path.is_file():
        print(f"There is no file at {path}.", file=sys.stderr)
        return 2
    python = load_settings().speech_python
    try:
        result = transcribe_file(path, python)
    except FileNotFoundError:
        print(f"The speech model is not installed ({python} is missing); run `make setup`.", file=sys.stderr)
        return 2
    if "error" in result:
        print(REFUSAL_REPLIES.get(result["error"], UNAVAILABLE_REPLY), file=sys.stderr)
        return 1
    if args.details:
        print(
            f"{result['text']}\n(confidence {result['avg_logprob']:.2f}, no speech {result['no_speech_prob']:.2f}, "
            f"{result['seconds']:.1f} s of audio, {result['elapsed']:.2f} s to transcribe)"
        )
    else:
        print(result["text"] or "(no words heard)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line parser."""
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database commands").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)
    db.add_parser("seed", help="load the demo registry").set_defaults(func=cmd_db_seed)
    imp = db.add_parser("import-csv", help="import providers from a CSV file")
    imp.add_argument("path")
    imp.set_defaults(func=cmd_db_import)

    train = sub.add_parser("train", help="train the model if its data changed")
    train.add_argument("--force", action="store_true", help="train even when nothing changed")
    train.set_defaults(func=cmd_train)

    sub.add_parser("run", help="start the local stack").set_defaults(func=cmd_run)

    care = sub.add_parser("care-service", help="run the reminder and notification service")
    from assistant.careservice.main import add_arguments as add_care_service_arguments

    add_care_service_arguments(care)
    care.set_defaults(func=cmd_care_service)

    coordinator = sub.add_parser("coordinator", help="what care coordinators can also do from a shell")
    actions = coordinator.add_subparsers(dest="coordinator_command", required=True)
    queue = actions.add_parser("queue", help="list open escalations, most urgent first")
    queue.set_defaults(func=cmd_queue)
    answer = actions.add_parser("answer", help="answer a consultation ticket into the user's chat")
    answer.add_argument("reference")
    answer.add_argument("text", nargs="+")
    answer.add_argument("--by", required=True, help="the consultant's name, as the user will see it")
    answer.set_defaults(func=cmd_answer)
    status = actions.add_parser("booking-status", help="mark a home visit assigned, in_progress or done")
    status.add_argument("reference")
    status.add_argument("status", choices=["assigned", "in_progress", "done"])
    status.add_argument("--by", required=True, help="the coordinator's name")
    status.set_defaults(func=cmd_booking_status)
    account = actions.add_parser("create-account", help="create a coordinator's console account")
    account.add_argument("username")
    account.add_argument("--name", required=True, help="the display name colleagues and users see")
    account.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    account.set_defaults(func=cmd_create_account)

    sub.add_parser("console", help="serve the coordinators' web console").set_defaults(func=cmd_console)

    transcribe = sub.add_parser("transcribe", help="print the words in an audio file, heard offline")
    transcribe.add_argument("path", help="an OGG, WebM, WAV or MP3 file, at most a minute long")
    transcribe.add_argument("--details", action="store_true", help="also print the model's confidence and timing")
    transcribe.set_defaults(func=cmd_transcribe)

    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Entry point of the `assistant` command."""
    from assistant.security import make_private_tree

    os.umask(0o077)  # databases, secrets, logs: owner-only from the start
    make_private_tree(STATE_DIR)
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
