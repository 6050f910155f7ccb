"""The real speech server (its own virtualenv) on clips spoken by espeak-ng, in every format we take."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from assistant.hearing.limits import MAX_BYTES
from tests.hearing.clips import Voice, post, silence, speak, tone

FALL = "I have fallen and I cannot get up"
CLEAN = "can someone come and clean on friday morning"


def words(text: str) -> list[str]:
    return "".join(ch for ch in text.lower() if ch.isalpha() or ch == " ").split()


@pytest.mark.parametrize("fmt", ["ogg", "webm", "wav", "mp3"])
def test_a_spoken_request_is_heard_in_every_format(speech_url: str, clip_dir: Path, fmt: str) -> None:
    status, heard = post(speech_url, speak(CLEAN, clip_dir, Voice(), fmt).read_bytes())
    assert status == 200
    assert words(heard["text"]) == words(CLEAN)
    assert heard["avg_logprob"] > -0.5
    assert 3.0 < heard["seconds"] < 4.5


def test_a_fall_is_heard_from_a_telegram_voice_note(speech_url: str, clip_dir: Path) -> None:
    status, heard = post(speech_url, speak(FALL, clip_dir, Voice(), "ogg").read_bytes())
    assert status == 200
    assert words(heard["text"]) == words(FALL)


def test_silence_and_a_beep_hold_no_words(speech_url: str, clip_dir: Path) -> None:
    for clip in (silence(clip_dir, 3), tone(clip_dir, 4, "wav")):
        status, heard = post(speech_url, clip.read_bytes())
        assert status == 200
        assert heard["text"] == ""
        assert heard["no_speech_prob"] == 1.0


def test_a_recording_over_a_minute_is_refused(speech_url: str, clip_dir: Path) -> None:
    status, heard = post(speech_url, tone(clip_dir, 61, "ogg").read_bytes())
    assert (status, heard) == (413, {"error": "too_long"})
    # One just under the limit is read.
    status, heard = post(speech_url, tone(clip_dir, 59, "ogg").read_bytes())
    assert status == 200


def test_bad_files_get_a_reason_and_the_server_keeps_serving(speech_url: str, clip_dir: Path) -> None:
    text_file = b"Dear Sir, this is a letter, not a recording.\n" * 20
    cases = {
        b"": (400, "empty"),
        text_file: (422, "not_audio"),
        bytes(range(256)) * 40: (422, "not_audio"),
        b"OggS" + bytes(3000): (422, "not_audio"),  # a header and nothing real behind it
    }
    for data, (code, reason) in cases.items():
        assert post(speech_url, data) == (code, {"error": reason})
    # A truncated voice note still gives what was said before the cut.
    whole = speak(FALL, clip_dir, Voice(), "ogg").read_bytes()
    status, heard = post(speech_url, whole[: len(whole) * 2 // 3])
    assert status == 200 and "fall" in heard["text"].lower()
    # And after all that the server still hears a good clip.
    status, heard = post(speech_url, speak(CLEAN, clip_dir, Voice(), "wav").read_bytes())
    assert status == 200 and words(heard["text"]) == words(CLEAN)


def test_a_huge_upload_is_refused_before_it_is_read(speech_url: str) -> None:
    host, port = speech_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            f"POST /transcribe HTTP/1.1\r\nHost: x\r\nContent-Length: {MAX_BYTES + 1}\r\n\r\n".encode()
        )
        received = b""
        while chunk := conn.recv(4096):  # the server answers and closes without reading the body
            received += chunk
    answer = received.decode()
    assert answer.startswith("HTTP/1.1 413") and "too_big" in answer


def test_a_wav_of_another_rate_is_resampled(speech_url: str, clip_dir: Path) -> None:
    source = speak(CLEAN, clip_dir, Voice(), "wav")
    stereo = clip_dir / "clean-44k.wav"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(source), "-ar", "44100", "-ac", "2", str(stereo)],
                   check=True)
    status, heard = post(speech_url, stereo.read_bytes())
    assert status == 200 and words(heard["text"]) == words(CLEAN)
