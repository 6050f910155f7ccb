"""Tests for assistant.care.consultation.knowledge: the curated knowledge base and its retriever."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, Optional

import pytest
import yaml

from assistant.care.consultation.knowledge import (
    CONFIDENCE_THRESHOLD,
    DEFAULT_PATHS,
    KnowledgeBase,
    KnowledgeError,
    Match,
    Topic,
    edit_distance,
    normalise,
    stem,
)

HELDOUT = Path(__file__).with_name("knowledge_heldout.yml")
DOSING = re.compile(
    r"\b\d+(?:\.\d+)?\s*(?:mg|mcg|µg|g|ml|iu|units?|milligrams?|micrograms?|grams?|tablets?|pills?|capsules?|"
    r"doses?|puffs?|drops?|spoonfuls?|teaspoons?)\b",
    re.IGNORECASE,
)
"""A number followed by a dose unit: health answers must never contain one."""

GOOD_TOPIC = {
    "id": "legal/example",
    "title": "An example",
    "answer": "General information. This is general information, not a lawyer's advice.",
    "contact": "Citizens Advice",
    "last_reviewed": "2026-11-20",
    "questions": ["how does the example work", "tell me about the example"],
}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return KnowledgeBase.load()


@pytest.fixture(scope="module")
def heldout() -> list[dict[str, Any]]:
    return yaml.safe_load(HELDOUT.read_text())["batches"]


def _write(tmp_path: Path, data: Any, name: str = "kb.yml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def _file(*topics: dict[str, Any], domain: str = "legal") -> dict[str, Any]:
    return {"domain": domain, "topics": list(topics)}


# --- loading and validation ------------------------------------------------------------------------


def test_the_shipped_files_load_with_enough_topics(kb: KnowledgeBase) -> None:
    assert len(kb.topics("legal")) >= 25
    assert len(kb.topics("health")) >= 25
    assert len(kb.topics()) == len(kb.topics("legal")) + len(kb.topics("health"))
    assert all(t.id.startswith(f"{t.domain}/") for t in kb.topics())
    assert kb.topic("legal/power_of_attorney").title == "Lasting power of attorney"


def test_a_good_file_loads_into_frozen_topics(tmp_path: Path) -> None:
    kb = KnowledgeBase.load([_write(tmp_path, _file(GOOD_TOPIC))])
    [topic] = kb.topics()
    assert topic == Topic(
        id="legal/example",
        domain="legal",
        title="An example",
        answer=GOOD_TOPIC["answer"],
        contact="Citizens Advice",
        last_reviewed=date(2026, 11, 20),
    )
    with pytest.raises(AttributeError):
        topic.title = "changed"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"id": "legal/Not Snake"}, "must look like"),
        ({"id": "health/wrong_domain"}, "must look like"),
        ({"title": ""}, "`title` must be non-empty text"),
        ({"answer": 42}, "`answer` must be non-empty text"),
        ({"last_reviewed": "last tuesday"}, "`last_reviewed` must be a date"),
        ({"questions": []}, "`questions` must be a non-empty list"),
        ({"questions": ["fine", None]}, "`questions` must be non-empty text"),
        ({"colour": "blue"}, "unknown keys ['colour']"),
    ],
)
def test_malformed_topics_are_refused_with_the_reason(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    path = _write(tmp_path, _file({**GOOD_TOPIC, **change}))
    with pytest.raises(KnowledgeError, match=re.escape(message)):
        KnowledgeBase.load([path])


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    topic = {k: v for k, v in GOOD_TOPIC.items() if k != "contact"}
    with pytest.raises(KnowledgeError, match=re.escape("missing keys ['contact']")):
        KnowledgeBase.load([_write(tmp_path, _file(topic))])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("domain: legal\ntopics: [unclosed\n", "not valid YAML"),
        ("- just a list\n", "exactly `domain` and `topics`"),
        ({"domain": "cooking", "topics": [GOOD_TOPIC]}, "`domain` must be one of"),
        ({"domain": "legal", "topics": []}, "`topics` must be a non-empty list"),
        ({"domain": "legal", "topics": ["not a mapping"]}, "each topic must be a mapping"),
    ],
)
def test_malformed_files_are_refused(tmp_path: Path, content: Any, message: str) -> None:
    with pytest.raises(KnowledgeError, match=re.escape(message)):
        KnowledgeBase.load([_write(tmp_path, content)])


def test_missing_files_and_duplicate_ids_are_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="cannot read the file"):
        KnowledgeBase.load([tmp_path / "nowhere.yml"])
    with pytest.raises(KnowledgeError, match="no knowledge files"):
        KnowledgeBase.load([])
    first = _write(tmp_path, _file(GOOD_TOPIC), "a.yml")
    second = _write(tmp_path, _file(GOOD_TOPIC), "b.yml")
    with pytest.raises(KnowledgeError, match="'legal/example' is used twice"):
        KnowledgeBase.load([first, second])


def test_an_unknown_domain_is_a_programming_error(kb: KnowledgeBase) -> None:
    with pytest.raises(ValueError, match="domain must be one of"):
        kb.answer("how do i make a will", domain="cooking")


# --- the curated content ---------------------------------------------------------------------------


def test_every_topic_follows_the_editorial_rules(kb: KnowledgeBase) -> None:
    problems = []
    for topic in kb.topics():
        length = len(topic.answer.split())
        if not 60 <= length <= 150:
            problems.append(f"{topic.id}: answer has {length} words")
        if not 6 <= len(topic.questions) <= 10:
            problems.append(f"{topic.id}: {len(topic.questions)} questions")
        if not topic.contact.strip() or not isinstance(topic.last_reviewed, date):
            problems.append(f"{topic.id}: no contact or review date")
        if topic.domain == "legal" and "general information, not a lawyer's advice" not in topic.answer:
            problems.append(f"{topic.id}: no 'general information, not a lawyer's advice'")
    assert problems == []


def test_health_answers_never_give_doses(kb: KnowledgeBase) -> None:
    dosing = {t.id: DOSING.findall(t.answer) for t in kb.topics("health") if DOSING.search(t.answer)}
    assert dosing == {}
    assert DOSING.search("take 500 mg twice a day") and DOSING.search("2 tablets at night")


def test_heldout_questions_are_not_copied_from_the_knowledge_base(
    kb: KnowledgeBase, heldout: list[dict[str, Any]]
) -> None:
    known = {normalise(q) for t in kb.topics() for q in t.questions}
    ids = {t.id for t in kb.topics()}
    asked: dict[str, int] = {}
    for batch in heldout:
        for topic_id, questions in batch["covered"].items():
            assert topic_id in ids
            asked[topic_id] = asked.get(topic_id, 0) + len(questions)
            assert not {normalise(q) for q in questions} & known
        assert not {normalise(q) for q in batch["uncovered"]} & known
    assert set(asked) == ids and min(asked.values()) >= 2
    assert sum(asked.values()) >= 100
    assert sum(len(b["uncovered"]) for b in heldout) >= 30


# --- retrieval quality -----------------------------------------------------------------------------


def _score(kb: KnowledgeBase, batch: dict[str, Any]) -> tuple[int, int, int, int, list[str]]:
    """Correct answers, covered questions, rejected and uncovered questions, and the misses."""
    correct, total, misses = 0, 0, []
    for topic_id, questions in batch["covered"].items():
        for question in questions:
            total += 1
            match = kb.answer(question)
            if match is not None and match.topic.id == topic_id:
                correct += 1
            else:
                misses.append(f"{question!r}: wanted {topic_id}, got {match and match.topic.id}")
    rejected = sum(kb.answer(q) is None for q in batch["uncovered"])
    return correct, total, rejected, len(batch["uncovered"]), misses


def test_heldout_top1_accuracy_and_rejection(kb: KnowledgeBase, heldout: list[dict[str, Any]]) -> None:
    totals = [0, 0, 0, 0]
    print(f"\nknowledge retrieval on {HELDOUT.name} (threshold {CONFIDENCE_THRESHOLD}):")
    for batch in heldout:
        correct, total, rejected, uncovered, misses = _score(kb, batch)
        print(
            f"  batch {batch['batch'].split(':')[0]}: top-1 {correct}/{total} = {correct / total:.1%}, "
            f"uncovered rejected {rejected}/{uncovered} = {rejected / uncovered:.1%}"
        )
        totals = [a + b for a, b in zip(totals, (correct, total, rejected, uncovered))]
    correct, total, rejected, uncovered = totals
    accuracy, rejection = correct / total, rejected / uncovered
    print(f"  all: top-1 {correct}/{total} = {accuracy:.1%}, "
          f"uncovered rejected {rejected}/{uncovered} = {rejection:.1%}")
    assert accuracy >= 0.85
    assert rejection >= 0.80


def test_answers_carry_the_topic_and_a_confidence(kb: KnowledgeBase) -> None:
    match = kb.answer("how do i make a will")
    assert isinstance(match, Match)
    assert match.topic.id == "legal/wills" and match.topic.contact
    assert CONFIDENCE_THRESHOLD <= match.confidence <= 1.0


def test_misspelled_questions_still_match(kb: KnowledgeBase) -> None:
    cases = {
        "how do i rite my wil": "legal/wills",
        "powr of atorny for my mum": "legal/power_of_attorney",
        "shud i get the flu jabb": "health/flu_vaccine",
        "my hearin is gettin wurse": "health/hearing_loss",
        "is this emial from my bank a scamm": "legal/email_text_scams",
        "HOW DO I GET A BLUE BADGE???": "legal/blue_badge",
    }
    got = {q: (m.topic.id if (m := kb.answer(q)) else None) for q in cases}
    assert got == cases


def test_the_domain_narrows_the_search(kb: KnowledgeBase) -> None:
    assert kb.answer("can i get help paying for my heating", domain="legal").topic.domain == "legal"
    health = kb.answer("i feel cold all the time in winter", domain="health")
    assert health is not None and health.topic.domain == "health"
    assert kb.answer("how do i make a will", domain="health") is None


@pytest.mark.parametrize(
    "question",
    ["", "   ", "!!!???", "😀😀😀", "🙏 👍 ❤️", "the and of to", "a" * 5000, "will " * 1000, "x" * 1001],
)
def test_empty_odd_and_huge_inputs_get_no_answer(kb: KnowledgeBase, question: str) -> None:
    assert kb.answer(question) is None
    assert kb.rank(question) == []


def test_rank_orders_by_confidence(kb: KnowledgeBase) -> None:
    ranked = kb.rank("my landlord wants to evict me and put the rent up", limit=3)
    assert len(ranked) == 3
    assert [m.confidence for m in ranked] == sorted((m.confidence for m in ranked), reverse=True)
    assert {m.topic.id for m in ranked[:2]} == {"legal/eviction", "legal/rent_increase"}


# --- text helpers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [("falls", "fall"), ("caring", "care"), ("care", "care"), ("getting", "get"), ("worries", "worry"),
     ("leaving", "leav"), ("leave", "leav"), ("glasses", "glass"), ("bus", "bus"), ("999", "999")],
)
def test_stemmer(word: str, expected: str) -> None:
    assert stem(word) == expected


def test_normalise_and_edit_distance() -> None:
    assert normalise("  My MUM’s   Wiiiiill!! Café ") == "my mums wiill cafe"
    assert edit_distance("atorney", "attorney", 2) == 1
    assert edit_distance("recieve", "receive", 1) == 1
    assert edit_distance("pension", "station", 1) == 2


def _default_paths_exist() -> Optional[str]:
    missing = [str(p) for p in DEFAULT_PATHS if not p.exists()]
    return ", ".join(missing) or None


def test_default_paths_are_the_shipped_files() -> None:
    assert _default_paths_exist() is None
