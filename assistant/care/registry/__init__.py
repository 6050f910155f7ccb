"""The registry of providers: who offers meals and home services, where, when and at what price.

Holds the registry service (``registry``), opening hours (``hours``), the checks on when and where a
provider can serve (``scheduling``), the CSV import of a real registry (``csv_import``) and the demo
data (``seed``).

May import: :mod:`assistant.care.core`, :mod:`assistant.care.people` (diets a provider caters for)
and :mod:`assistant.care.reviews` (provider scores).
"""
