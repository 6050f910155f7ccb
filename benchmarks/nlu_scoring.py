"""Scoring intent predictions on the blind sets: the shared data, what counts as right, the figures.

Used by ``python -m benchmarks.nlu`` and by the quality gate in the test suite. The blind sets are
read from ``../shared/data/`` (never copied into the repository, never trained on).
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional, Sequence

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"
BLIND_INTENTS = SHARED_DATA / "blind" / "intents.yml"
BLIND_EMERGENCIES = SHARED_DATA / "blind" / "emergencies.yml"
NLU_EVALUATION = SHARED_DATA / "nlu-evaluation-data" / "nlu_evaluation_data.csv"
FALLBACK = "nlu_fallback"
EMERGENCY = "emergency"
POSSIBLE = "possible_emergency"
"""Set by the safety net when a message may be an emergency: the number, and "are you in danger?"."""

TASK_INTENTS = frozenset({
    "order_meal", "book_home_service", "change_booking", "cancel_booking", "set_reminder", "cancel_reminder",
    "snooze_reminder", "set_checkin", "stop_checkin", "complain", "rate_service", "update_profile", "register",
    "invite_relative", "remove_relative", "forget_me", "withdraw_consent",
})
"""Intents that start one of our tasks (a booking, an order, a reminder, a complaint, a rating, a
profile change, an invitation, the question before deleting everything): an out-of-domain message predicted as one of these is a wrong flow."""

_ANNOTATION = re.compile(r"\[([^\]]+)\]\((?:[^)]+)\)|\[([^\]]+)\]\{[^}]+\}")


@dataclass(frozen=True)
class Example:
    """One message and the intent it means."""

    text: str
    intent: str


def read_nlu_yaml(path: Path) -> list[Example]:
    """The examples of a Rasa NLU YAML file (entity annotations reduced to their text)."""
    import yaml

    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    examples = []
    for block in document.get("nlu") or []:
        intent = block.get("intent")
        if not intent:
            continue
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                text = _ANNOTATION.sub(lambda m: m.group(1) or m.group(2), line[2:].strip())
                examples.append(Example(text, intent))
    return examples


def read_training_data(folder: Path) -> list[Example]:
    """Every intent example in ``folder`` (the project's ``data/nlu``)."""
    return [e for path in sorted(folder.glob("*.yml")) for e in read_nlu_yaml(path)]


def read_nlu_evaluation(path: Path = NLU_EVALUATION) -> list[tuple[str, str]]:
    """(text, what it means for us) for the NLU-Evaluation-Data lines, ``ambiguous`` ones left out."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [(row["text"], row["ours"]) for row in csv.DictReader(handle)]
    return [(text, ours) for text, ours in rows if ours != "ambiguous" and text]


def is_right(predicted: str, gold: str) -> bool:
    """Whether a prediction leads to the right behaviour.

    An out-of-scope message that falls back (``nlu_fallback``) is answered the same honest way as one
    recognised as ``out_of_scope``, so both count as right there; anywhere else a fallback is a miss.
    An emergency taken for a possible one still gets the number and the question, which "yes" or
    silence turns into the alarm: right there, and nowhere else.
    """
    return predicted == gold or (gold == "out_of_scope" and predicted == FALLBACK) or (
        gold == EMERGENCY and predicted == POSSIBLE)


@dataclass
class IntentScores:
    """Accuracy, macro-F1, per-intent figures and confusions of one model on one set."""

    accuracy: float
    macro_f1: float
    per_intent: dict[str, tuple[float, float, float, int]]
    """intent -> (precision, recall, F1, support)."""
    confusions: list[tuple[str, str, int]]
    """(gold, predicted, count), most frequent first."""
    fallbacks: int
    labels: list[str] = field(default_factory=list)
    matrix: list[list[int]] = field(default_factory=list)


def score_intents(gold: Sequence[str], predicted: Sequence[str]) -> IntentScores:
    """Score predictions against the gold intents (see :func:`is_right` for out-of-scope fallbacks)."""
    normalised = [g if is_right(p, g) else p for g, p in zip(gold, predicted)]
    labels = sorted(set(gold))
    per_intent: dict[str, tuple[float, float, float, int]] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, normalised) if g == label and p == label)
        predicted_as = sum(1 for p in normalised if p == label)
        support = sum(1 for g in gold if g == label)
        precision = tp / predicted_as if predicted_as else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent[label] = (precision, recall, f1, support)
    accuracy = sum(1 for g, p in zip(gold, normalised) if g == p) / len(gold)
    macro_f1 = sum(v[2] for v in per_intent.values()) / len(per_intent)
    confusions = Counter((g, p) for g, p in zip(gold, normalised) if g != p)
    columns = labels + sorted(set(normalised) - set(labels))
    index = {label: i for i, label in enumerate(columns)}
    matrix = [[0] * len(columns) for _ in labels]
    for g, p in zip(gold, normalised):
        matrix[index[g]][index[p]] += 1
    return IntentScores(
        accuracy=accuracy, macro_f1=macro_f1, per_intent=per_intent,
        confusions=[(g, p, n) for (g, p), n in confusions.most_common()],
        fallbacks=sum(1 for p in predicted if p == FALLBACK), labels=columns, matrix=matrix,
    )


@dataclass(frozen=True)
class OutOfDomainScores:
    """How a model treats messages written for another assistant."""

    out_of_domain: int
    started_task: int
    lines: int
    emergencies: int
    questions: int = 0
    """Lines asked "are you hurt or in danger right now?" (the possible tier)."""

    @property
    def task_share(self) -> float:
        """Share of out-of-domain lines that would start one of our tasks."""
        return self.started_task / self.out_of_domain if self.out_of_domain else 0.0

    @property
    def emergency_share(self) -> float:
        """Share of all lines predicted ``emergency`` (every one a false alarm)."""
        return self.emergencies / self.lines if self.lines else 0.0

    @property
    def question_share(self) -> float:
        """Share of all lines asked whether the writer is in danger."""
        return self.questions / self.lines if self.lines else 0.0


def score_out_of_domain(meanings: Iterable[str], predicted: Iterable[str]) -> OutOfDomainScores:
    """Count wrong flows on out-of-domain lines and false emergencies on all lines."""
    pairs = list(zip(meanings, predicted))
    ood = [p for m, p in pairs if m == "out_of_domain"]
    return OutOfDomainScores(
        out_of_domain=len(ood), started_task=sum(1 for p in ood if p in TASK_INTENTS), lines=len(pairs),
        emergencies=sum(1 for _, p in pairs if p == EMERGENCY), questions=sum(1 for _, p in pairs if p == POSSIBLE),
    )


@dataclass(frozen=True)
class EmergencyLine:
    """One line of the blind emergency set: its text, whether it is an emergency, and its style."""

    text: str
    emergency: bool
    style: str


def read_emergency_set(path: Path = BLIND_EMERGENCIES) -> list[EmergencyLine]:
    """The emergencies and their look-alikes, each with the style named by the comment above it."""
    import yaml

    raw = path.read_text(encoding="utf-8")
    document = yaml.safe_load(raw)
    styles: dict[str, str] = {}
    style = ""
    for line in raw.splitlines():
        stripped = line.strip()
        if stripped.startswith(("# style:", "# kind:")):
            style = stripped.split(":", 1)[1].split("(")[0].strip()
        elif line and not line[0].isspace():
            style = ""  # a new section: its lines are named by their own comments
        elif stripped.startswith("- ") and style:
            styles.setdefault(str(yaml.safe_load(stripped[2:])), style)
    lines = []
    for key, is_emergency in (("emergencies", True), ("non_emergencies", False)):
        for text in document.get(key) or []:
            lines.append(EmergencyLine(str(text), is_emergency, styles.get(str(text), "")))
    return lines


@dataclass(frozen=True)
class EmergencyScores:
    """How many emergencies get the number (either tier), and what the look-alikes get."""

    caught: int
    """Emergencies given the number: the full alarm or the "are you in danger?" question."""
    emergencies: int
    false_alarms: int
    """Look-alikes that raised the full alarm."""
    look_alikes: int
    missed_by_style: dict[str, int] = field(default_factory=dict)
    alarmed_by_kind: dict[str, int] = field(default_factory=dict)
    definite: int = 0
    """Emergencies that raised the full alarm at once."""
    questions: int = 0
    """Look-alikes asked whether the writer is in danger."""
    asked_by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def recall(self) -> float:
        """Share of the emergencies given the number (either tier)."""
        return self.caught / self.emergencies if self.emergencies else 0.0

    @property
    def false_alarm_share(self) -> float:
        """Share of the look-alikes that raised the full alarm."""
        return self.false_alarms / self.look_alikes if self.look_alikes else 0.0

    @property
    def question_share(self) -> float:
        """Share of the look-alikes asked whether the writer is in danger."""
        return self.questions / self.look_alikes if self.look_alikes else 0.0


def score_emergencies(lines: Sequence[EmergencyLine], predicted: Sequence[str]) -> EmergencyScores:
    """Count emergencies given the number and look-alikes alarmed or asked (see :class:`EmergencyScores`)."""
    pairs = list(zip(lines, predicted))
    missed = Counter(line.style or "unstyled" for line, p in pairs if line.emergency and p not in (EMERGENCY, POSSIBLE))
    alarmed = Counter(line.style or "unstyled" for line, p in pairs if not line.emergency and p == EMERGENCY)
    asked = Counter(line.style or "unstyled" for line, p in pairs if not line.emergency and p == POSSIBLE)
    emergencies = sum(1 for line in lines if line.emergency)
    return EmergencyScores(
        caught=emergencies - sum(missed.values()),
        emergencies=emergencies,
        false_alarms=sum(alarmed.values()),
        look_alikes=len(lines) - emergencies,
        missed_by_style=dict(missed.most_common()),
        alarmed_by_kind=dict(alarmed.most_common()),
        definite=sum(1 for line, p in pairs if line.emergency and p == EMERGENCY),
        questions=sum(asked.values()),
        asked_by_kind=dict(asked.most_common()),
    )


def recorded_gate(doc: Path) -> Optional[float]:
    """The blind-set accuracy recorded in ``docs/nlu.md`` (its ``gate: blind accuracy`` line)."""
    if not doc.exists():
        return None
    match = re.search(r"gate: blind accuracy ([0-9.]+)", doc.read_text(encoding="utf-8"))
    return float(match.group(1)) if match else None


def recorded_emergency_gate(doc: Path) -> Optional[tuple[float, float]]:
    """(emergencies given the number, look-alikes raising the full alarm) recorded in ``docs/nlu.md``."""
    if not doc.exists():
        return None
    match = re.search(r"gate: blind emergencies caught ([0-9.]+), full alarms ([0-9.]+)", doc.read_text(encoding="utf-8"))
    return (float(match.group(1)), float(match.group(2))) if match else None
