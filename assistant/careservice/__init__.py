"""The care service: the one long-lived process that delivers reminders and notifications.

It polls the database (reminder deliveries, escalation timers, the notification outbox) with
APScheduler and sends proactive messages through Rasa's ``trigger_intent`` endpoint. It may use
aiohttp, requests and APScheduler but never imports rasa. Start it with
``python -m assistant.careservice`` or ``assistant care-service``.
"""
