"""The pretrained sentence features and the intent classifier over them, with Rasa's own pipeline parts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from assistant.nlu.sentence_classifier import ARRAYS, SentenceIntentClassifier
from assistant.nlu.sentence_features import SentenceEmbeddingFeaturizer, SentenceEncoder

TRAINING = {
    "order_meal": ["I'd like lunch delivered tomorrow", "can I order a hot dinner for tonight",
                   "please send me a meal at noon", "I want soup and a sandwich brought round"],
    "book_home_service": ["can someone clean my kitchen on friday", "I need a cleaner next week",
                          "please send somebody to hoover the house", "my windows need washing, can you book it"],
    "thank": ["thank you so much", "thanks love", "that's very kind of you", "cheers"],
}


def context(name: str) -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name=name)


def test_sentence_vectors_are_normalised_and_paraphrases_are_close() -> None:
    vectors = SentenceEncoder.shared().encode(
        ["I have fallen and cannot get up", "my legs gave way and I'm stuck on the floor", "what time is the football on"]
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_the_classifier_learns_from_the_pipeline_features_and_survives_a_reload(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    counts = CountVectorsFeaturizer.create(
        {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 2, "max_ngram": 4},
        storage, Resource("counts"), context("counts"),
    )
    sentences = SentenceEmbeddingFeaturizer.create({}, storage, Resource("sentences"), context("sentences"))
    data = TrainingData([Message.build(text, intent) for intent, texts in TRAINING.items() for text in texts])
    tokenizer.process_training_data(data)
    counts.train(data)
    counts.process_training_data(data)
    sentences.process_training_data(data)
    classifier = SentenceIntentClassifier.create({}, storage, Resource("classifier"), context("classifier"))
    classifier.train(data)

    def classify(model: SentenceIntentClassifier, text: str) -> Message:
        message = Message.build(text)
        tokenizer.process([message])
        counts.process([message])
        sentences.process([message])
        model.process([message])
        return message

    said = classify(classifier, "could somebody come round and do my cleaning")
    assert said.get("intent")["name"] == "book_home_service"
    assert [r["name"] for r in said.get("intent_ranking")][:1] == ["book_home_service"]
    assert abs(sum(r["confidence"] for r in said.get("intent_ranking")) - 1.0) < 1e-6

    with storage.read_from(Resource("classifier")) as folder:
        assert (folder / ARRAYS).exists()
        np.load(folder / ARRAYS, allow_pickle=False)  # plain arrays: nothing pickled
    reloaded = SentenceIntentClassifier.load({}, storage, Resource("classifier"), context("classifier"))
    again = classify(reloaded, "could somebody come round and do my cleaning")
    assert again.get("intent") == said.get("intent")
    assert classify(reloaded, "thank you ever so much").get("intent")["name"] == "thank"


def test_an_untrained_classifier_leaves_messages_alone(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    classifier = SentenceIntentClassifier.load({}, storage, Resource("missing"), context("missing"))
    message = Message.build("hello")
    classifier.process([message])
    assert message.get("intent") is None


def test_a_message_without_text_gets_no_sentence_features(tmp_path: Path) -> None:
    featurizer = SentenceEmbeddingFeaturizer.create({}, LocalModelStorage(tmp_path), Resource("s"), context("s"))
    empty, spoken = Message.build(""), Message.build("hello there")
    featurizer.process([empty, spoken])
    assert empty.features == []
    assert [f.type for f in spoken.features] == ["sentence"] and spoken.features[0].features.shape == (1, 384)


def test_the_featurizer_reads_misspellings_with_the_words_it_was_trained_on(tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    featurizer = SentenceEmbeddingFeaturizer.create({}, storage, Resource("sentences"), context("sentences"))
    data = TrainingData([Message.build(text, intent) for intent, texts in TRAINING.items() for text in texts])
    featurizer.train(data)
    reloaded = SentenceEmbeddingFeaturizer.load({}, storage, Resource("sentences"), context("sentences"))

    def vector(model: SentenceEmbeddingFeaturizer, text: str) -> np.ndarray:
        message = Message.build(text)
        model.process([message])
        return message.features[0].features[0]

    typed, meant = "can I ordr lunch for tomorow", "can I order lunch for tomorrow"
    assert np.allclose(vector(reloaded, typed), vector(reloaded, meant), atol=1e-5)
    untrained = SentenceEmbeddingFeaturizer.load({}, storage, Resource("never-trained"), context("other"))
    assert not np.allclose(vector(untrained, typed), vector(untrained, meant), atol=1e-3)
