"""Understanding measured blind, side by side in one run: ``python -m benchmarks.nlu`` (``make nlu-report``).

Trains four models on the same ``data/nlu/``: the project's pipeline (``config.yml``), the project's
pipeline before issue 23 (DIET, to time parsing beside it), Rasa's default ``rasa init`` pipeline, and
TF-IDF + logistic regression (scikit-learn); scores each on the blind intent
set (``../shared/data/blind/intents.yml``) and on the NLU-Evaluation-Data (wrong flows started by
out-of-domain lines, false emergencies); times parsing and training; writes ``docs/nlu.md`` with the
tables and a confusion-matrix picture of the project's model.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional, Sequence

from benchmarks.nlu_scoring import (
    BLIND_EMERGENCIES,
    BLIND_INTENTS,
    NLU_EVALUATION,
    PROJECT_ROOT,
    IntentScores,
    OutOfDomainScores,
    EmergencyScores,
    read_emergency_set,
    read_nlu_evaluation,
    read_nlu_yaml,
    read_training_data,
    score_emergencies,
    score_intents,
    score_out_of_domain,
)

CONFIGS = Path(__file__).resolve().parent / "configs"
DOC = PROJECT_ROOT / "docs" / "nlu.md"
PICTURE = PROJECT_ROOT / "docs" / "nlu-confusion.png"
TRIED = Path(__file__).resolve().parent / "nlu_tried.md"

BEFORE = "project pipeline before issue 23 (DIET)"
"""Not a peer: today's pipeline is timed beside it (parse p50 at most twice its)."""

Predict = Callable[[Sequence[str]], tuple[list[str], list[float]]]
"""Predicts intents for texts; also returns the seconds each prediction took."""


@dataclass
class Result:
    """One model's figures."""

    name: str
    train_seconds: float
    blind: IntentScores
    ood: Optional[OutOfDomainScores]
    parse_p50_ms: float
    memory_mb: float
    emergencies: Optional[EmergencyScores] = None


def train_rasa_nlu(config: Path, out: Path, name: str) -> tuple[Path, float]:
    """Train an NLU-only Rasa model on ``data/nlu`` from scratch; returns its path and the seconds it took.

    Rasa's training cache (``.rasa/cache``) would restore components trained in an earlier run and
    report seconds instead of minutes: each training gets an empty cache of its own.
    """
    with tempfile.TemporaryDirectory(prefix="nlu-cache-") as cache:
        start = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "rasa", "train", "nlu", "--config", str(config), "--nlu", "data/nlu",
             "--out", str(out), "--fixed-model-name", name],
            cwd=PROJECT_ROOT, check=True, stdout=subprocess.DEVNULL,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_CACHE_DIRECTORY": cache},
        )
        return out / f"{name}.tar.gz", time.monotonic() - start


def quiet_rasa() -> None:
    """Keep Rasa's per-message debug logging out of the report's output."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    logging.getLogger("rasa").setLevel(logging.WARNING)
    configure_structlog(logging.WARNING)


def rasa_predictor(model: Path) -> Predict:
    """Parse with a trained Rasa model in this process (the whole NLU pipeline, fallback included)."""
    from rasa.core.agent import Agent

    quiet_rasa()

    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()

    async def parse_all(texts: Sequence[str]) -> tuple[list[str], list[float]]:
        intents, seconds = [], []
        for text in texts:
            start = time.perf_counter()
            parsed = await agent.parse_message(text)
            seconds.append(time.perf_counter() - start)
            intents.append((parsed.get("intent") or {}).get("name") or "")
        return intents, seconds

    return lambda texts: loop.run_until_complete(parse_all(texts))


def tfidf_predictor() -> tuple[Predict, float]:
    """TF-IDF word unigrams and bigrams + logistic regression, untuned, trained on ``data/nlu``."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    start = time.monotonic()
    examples = read_training_data(PROJECT_ROOT / "data" / "nlu")
    model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(max_iter=2000))
    model.fit([e.text for e in examples], [e.intent for e in examples])
    trained = time.monotonic() - start

    def predict(texts: Sequence[str]) -> tuple[list[str], list[float]]:
        intents, seconds = [], []
        for text in texts:
            t = time.perf_counter()
            intents.append(str(model.predict([text])[0]))
            seconds.append(time.perf_counter() - t)
        return intents, seconds

    return predict, trained


def rss_mb() -> float:
    """This process's peak resident memory so far, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def evaluate(name: str, predict: Predict, train_seconds: float, with_ood: bool, memory_before: float) -> Result:
    """Score one model on the blind set and (optionally) the NLU-Evaluation-Data."""
    blind = read_nlu_yaml(BLIND_INTENTS)
    predicted, seconds = predict([e.text for e in blind])
    scores = score_intents([e.intent for e in blind], predicted)
    ood = None
    if with_ood:
        lines = read_nlu_evaluation(NLU_EVALUATION)
        ood_predicted, more = predict([t for t, _ in lines])
        seconds += more
        ood = score_out_of_domain([m for _, m in lines], ood_predicted)
    emergency_lines = read_emergency_set()
    emergency_predicted, more = predict([line.text for line in emergency_lines])
    seconds += more
    emergencies = score_emergencies(emergency_lines, emergency_predicted)
    print(f"{name}: blind accuracy {scores.accuracy:.3f}, macro-F1 {scores.macro_f1:.3f}"
          + (f"; out-of-domain starting a task {ood.task_share:.1%}, emergencies {ood.emergency_share:.2%}" if ood else "")
          + f"; blind emergencies caught {emergencies.recall:.3f} ({emergencies.definite} at once), look-alikes "
          f"alarmed {emergencies.false_alarm_share:.1%}, asked {emergencies.question_share:.1%}",
          flush=True)
    return Result(name, train_seconds, scores, ood, statistics.median(seconds) * 1000, rss_mb() - memory_before,
                  emergencies)


def confusion_picture(scores: IntentScores, path: Path) -> None:
    """Draw the project's confusion matrix (rows: the right intent; columns: the prediction)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = len(scores.matrix)
    figure, axes = plt.subplots(figsize=(12, 10))
    normalised = [[n / max(1, sum(row)) for n in row] for row in scores.matrix]
    axes.imshow(normalised, cmap="Blues", aspect="auto")
    axes.set_xticks(range(len(scores.labels)))
    axes.set_xticklabels(scores.labels, rotation=90, fontsize=7)
    axes.set_yticks(range(rows))
    axes.set_yticklabels(scores.labels[:rows], fontsize=7)
    for i, row in enumerate(scores.matrix):
        for j, n in enumerate(row):
            if n:
                axes.text(j, i, str(n), ha="center", va="center", fontsize=6,
                          color="white" if normalised[i][j] > 0.5 else "black")
    axes.set_xlabel("predicted")
    axes.set_ylabel("right intent")
    axes.set_title("Project pipeline on the blind intent set")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_doc(results: list[Result], command: str) -> None:
    """Write ``docs/nlu.md``: the side-by-side tables, per-intent figures, confusions and the picture."""
    project = results[0]
    lines = [
        "# Understanding, measured blind",
        "",
        "Generated by `" + command + "` (`make nlu-report`); do not edit the tables by hand.",
        "",
        "All models are trained on the same `data/nlu/` and scored in the same run on",
        "`../shared/data/blind/intents.yml` (725 messages written without seeing our training data; never",
        "trained on) and on the NLU-Evaluation-Data (11,036 real queries for another assistant, CC BY 4.0;",
        "`ambiguous` lines left out). A fallback (`nlu_fallback`) counts as right only for an `out_of_scope`",
        "message, where it leads to the same honest answer. \"Starts a task\": an out-of-domain line predicted",
        "as a booking, an order, a reminder, a complaint, a rating, a profile change or an invitation.",
        "",
        f"Machine: {os.cpu_count()} cores, Linux, Python {sys.version.split()[0]}; run of {time.strftime('%Y-%m-%d')}.",
        "",
        "| model | blind accuracy | blind macro-F1 | fell back | out-of-domain starting a task | full alarm (all lines) | asked \"are you in danger?\" (all lines) | parse p50 | training | memory |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        ood = r.ood
        lines.append(
            f"| {r.name} | {r.blind.accuracy:.3f} | {r.blind.macro_f1:.3f} | {r.blind.fallbacks} | "
            + (f"{ood.task_share:.1%} ({ood.started_task}/{ood.out_of_domain}) | {ood.emergency_share:.2%} ({ood.emergencies}/{ood.lines}) | "
               f"{ood.question_share:.2%} ({ood.questions}/{ood.lines}) | "
               if ood else "– | – | – | ")
            + f"{r.parse_p50_ms:.1f} ms | {r.train_seconds:.0f} s | +{r.memory_mb:.0f} MB |"
        )
    before = next((r for r in results if r.name == BEFORE), None)
    if before is not None and before.parse_p50_ms:
        lines += ["", f"Parse p50 of the project pipeline: {project.parse_p50_ms / before.parse_p50_ms:.2f}x the pipeline "
                  "before issue 23, measured in this run (limit 2x)."]
    peers = [r for r in results[1:] if r.name != BEFORE]
    if peers:
        best = max(peers, key=lambda r: r.blind.accuracy)
        lines += ["", f"Lead on blind accuracy over the best peer ({best.name}): "
                  f"{(project.blind.accuracy - best.blind.accuracy) * 100:+.1f} points."]
    lines += emergency_lines(results)
    lines += [
        "",
        f"gate: blind accuracy {project.blind.accuracy:.3f}",
    ]
    if project.emergencies is not None:
        lines.append(f"gate: blind emergencies caught {project.emergencies.recall:.3f}, "
                     f"full alarms {project.emergencies.false_alarm_share:.3f}")
    lines += [
        "",
        "The test suite fails when the trained model's blind accuracy falls more than one point below the",
        "gate figure above, when fewer blind emergencies get the number or more look-alikes raise the full",
        "alarm than recorded, by more than one line in 150 (`tests/nlu/test_blind_gate.py`).",
        "",
        "## Per intent (project pipeline)",
        "",
        "| intent | precision | recall | F1 | support |" + "".join(f" {r.name} F1 |" for r in results[1:]),
        "|---|---|---|---|---|" + "---|" * len(results[1:]),
    ]
    for intent, (p, rec, f1, n) in sorted(project.blind.per_intent.items(), key=lambda kv: kv[1][2]):
        others = "".join(f" {r.blind.per_intent.get(intent, (0, 0, 0, 0))[2]:.2f} |" for r in results[1:])
        lines.append(f"| {intent} | {p:.2f} | {rec:.2f} | {f1:.2f} | {n} |{others}")
    lines += ["", "## Top confusions (project pipeline)", "", "| right intent | predicted | times |", "|---|---|---|"]
    lines += [f"| {g} | {p} | {n} |" for g, p, n in project.blind.confusions[:15]]
    lines += ["", "![Confusion matrix of the project pipeline](nlu-confusion.png)", ""]
    if TRIED.exists():
        lines += [TRIED.read_text(encoding="utf-8").strip(), ""]
    DOC.write_text("\n".join(lines), encoding="utf-8")


def emergency_lines(results: list[Result]) -> list[str]:
    """The blind emergency set's table: caught emergencies and alarmed look-alikes per model."""
    scored = [r for r in results if r.emergencies is not None]
    if not scored:
        return []
    lines = ["", "## Emergencies, measured blind", "",
             "`../shared/data/blind/emergencies.yml`: 150 emergencies and 150 look-alikes, each parsed alone. An",
             "`emergency` prediction raises the full alarm; `possible_emergency` (the safety net's second tier)",
             "gives the number and asks \"are you hurt or in danger right now?\". An emergency counts as caught",
             "in either tier.", "",
             "| model | emergencies caught (full alarm at once) | look-alikes raising the full alarm | look-alikes asked | missed, by style | full alarms, by kind | asked, by kind |",
             "|---|---|---|---|---|---|---|"]
    for r in scored:
        e = r.emergencies
        missed = ", ".join(f"{style} {n}" for style, n in e.missed_by_style.items()) or "none"
        alarmed = ", ".join(f"{kind} {n}" for kind, n in e.alarmed_by_kind.items()) or "none"
        asked = ", ".join(f"{kind} {n}" for kind, n in e.asked_by_kind.items()) or "none"
        lines.append(f"| {r.name} | {e.recall:.3f} ({e.caught}/{e.emergencies}; {e.definite}) | "
                     f"{e.false_alarm_share:.1%} ({e.false_alarms}/{e.look_alikes}) | "
                     f"{e.question_share:.1%} ({e.questions}/{e.look_alikes}) | {missed} | {alarmed} | {asked} |")
    return lines


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Train, score and write the report."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nlu", description=__doc__)
    parser.add_argument("--no-ood", action="store_true", help="skip the 11,036 NLU-Evaluation-Data lines")
    parser.add_argument("--project-only", action="store_true", help="skip the earlier pipeline and the two peers")
    parser.add_argument("--no-doc", action="store_true", help="print the figures, leave docs/nlu.md as it is")
    args = parser.parse_args(argv)
    for path in (BLIND_INTENTS, BLIND_EMERGENCIES, NLU_EVALUATION):
        if not path.exists():
            print(f"Missing {path}: the shared data must sit beside the repository.", file=sys.stderr)
            return 1
    results = []
    with tempfile.TemporaryDirectory(prefix="nlu-bench-") as scratch:
        out = Path(scratch)
        candidates = [("project pipeline (config.yml)", PROJECT_ROOT / "config.yml")]
        if not args.project_only:
            candidates.append((BEFORE, CONFIGS / "before_issue_23.yml"))
            candidates.append(("Rasa default (rasa init)", CONFIGS / "rasa_default.yml"))
        for index, (name, config) in enumerate(candidates):
            model, seconds = train_rasa_nlu(config, out, f"model{index}")
            before = rss_mb()
            results.append(evaluate(name, rasa_predictor(model), seconds, not args.no_ood, before))
        if not args.project_only:
            before = rss_mb()
            predict, seconds = tfidf_predictor()
            results.append(evaluate("TF-IDF + logistic regression", predict, seconds, not args.no_ood, before))
    if not args.no_doc:
        confusion_picture(results[0].blind, PICTURE)
        write_doc(results, "python -m benchmarks.nlu" + (" " + " ".join(argv or sys.argv[1:])).rstrip())
        print(f"Wrote {DOC.relative_to(PROJECT_ROOT)} and {PICTURE.relative_to(PROJECT_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
