"""A Rasa NLU component that decides, last in the pipeline, whether a message is an emergency.

Two tiers (:mod:`assistant.care.safety.alarm_tiers`): a *definite* emergency becomes the ``emergency``
intent (the full alarm at once); a *possible* one becomes ``possible_emergency`` (the number, and
"are you hurt or in danger right now?"); a classifier guess of ``emergency`` that is neither gives
way to its next guess, or to ``nlu_fallback`` when that is unsure.

Every emergency message, definite or possible, also gets the ``emergency_number``
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

from assistant.care.safety.alarm_tiers import DEFINITE, POSSIBLE, alarm_tier
from assistant.settings import load_settings

NUMBER_ENTITY = "emergency_number"
POSSIBLE_INTENT = "possible_emergency"
FALLBACK = "nlu_fallback"
FALLBACK_THRESHOLD = 0.35
"""As the FallbackClassifier's in config.yml: a demoted guess below it becomes ``nlu_fallback``."""


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
        """Give each message its emergency tier, and each emergency the number to call."""
        for message in messages:
            text = message.get(TEXT) or ""
            ranking = list(message.get(INTENT_RANKING_KEY) or [])
            tier = alarm_tier(text, ranking)
            message.set("emergency_chance", round(tier.chance, 4), add_to_output=True)
            if tier.level == DEFINITE:
                self._mark(message, "emergency", ranking, tier.sign)
            elif tier.level == POSSIBLE:
                self._mark(message, POSSIBLE_INTENT, ranking, tier.sign)
            elif (message.get(INTENT) or {}).get(INTENT_NAME_KEY) == "emergency":
                self._demote(message, ranking)
            if (message.get(INTENT) or {}).get(INTENT_NAME_KEY) in ("emergency", POSSIBLE_INTENT):
                self._add_number(message)
        return messages

    @staticmethod
    def _mark(message: Message, name: str, ranking: List[Dict[str, Any]], sign: Any) -> None:
        intent = {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: 1.0}
        rest = [r for r in ranking if r.get(INTENT_NAME_KEY) not in (name, FALLBACK)]
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [intent, *rest], add_to_output=True)
        if sign:
            message.set("emergency_sign", sign, add_to_output=True)

    @staticmethod
    def _demote(message: Message, ranking: List[Dict[str, Any]]) -> None:
        """The classifier's ``emergency`` was not an emergency after all: its next guess, if sure enough."""
        rest = [r for r in ranking if r.get(INTENT_NAME_KEY) not in ("emergency", FALLBACK)]
        if rest and float(rest[0].get(PREDICTED_CONFIDENCE_KEY) or 0.0) >= FALLBACK_THRESHOLD:
            intent = dict(rest[0])
        else:
            intent = {INTENT_NAME_KEY: FALLBACK, PREDICTED_CONFIDENCE_KEY: FALLBACK_THRESHOLD}
            rest = [intent, *rest]
        message.set(INTENT, intent, add_to_output=True)
        message.set(INTENT_RANKING_KEY, rest, add_to_output=True)

    def _add_number(self, message: Message) -> None:
        entities = [e for e in message.get(ENTITIES) or [] if e.get(ENTITY_ATTRIBUTE_TYPE) != NUMBER_ENTITY]
        entities.append({
            ENTITY_ATTRIBUTE_TYPE: NUMBER_ENTITY, ENTITY_ATTRIBUTE_VALUE: self.number,
            EXTRACTOR: type(self).__name__,
        })
        message.set(ENTITIES, entities, add_to_output=True)
