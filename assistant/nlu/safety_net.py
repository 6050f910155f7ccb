"""A Rasa NLU component that turns any message with an emergency sign into the `emergency` intent."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from assistant.care.safety import emergency_sign


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EmergencySafetyNet(GraphComponent):
    """Runs last in the pipeline; an emergency sign overrides the classifier (and nlu_fallback)."""

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmergencySafetyNet":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Mark messages describing an emergency."""
        for message in messages:
            text = message.get(TEXT) or ""
            sign = emergency_sign(text)
            if sign is None:
                continue
            intent = {INTENT_NAME_KEY: "emergency", PREDICTED_CONFIDENCE_KEY: 1.0}
            ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != "emergency"]
            message.set(INTENT, intent, add_to_output=True)
            message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
            message.set("emergency_sign", sign, add_to_output=True)
        return messages
