"""Consultation: curated legal-aid and health answers, and the retriever that finds them.

Holds the knowledge base (``knowledge``) read from ``data/knowledge/*.yml``.

May import: :mod:`assistant.care.core` only.
"""
