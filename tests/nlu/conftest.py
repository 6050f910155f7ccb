"""The trained model, loaded once for the NLU tests that read its predictions."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Iterable, Iterator

import pytest

from assistant.training import model_path


@pytest.fixture(scope="session")
def parse_all() -> Iterator[Callable[[Iterable[str]], list[dict[str, Any]]]]:
    """Whole parse results of texts, by the trained model (the pipeline Rasa serves)."""
    from rasa.core.agent import Agent

    from benchmarks.nlu import quiet_rasa

    assert model_path().exists(), "no trained model: `make test` trains it first"
    quiet_rasa()
    agent = Agent.load(str(model_path()))

    async def run(texts: list[str]) -> list[dict[str, Any]]:
        return [await agent.parse_message(t) for t in texts]

    yield lambda texts: asyncio.run(run(list(texts)))


@pytest.fixture(scope="session")
def parse(parse_all: Callable[[Iterable[str]], list[dict[str, Any]]]) -> Callable[[Iterable[str]], list[str]]:
    """Intent names of texts, by the trained model."""
    return lambda texts: [(p.get("intent") or {}).get("name") or "" for p in parse_all(texts)]
