"""Rasa input channels: the local browser chat page (``webchat``) and Telegram."""
