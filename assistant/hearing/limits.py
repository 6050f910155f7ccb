"""The limits on a voice message, shared by both halves (standard library only)."""

from __future__ import annotations

MAX_SECONDS = 60.0
"""Longer recordings are politely refused: a message, not a dictation."""

MAX_BYTES = 5 * 1024 * 1024
"""Largest audio upload read; a minute of Opus is about 0.1-0.5 MB, of 48 kHz WAV about 6 MB mono."""

SAMPLE_RATE = 16000
"""Whisper listens at 16 kHz mono."""

NOT_AUDIO = "not_audio"
TOO_LONG = "too_long"
TOO_BIG = "too_big"
EMPTY = "empty"
ERRORS = (NOT_AUDIO, TOO_LONG, TOO_BIG, EMPTY)
"""The reasons the speech server gives for not transcribing a file."""
