"""Meals: ordering a meal once or on a plan, from providers that suit a senior's diet.

Holds the meal service (``meals``) and the recurrence of meal plans such as "weekdays 12:30"
(``recurrence``).

May import: :mod:`assistant.care.core`, :mod:`assistant.care.bookings`, :mod:`assistant.care.people`
and :mod:`assistant.care.registry`.
"""
