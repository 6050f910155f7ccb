"""Rasa dialogue components of our own (policies), named in config.yml."""
