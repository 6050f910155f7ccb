"""The shared core of the care domain: what every capability stands on.

Holds the database (engine, sessions, migrations), the ORM models and column types, the clock,
the errors whose messages a senior may read, the fixed vocabulary, the audit trail, the
notification outbox, input validation, frozen views, the service lock and the reading of times
in people's words (``timeparse``).

May import: nothing else of :mod:`assistant.care` (the capabilities import the core, never the
other way round). Never imports Rasa or rasa-sdk.
"""
