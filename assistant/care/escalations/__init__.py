"""Escalations: handing something to a human care coordinator.

Holds :class:`~assistant.care.escalations.escalations.EscalationService`: a request for a person
(an emergency, a complaint, a question the assistant cannot answer, a reminder missed), its
priority and its life cycle until a coordinator closes it. Every capability that can fail a senior
escalates through it.

May import: :mod:`assistant.care.core` and :mod:`assistant.care.bookings`.
"""
