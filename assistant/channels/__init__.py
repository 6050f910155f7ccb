"""Rasa input channels: the local browser chat page (``webchat``), Telegram, and the care service's
batches of reminders (``care_push``)."""
