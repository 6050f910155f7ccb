"""People: seniors, their relatives and what the assistant keeps about them.

Holds registration and profiles (``people``), dietary needs (``diets``), the family circle and what
relatives may do for a senior (``family``) and the invitations that link a relative to a senior
(``invites``).

May import: :mod:`assistant.care.core` and :mod:`assistant.care.bookings`.
"""
