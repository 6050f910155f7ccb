"""Training the Rasa model only when its inputs changed."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from assistant.settings import PROJECT_ROOT

MODEL_NAME = "assistant"
TRAINING_INPUTS = ("config.yml", "domain", "data/nlu", "data/rules", "data/stories", "assistant/nlu")
"""Everything a trained model depends on (our custom NLU components included)."""


def models_dir(root: Path = PROJECT_ROOT) -> Path:
    """Where trained models live (never committed)."""
    return root / "models"


def model_path(root: Path = PROJECT_ROOT) -> Path:
    """The one model the stack serves."""
    return models_dir(root) / f"{MODEL_NAME}.tar.gz"


def fingerprint(root: Path = PROJECT_ROOT) -> str:
    """A hash of everything training reads, plus the Rasa version."""
    import rasa

    digest = hashlib.sha256(f"rasa {rasa.__version__}\n".encode())
    for name in TRAINING_INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()


def _stamp(root: Path) -> Path:
    return models_dir(root) / f"{MODEL_NAME}.fingerprint"


def is_stale(root: Path = PROJECT_ROOT) -> bool:
    """True when the model is missing or was trained on other data."""
    stamp = _stamp(root)
    if not model_path(root).exists() or not stamp.exists():
        return True
    return stamp.read_text().strip() != fingerprint(root)


def train(root: Path = PROJECT_ROOT, force: bool = False) -> bool:
    """Train when stale (or forced). Returns True when a model was trained."""
    if not force and not is_stale(root):
        print(f"Model is up to date: {model_path(root)}")
        return False
    models_dir(root).mkdir(exist_ok=True)
    trained_on = fingerprint(root)  # taken first: files edited during training make the model stale
    print("Training the Rasa model (a few minutes on 2 cores)...", flush=True)
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", "config.yml", "--domain", "domain", "--data", "data",
        "--out", str(models_dir(root)), "--fixed-model-name", MODEL_NAME, "--force",
    ]
    subprocess.run(command, cwd=root, check=True)
    _stamp(root).write_text(trained_on + "\n")
    return True
