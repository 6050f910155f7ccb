"""``assistant transcribe FILE``: anyone can check what the offline model hears in a file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from assistant.hearing.verdict import NOT_AUDIO_REPLY, TOO_LONG_REPLY
from assistant.settings import PROJECT_ROOT
from tests.hearing.clips import Voice, speak, tone

SAID = "I would like lunch delivered tomorrow"


def transcribe(*args: str) -> subprocess.CompletedProcess:
    """Runs the installed command as a user would."""
    command = Path(sys.executable).parent / "assistant"
    return subprocess.run([str(command), "transcribe", *args], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("fmt", ["ogg", "webm", "wav", "mp3"])
def test_it_prints_the_words_of_each_format(clip_dir: Path, fmt: str) -> None:
    done = transcribe(str(speak(SAID, clip_dir, Voice("en-gb", 140, 50), fmt)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().lower().rstrip(".") == SAID.lower()


def test_details_show_confidence_and_timing(clip_dir: Path) -> None:
    done = transcribe("--details", str(speak(SAID, clip_dir, Voice("en-gb", 140, 50), "ogg")))
    assert done.returncode == 0 and "confidence -0." in done.stdout and "s of audio" in done.stdout


def test_bad_files_get_a_plain_answer(clip_dir: Path, tmp_path: Path) -> None:
    letter = tmp_path / "letter.ogg"
    letter.write_text("Not a recording at all.")
    done = transcribe(str(letter))
    assert (done.returncode, done.stderr.strip()) == (1, NOT_AUDIO_REPLY)
    done = transcribe(str(tone(clip_dir, 65, "mp3")))
    assert (done.returncode, done.stderr.strip()) == (1, TOO_LONG_REPLY)
    done = transcribe(str(tmp_path / "missing.wav"))
    assert done.returncode == 2 and "There is no file at" in done.stderr
