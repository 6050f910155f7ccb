"""Bookings: the one record of every order a senior places, a meal or a home-service visit.

Holds :class:`~assistant.care.bookings.bookings.BookingService` and the life cycle shared by meals
and home services (``requested -> confirmed -> assigned -> in_progress -> done``, or cancelled).
Meals and home services create bookings; people, escalations, reviews and the coordinators read them.

May import: :mod:`assistant.care.core` only.
"""
