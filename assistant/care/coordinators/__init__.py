"""The coordinators' side: their accounts, joining a senior's chat, and what they review.

Holds coordinators' console accounts and their notes on escalations (``coordinators``), a
coordinator talking in a senior's own chat (``handoffs``), the review list of messages the
assistant was unsure of (``review_list``) and the read-only directory of people, their reminders,
deliveries and escalations (``directory``).

May import: :mod:`assistant.care.core`, :mod:`assistant.care.bookings`,
:mod:`assistant.care.escalations` and :mod:`assistant.care.reminders`.
"""
