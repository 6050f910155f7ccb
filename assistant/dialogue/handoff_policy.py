"""A Rasa policy that keeps the assistant silent while a care coordinator talks in the chat.

When a coordinator joins a conversation, ``action_handoff_started`` sets the slot
``handoff_by``. From then on, after each user message this policy predicts ``action_listen``
(say nothing, wait) with full confidence and a priority above the rules, so the messages
stay in the transcript for the coordinator and the assistant does not talk over them.

It steps aside, so the usual rules answer, for:

- an emergency (the ``emergency`` intent, which the safety net sets on any emergency sign):
  help is given at once even while a person is in the chat;
- the care service's ``EXTERNAL_...`` intents: the coordinator's own messages, the hand-back,
  reminders and alerts still reach the user.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

HANDOFF_SLOT = "handoff_by"
PASS_THROUGH_INTENTS = frozenset({"emergency", "restart", "session_start"})
EXTERNAL_PREFIX = "EXTERNAL_"
DEFAULT_PRIORITY = 7
"""Above RulePolicy's 6: while a person holds the chat, this decides (when it does not abstain)."""


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False)
class HandoffPolicy(Policy):
    """Predicts ``action_listen`` after user messages while ``handoff_by`` is set; abstains otherwise."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Only the priority is configurable."""
        return {"priority": DEFAULT_PRIORITY}

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Nothing to learn."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Listen (stay silent) after a user's message while a coordinator holds the chat."""
        if self.holds(tracker):
            return self._prediction(self._listen(domain))
        return self._prediction(self._default_predictions(domain))

    @staticmethod
    def holds(tracker: DialogueStateTracker) -> bool:
        """Whether the next action should be silence: held chat, right after an ordinary user message."""
        if not tracker.get_slot(HANDOFF_SLOT):
            return False
        if tracker.latest_action_name != ACTION_LISTEN_NAME or tracker.latest_message is None:
            return False
        intent = (tracker.latest_message.intent or {}).get("name") or ""
        return intent not in PASS_THROUGH_INTENTS and not intent.startswith(EXTERNAL_PREFIX)

    @staticmethod
    def _listen(domain: Domain) -> List[float]:
        scores = [0.0] * domain.num_actions
        scores[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return scores

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "HandoffPolicy":
        """Nothing was persisted: build it from its config."""
        return cls(config, model_storage, resource, execution_context)
