"""A Rasa NLU component that turns any message with an emergency sign into the `emergency` intent.

Every emergency message (caught here or by the classifier) also gets the ``emergency_number``
entity, which fills the slot of the same name: ``utter_emergency_call`` then says the configured
number from Rasa alone, before the custom action runs, so a stopped action server never holds it back.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import (
    ENTITIES,
    ENTITY_ATTRIBUTE_TYPE,
    ENTITY_ATTRIBUTE_VALUE,
    EXTRACTOR,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

from assistant.care.safety import emergency_sign
from assistant.settings import load_settings

NUMBER_ENTITY = "emergency_number"


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
        return cls(load_settings().emergency_number)

    def __init__(self, number: str = "112") -> None:
        self.number = number

    def process(self, messages: List[Message]) -> List[Message]:
        """Mark messages describing an emergency, and give each emergency the number to call."""
        for message in messages:
            text = message.get(TEXT) or ""
            sign = emergency_sign(text)
            if sign is not None:
                self._mark(message, sign)
            if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == "emergency":
                self._add_number(message)
        return messages

    @staticmethod
    def _mark(message: Message, sign: str) -> None:
        intent = {INTENT_NAME_KEY: "emergency", PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get(INTENT_NAME_KEY) != "emergency"]
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [intent, *ranking], add_to_output=True)
        message.set("emergency_sign", sign, add_to_output=True)

    def _add_number(self, message: Message) -> None:
        entities = [e for e in message.get(ENTITIES) or [] if e.get(ENTITY_ATTRIBUTE_TYPE) != NUMBER_ENTITY]
        entities.append({
            ENTITY_ATTRIBUTE_TYPE: NUMBER_ENTITY, ENTITY_ATTRIBUTE_VALUE: self.number,
            EXTRACTOR: type(self).__name__,
        })
        message.set(ENTITIES, entities, add_to_output=True)
