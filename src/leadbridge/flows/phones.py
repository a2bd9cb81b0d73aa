"""Phone numbers to E.164 for the flows: the rules are :mod:`leadbridge.phones`, kept outside
this package so that the export shares them without importing the flows (their ledger and
SQLAlchemy: some 20 MB of an export's memory)."""

from leadbridge.phones import Phone, normalise

__all__ = ["Phone", "normalise"]
