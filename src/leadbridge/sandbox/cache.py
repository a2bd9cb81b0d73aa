"""What the sandbox derives from its data and keeps between requests, dropped by what a write changed.

Every derived value (a COUNT, the deep-page anchors of a list, a rendered page, the
company's API user) lives in one :class:`CompanyCache` per company, under
:class:`Caches` (``Sandbox.caches``), with the tables it was read from. A write reports
what it changed as a :class:`Change` — the tables whose rows were inserted or deleted,
and those whose rows were updated — and the cache drops only what was read from those:
a message sent (a row added to ``leeloo_message``, two rows updated) leaves the people
count and the people list's anchors in place, since neither the set nor the order of
people changed.

Rendered pages are dropped on every write of their company: they show almost every column.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_CACHED_PAGES = 4096  # rendered pages per company; the page cache starts afresh beyond this
MAX_VALUES = 65_536  # derived values per company, likewise (a client asking for ever new filters)
# Tables only seeding writes (a reset seeds them again, alike): a value read from these alone,
# such as the company's API user, stays true whatever any process serving the database writes.
SEEDED_ONLY = frozenset({"leeloo_user"})


@dataclass
class Change:
    """What one transaction changed: table names."""

    rows: set[str] = field(default_factory=set)  # rows inserted or deleted
    values: set[str] = field(default_factory=set)  # rows updated

    def add(self, verb: str, table: str) -> None:
        (self.values if verb == "UPDATE" else self.rows).add(table)

    def __bool__(self) -> bool:
        return bool(self.rows or self.values)


@dataclass(frozen=True)
class _Entry:
    value: Any
    rows_of: frozenset[str]  # its value changes when rows are added to or removed from these
    values_of: frozenset[str]  # ... or when any row of these changes


class CompanyCache:
    """One company's derived values and rendered pages."""

    def __init__(self) -> None:
        self.pages: dict[Hashable, bytes] = {}
        self._values: dict[Hashable, _Entry] = {}

    def get(self, key: Hashable) -> Any:
        entry = self._values.get(key)
        return None if entry is None else entry.value

    def put(self, key: Hashable, value: Any, *, rows_of: Iterable[str] = (), values_of: Iterable[str] = ()) -> Any:
        """Keep ``value`` until a write adds or removes rows of ``rows_of`` or changes any row of
        ``values_of``; returns it."""
        if len(self._values) >= MAX_VALUES:
            self._values.clear()
        self._values[key] = _Entry(value, frozenset(rows_of), frozenset(values_of))
        return value

    def page(self, key: Hashable) -> bytes | None:
        return self.pages.get(key)

    def put_page(self, key: Hashable, body: bytes) -> None:
        if len(self.pages) >= MAX_CACHED_PAGES:
            self.pages.clear()
        self.pages[key] = body

    def invalidate(self, change: Change | None = None) -> None:
        """Drop what ``change`` made stale (everything when None)."""
        if change is None:
            self.pages.clear()
            self._values.clear()
            return
        if not change:
            return
        self.pages.clear()
        changed = change.rows | change.values
        stale = [key for key, entry in self._values.items()
                 if entry.rows_of & change.rows or entry.values_of & changed]
        for key in stale:
            del self._values[key]

    def keep_seeded_only(self) -> None:
        """Drop every page and every value read from a table some request may write."""
        self.pages.clear()
        self._values = {key: entry for key, entry in self._values.items()
                        if entry.rows_of | entry.values_of and entry.rows_of | entry.values_of <= SEEDED_ONLY}

    def __len__(self) -> int:
        return len(self._values) + len(self.pages)


GLOBAL = ""  # the key of values read across companies (the console's list of companies)


class Caches:
    """Every company's :class:`CompanyCache`, and the token → company map."""

    def __init__(self) -> None:
        self._companies: dict[str, CompanyCache] = {}
        # "<kind>:<token or its hash>" -> company id; a token, once issued, keeps its company.
        self.tokens: dict[str, str] = {}

    def of(self, company_id: str) -> CompanyCache:
        """The company's cache, made on first use (every request asks: a hit costs one lookup)."""
        try:
            return self._companies[company_id]
        except KeyError:
            made = self._companies[company_id] = CompanyCache()
            return made

    def drop_derived(self) -> None:
        """Drop every company's values and pages but those read from :data:`SEEDED_ONLY` tables,
        keeping the tokens (they never change company)."""
        for cache in self._companies.values():
            cache.keep_seeded_only()

    def invalidate(self, company_id: str | None = None, change: Change | None = None) -> None:
        """After a write of ``company_id`` (of every company when None) that made ``change``
        (anything at all when None). With neither, everything goes, the tokens too."""
        if company_id is None and change is None:
            self._companies.clear()
            self.tokens.clear()
            return
        targets = list(self._companies.values()) if company_id is None else [
            cache for key in (company_id, GLOBAL) if (cache := self._companies.get(key)) is not None]
        for cache in targets:
            cache.invalidate(change)
