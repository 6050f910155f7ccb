"""Privacy: everything we hold about a person, to show them, hand them and delete.

Holds the search for every stored row about one person (``records``), found from the schema's
foreign keys and conversation ids rather than a list of tables, so that a table added later is
covered without a change; deleting them, keeping anonymised only what a provider's accounts need
(``forget``); and the service the chat calls (``service``).

May import: :mod:`assistant.care.core` and :mod:`assistant.care.people` (to tell relatives a link
has ended).
"""
