"""Voice messages heard offline: word errors, understanding beside typing, emergencies, time to reply.

``python -m benchmarks.voice`` speaks lines of the blind sets (``../shared/data/blind/``: written by
someone who never saw our data; read, never copied or trained on) with espeak-ng in four voices and
speeds, some with background noise, as Telegram voice notes (OGG/Opus). Then, on the real stack
(speech server, Rasa, action server, care service; Telegram against a fake Bot API on loopback):

- *word error rate* of the transcripts against the lines, with the vocabulary prompt and, side by
  side on a second speech server, without it;
- *intent accuracy* of ``/model/parse`` on the transcripts beside the same lines typed;
- *emergency recall*: emergencies whose transcript still reads as one (an emergency, or a possible
  one that gets the number and the question), over all clips and over the clips that are
  understandable (at most 20% word errors);
- *seconds to first reply*: each clip as a voice note to the Telegram webhook of a new chat, from
  the update to the first message back ("I heard: ...") and to the assistant's answer;
- *memory* of the speech server (peak resident set).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from benchmarks.measure import machine, percentile, post_json
from benchmarks.nlu_scoring import (
    BLIND_EMERGENCIES,
    BLIND_INTENTS,
    EMERGENCY,
    POSSIBLE,
    is_right,
    read_emergency_set,
    read_nlu_yaml,
)

CONTRACT_INTENTS = (
    "greet", "goodbye", "affirm", "deny", "thank", "ask_capabilities", "order_meal", "book_home_service",
    "check_bookings", "cancel_booking", "consult_legal", "consult_health", "set_reminder", "list_reminders",
    "cancel_reminder", "reminder_done", "emergency", "talk_to_human", "complain", "rate_service",
)
UNDERSTANDABLE_WER = 0.2


@dataclass
class Clip:
    """One spoken line and what became of it."""

    text: str
    intent: str
    voice: Any
    path: Path
    transcript: str = ""
    transcript_plain: str = ""
    typed_intent: str = ""
    voice_intent: str = ""
    first_reply: float = 0.0
    answer: float = 0.0
    outcome: str = ""
    """heard (echoed and answered), asked ("Did you say ...?"), or nothing (asked to try again)."""

    @property
    def emergency(self) -> bool:
        return self.intent == EMERGENCY


def words(text: str) -> list[str]:
    """Lower-case words without punctuation or apostrophes."""
    return re.sub(r"[^a-z0-9 ]+", " ", text.lower().replace("'", "").replace("’", "")).split()


def word_errors(reference: str, heard: str) -> tuple[int, int]:
    """(edits, reference words): the word-level Levenshtein distance."""
    ref, hyp = words(reference), words(heard)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1], len(ref)


def wer(pairs: Sequence[tuple[str, str]]) -> float:
    """Corpus word error rate."""
    edits = refs = 0
    for reference, heard in pairs:
        e, n = word_errors(reference, heard)
        edits, refs = edits + e, refs + n
    return edits / max(refs, 1)


def choose_lines(per_intent: int, emergencies: int, seed: int = 7) -> list[tuple[str, str]]:
    """(text, intent): ``per_intent`` lines of each contract intent and ``emergencies`` emergency lines."""
    rng = random.Random(seed)
    by_intent: dict[str, list[str]] = {}
    for example in read_nlu_yaml(BLIND_INTENTS):
        if example.intent in CONTRACT_INTENTS and example.intent != EMERGENCY:
            by_intent.setdefault(example.intent, []).append(example.text)
    chosen = [(text, intent) for intent in sorted(by_intent) for text in rng.sample(by_intent[intent], per_intent)]
    alarms = [line.text for line in read_emergency_set(BLIND_EMERGENCIES) if line.emergency]
    chosen += [(text, EMERGENCY) for text in rng.sample(alarms, emergencies)]
    return chosen


def transcribe(url: str, data: bytes) -> str:
    """The speech server's words for a file."""
    request = urllib.request.Request(f"{url}/transcribe", data=data, method="POST")
    with urllib.request.urlopen(request, timeout=120) as reply:
        return str(json.loads(reply.read()).get("text") or "")


def parse(rasa_url: str, text: str) -> str:
    """The intent the running model gives ``text``."""
    if not text.strip():
        return "nothing_heard"
    return str(post_json(f"{rasa_url}/model/parse", {"text": text})["intent"]["name"])


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of one process (VmHWM), in MB."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def run(per_intent: int, emergencies: int) -> tuple[list[Clip], dict[str, float]]:
    """Speak the lines, start the stack with Telegram against the fake server, measure every clip."""
    from assistant.hearing.client import speech_command
    from assistant.stack import Stack, answers, free_port, seeded_settings
    from tests.channels.fake_telegram import TOKEN, FakeTelegramThread, message_update
    from tests.e2e.conftest import TELEGRAM_SECRET, RunningStack, telegram_environment
    from tests.hearing.clips import VOICES, speak

    with tempfile.TemporaryDirectory(prefix="voice-bench-") as scratch:
        state = Path(scratch)
        clips = [
            Clip(text, intent, VOICES[i % len(VOICES)], speak(text, state / "clips", VOICES[i % len(VOICES)], "ogg"))
            for i, (text, intent) in enumerate(choose_lines(per_intent, emergencies))
        ]
        fake = FakeTelegramThread(TOKEN).start()
        settings = seeded_settings(state, care_tick_seconds=1)
        stack = Stack(settings, log_dir=state / "logs", tracker_db=state / "trackers.db")
        telegram = telegram_environment(fake, settings.rasa_port, state / "telegram")
        saved = {name: os.environ.get(name) for name in telegram}
        os.environ.update(telegram)
        plain_port = free_port()
        plain = subprocess.Popen(
            speech_command(settings.speech_python, "--port", str(plain_port), "--no-prompt"),
            cwd=stack.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            stack.start(timeout=420)
            while not answers(f"http://127.0.0.1:{plain_port}/health"):
                time.sleep(0.2)
            running = RunningStack(stack, settings.database_url, fake)
            for number, clip in enumerate(clips):
                data = clip.path.read_bytes()
                chat_id = 900_000_000 + number
                file_id = f"bench-{number}"
                fake.server.add_file(file_id, data)
                note = {"file_id": file_id, "file_unique_id": "u" + file_id, "duration": 5,
                        "mime_type": "audio/ogg", "file_size": len(data)}
                started = time.monotonic()
                assert running.post_update(message_update(voice=note, chat_id=chat_id), TELEGRAM_SECRET) == 200
                sent = fake.calls_to(chat_id, "sendMessage")
                clip.first_reply = sent[0].at - started if sent else float("nan")
                clip.answer = sent[1].at - started if len(sent) > 1 else clip.first_reply
                heard = str(sent[0].params.get("text")) if sent else ""
                match = re.search(r"“(.*)”", heard)
                clip.transcript = match.group(1) if match else ""
                clip.outcome = "heard" if heard.startswith("I heard") else "asked" if match else "nothing"
                clip.transcript_plain = transcribe(f"http://127.0.0.1:{plain_port}", data)
                clip.typed_intent = parse(stack.rasa_url, clip.text)
                clip.voice_intent = parse(stack.rasa_url, clip.transcript)
                print(f"{number + 1:3}/{len(clips)} {clip.first_reply:5.2f}s {clip.intent:18} "
                      f"{clip.voice_intent:18} | {clip.text[:50]} -> {clip.transcript[:50]}", flush=True)
            memory = {"speech_peak_mb": peak_rss_mb(stack.processes["speech"].pid),
                      "plain_peak_mb": peak_rss_mb(plain.pid)}
        finally:
            plain.terminate()
            stack.stop()
            fake.stop()
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
    return clips, memory


def summary(clips: list[Clip], memory: dict[str, float]) -> dict[str, float]:
    """The figures of one run."""
    alarms = [c for c in clips if c.emergency]
    clear = [c for c in alarms if wer([(c.text, c.transcript)]) <= UNDERSTANDABLE_WER]

    def caught(clip: Clip) -> bool:
        return clip.voice_intent in (EMERGENCY, POSSIBLE)

    firsts = [c.first_reply for c in clips]
    by_voice = {
        f"wer_{voice.name}_{voice.speed}wpm_noise{voice.noise}": wer(
            [(c.text, c.transcript) for c in clips if c.voice == voice])
        for voice in dict.fromkeys(c.voice for c in clips)
    }
    answers_ = [c.answer for c in clips]
    return {
        "clips": len(clips),
        "wer": wer([(c.text, c.transcript) for c in clips]),
        "wer_plain": wer([(c.text, c.transcript_plain) for c in clips]),
        **by_voice,
        "asked_back": sum(c.outcome == "asked" for c in clips),
        "nothing_heard": sum(c.outcome == "nothing" for c in clips),
        "typed_accuracy": sum(is_right(c.typed_intent, c.intent) for c in clips) / len(clips),
        "voice_accuracy": sum(is_right(c.voice_intent, c.intent) for c in clips) / len(clips),
        "emergencies": len(alarms),
        "emergency_recall": sum(caught(c) for c in alarms) / max(len(alarms), 1),
        "understandable": len(clear),
        "emergency_recall_understandable": sum(caught(c) for c in clear) / max(len(clear), 1),
        "typed_emergency_recall": sum(c.typed_intent in (EMERGENCY, POSSIBLE) for c in alarms) / max(len(alarms), 1),
        "first_reply_p50": percentile(firsts, 0.5),
        "first_reply_p95": percentile(firsts, 0.95),
        "answer_p50": percentile(answers_, 0.5),
        "answer_p95": percentile(answers_, 0.95),
        **memory,
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run and print the figures (and the missed emergencies)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.voice", description=__doc__.split("\n")[0])
    parser.add_argument("--per-intent", type=int, default=3, help="blind lines spoken per contract intent")
    parser.add_argument("--emergencies", type=int, default=30, help="blind emergency lines spoken")
    args = parser.parse_args(argv)
    if not BLIND_INTENTS.exists():
        print(f"Missing {BLIND_INTENTS}: the shared data must sit beside the repository.", file=sys.stderr)
        return 1
    clips, memory = run(args.per_intent, args.emergencies)
    figures = summary(clips, memory)
    print(f"\nMachine: {machine()}")
    for name, value in figures.items():
        print(f"{name}: {value:.3f}" if isinstance(value, float) else f"{name}: {value}")
    print("\nEmergencies not read as one from voice:")
    for clip in clips:
        if clip.emergency and clip.voice_intent not in (EMERGENCY, POSSIBLE):
            print(f"  {clip.text!r} -> {clip.transcript!r} ({clip.voice_intent})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
