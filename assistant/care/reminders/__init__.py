"""Reminders that must be acknowledged: medicines, appointments, anything a senior asks for.

Holds the reminder service (``reminders``), when reminders fall due (``schedules``), delivering them
and noticing the ones nobody acknowledged (``reminder_delivery``) and their frozen views
(``reminder_views``). A missed reminder tells the family and, if need be, a coordinator.

May import: :mod:`assistant.care.core`, :mod:`assistant.care.escalations` and
:mod:`assistant.care.people`.
"""
