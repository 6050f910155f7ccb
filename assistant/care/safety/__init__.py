"""Safety: emergencies recognised in what people write, and the alarm raised.

Holds the safety net's rules (``safety``: signs of an emergency happening now, and mentions that are
past, hypothetical, informational or purchases), misspelled emergency words (``fuzzy_words``), the
two alarm tiers (``alarm_tiers``), the emergency record and who is told (``emergencies``) and the
"are you hurt or in danger right now?" question (``danger_checks``).

May import: :mod:`assistant.care.core`, :mod:`assistant.care.escalations` and
:mod:`assistant.care.people`.
"""
