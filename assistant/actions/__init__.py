"""Custom Rasa actions, one module per capability; rasa-sdk registers every module of this package."""
