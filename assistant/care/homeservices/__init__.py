"""Home services: cleaning, laundry, repairs and hairdressing booked with a verified provider.

Holds the home-service booking service (``homeservices``), the words people use for services and
times (``service_words``: "hoovering" is cleaning, "Friday morning" a window) and the search for
free visits, ranked, with the nearest alternatives (``slot_search``).

May import: :mod:`assistant.care.core`, :mod:`assistant.care.bookings`,
:mod:`assistant.care.escalations`, :mod:`assistant.care.people`, :mod:`assistant.care.reviews` and
:mod:`assistant.care.registry`.
"""
