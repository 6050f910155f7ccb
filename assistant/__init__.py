"""Conversational assistant for elderly home services."""

__version__ = "0.1.0"
