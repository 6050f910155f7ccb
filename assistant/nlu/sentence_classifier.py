"""An intent classifier over sentence-level features: pretrained meaning plus the words themselves.

Logistic regression on, concatenated: the dense sentence vector of
:class:`~assistant.nlu.sentence_features.SentenceEmbeddingFeaturizer` (what a message means, whatever
its words) and each sparse featurizer's sentence-level bag of words or character n-grams, every block
L2-normalised (what it literally says, misspellings included). Measured blind it beat DIET on the
same features (docs/nlu.md): DIET fitted the training phrasing, this generalises to how people write.

The model is stored as plain arrays (coefficients, intercepts, intent names): nothing pickled.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

log = logging.getLogger(__name__)

ARRAYS = "sentence_intent_classifier.npz"


def sentence_vector(message: Message) -> Optional[np.ndarray]:
    """The message's sentence-level features as one row: each featurizer's block L2-normalised.

    Blocks come in the order of the featurizers' names, so every message lines up the same way.
    """
    blocks: list[np.ndarray] = []
    features = sorted(
        (f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE),
        key=lambda f: str(f.origin),
    )
    for feature in features:
        matrix = feature.features
        row = np.asarray(matrix.sum(axis=0)).ravel() if scipy.sparse.issparse(matrix) else np.asarray(matrix).sum(axis=0)
        row = row.astype(np.float64)
        norm = np.linalg.norm(row)
        blocks.append(row / norm if norm else row)
    return np.concatenate(blocks) if blocks else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentenceIntentClassifier(GraphComponent, IntentClassifier):
    """Logistic regression over sentence-level dense and sparse features."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """C: inverse regularisation (chosen by 5-fold cross-validation on the training data)."""
        return {"C": 64.0, "max_iter": 3000, "random_seed": 42}

    def __init__(
        self, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        weights: Optional[np.ndarray] = None, bias: Optional[np.ndarray] = None, intents: Optional[List[str]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._storage = model_storage
        self._resource = resource
        self._weights = weights
        self._bias = bias
        self._intents = intents or []

    @classmethod
    def create(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceIntentClassifier":
        """An untrained classifier."""
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the regression on every training example that has an intent and text."""
        from sklearn.linear_model import LogisticRegression

        rows, labels = [], []
        for example in training_data.intent_examples:
            vector = sentence_vector(example) if example.get(TEXT) else None
            if vector is not None:
                rows.append(vector)
                labels.append(example.get(INTENT))
        if len(set(labels)) < 2:
            log.warning("SentenceIntentClassifier needs at least two intents with examples; not trained")
            return self._resource
        model = LogisticRegression(C=self._config["C"], max_iter=self._config["max_iter"],
                                   random_state=self._config["random_seed"])
        model.fit(np.vstack(rows), labels)
        self._weights, self._bias, self._intents = model.coef_, model.intercept_, [str(c) for c in model.classes_]
        self.persist()
        return self._resource

    def process(self, messages: List[Message]) -> List[Message]:
        """Set the intent and the ranking of each message."""
        for message in messages:
            vector = sentence_vector(message) if self._weights is not None else None
            if vector is None or vector.shape[0] != self._weights.shape[1]:
                continue
            scores = self._weights @ vector + self._bias
            scores = np.exp(scores - scores.max())
            probabilities = scores / scores.sum()
            order = np.argsort(-probabilities)
            ranking = [{INTENT_NAME_KEY: self._intents[i], PREDICTED_CONFIDENCE_KEY: float(probabilities[i])}
                       for i in order[:LABEL_RANKING_LENGTH]]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Nothing to add to training data."""
        return training_data

    def persist(self) -> None:
        """Store the coefficients as arrays (no pickle)."""
        if self._weights is None:
            return
        with self._storage.write_to(self._resource) as folder:
            np.savez(folder / ARRAYS, weights=self._weights, bias=self._bias, intents=np.array(self._intents))

    @classmethod
    def load(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext, **kwargs: Any,
    ) -> "SentenceIntentClassifier":
        """Load the stored coefficients (an untrained classifier when there are none)."""
        try:
            with model_storage.read_from(resource) as folder:
                arrays = np.load(folder / ARRAYS, allow_pickle=False)
                return cls(config, model_storage, resource, arrays["weights"], arrays["bias"],
                           [str(i) for i in arrays["intents"]])
        except (ValueError, FileNotFoundError):
            log.warning("SentenceIntentClassifier has no stored model; it will not classify")
            return cls(config, model_storage, resource)
