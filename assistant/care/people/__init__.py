"""People: seniors, their relatives and what the assistant keeps about them.

Holds registration and profiles (``people``), dietary needs (``diets``), the family circle and what
relatives may do for a senior (``family``), the invitations that link a relative to a senior
(``invites``) and each chat's own settings, such as spoken replies (``chats``).

May import: :mod:`assistant.care.core` and :mod:`assistant.care.bookings`.
"""
