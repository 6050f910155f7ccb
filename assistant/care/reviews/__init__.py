"""Reviews: seniors rate the providers who served them, and complaints reach a person.

Holds :class:`~assistant.care.reviews.reviews.ReviewService` and the provider score that ranks
verified providers (a Bayesian average, so one 5-star review does not beat forty 4.8s).

May import: :mod:`assistant.care.core`, :mod:`assistant.care.bookings` and
:mod:`assistant.care.escalations`.
"""
