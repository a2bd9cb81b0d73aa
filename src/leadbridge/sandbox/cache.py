"""What the sandbox derives from its data and keeps between requests, dropped by what a write changed.

Every derived value (a COUNT, the deep-page anchors of a list, a rendered page, the
company's API user) lives in one :class:`CompanyCache` per company, under
:class:`Caches` (``Sandbox.caches``), with the tables it was read from. A write reports
what it changed as a :class:`Change` — the tables whose rows were inserted or deleted,
and those whose rows were updated — and the cache drops only what was read from those:
a message sent (a row added to ``leeloo_message``, two rows updated) leaves the people
count and the people list's anchors in place, since neither the set nor the order of
people changed. A write may also name the rows it added (:meth:`Change.note_added`); a value
that can take them in (``on_append``: the people count adds them, the anchors stay while the
new ids come after the last anchor) is then kept, updated, instead of read again.

Rendered pages are dropped on every write of their company: they show almost every column.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

MAX_CACHED_PAGES = 4096  # rendered pages per company; the page cache starts afresh beyond this
MAX_VALUES = 65_536  # derived values per company, likewise (a client asking for ever new filters)
# Tables only seeding writes (a reset seeds them again, alike): a value read from these alone,
# such as the company's API user, stays true whatever any process serving the database writes.
SEEDED_ONLY = frozenset({"leeloo_user", "leeloo_offer", "leeloo_payment_credits", "leeloo_tunnel_block"})


@dataclass
class Change:
    """What one transaction changed: table names."""

    rows: set[str] = field(default_factory=set)  # rows inserted or deleted
    values: set[str] = field(default_factory=set)  # rows updated
    inserts: dict[str, int] = field(default_factory=dict)  # INSERT statements (or objects added) per table
    removed: set[str] = field(default_factory=set)  # rows deleted
    added_ids: dict[str, list[str]] = field(default_factory=dict)  # the rows added that the writer named

    def add(self, verb: str, table: str) -> None:
        if verb == "UPDATE":
            self.values.add(table)
            return
        self.rows.add(table)
        if verb == "INSERT":
            self.inserts[table] = self.inserts.get(table, 0) + 1
        else:
            self.removed.add(table)

    def note_added(self, table: str, row_id: str) -> None:
        """The write inserted this row (one INSERT of one row) into ``table``."""
        self.added_ids.setdefault(table, []).append(row_id)

    def appended(self, table: str) -> list[str] | None:
        """The ids of the rows added to ``table``, if the writer named every one (as many as its
        INSERTs there: a statement of several rows makes a mismatch) and removed none."""
        ids = self.added_ids.get(table)
        if ids is None or table in self.removed or len(ids) != self.inserts.get(table, 0):
            return None
        return ids

    def __bool__(self) -> bool:
        return bool(self.rows or self.values)


@dataclass(frozen=True)
class _Entry:
    value: Any
    rows_of: frozenset[str]  # its value changes when rows are added to or removed from these
    values_of: frozenset[str]  # ... or when any row of these changes
    on_append: OnAppend | None = None  # the value after rows were added to its one table of rows_of


# A kept value and the ids of rows added to the table it was read from -> the value now, or
# None when it has to be read again.
OnAppend = Callable[[Any, list[str]], Any]


class CompanyCache:
    """One company's derived values and rendered pages."""

    def __init__(self) -> None:
        self.pages: dict[Hashable, bytes] = {}
        self._values: dict[Hashable, _Entry] = {}

    def get(self, key: Hashable) -> Any:
        entry = self._values.get(key)
        return None if entry is None else entry.value

    def put(self, key: Hashable, value: Any, *, rows_of: Iterable[str] = (), values_of: Iterable[str] = (),
            on_append: OnAppend | None = None) -> Any:
        """Keep ``value`` until a write adds or removes rows of ``rows_of`` or changes any row of
        ``values_of``; returns it. With ``on_append`` (and one table in ``rows_of``), a write that
        named every row it added there updates the value instead."""
        if len(self._values) >= MAX_VALUES:
            self._values.clear()
        self._values[key] = _Entry(value, frozenset(rows_of), frozenset(values_of), on_append)
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
        for key, entry in list(self._values.items()):
            if entry.values_of & changed:
                del self._values[key]
            elif entry.rows_of & change.rows:
                value = _appended(entry, change)
                if value is None:
                    del self._values[key]
                else:
                    self._values[key] = _Entry(value, entry.rows_of, entry.values_of, entry.on_append)

    def keep_seeded_only(self) -> None:
        """Drop every page and every value read from a table some request may write."""
        self.pages.clear()
        self._values = {key: entry for key, entry in self._values.items()
                        if entry.rows_of | entry.values_of and entry.rows_of | entry.values_of <= SEEDED_ONLY}

    def __len__(self) -> int:
        return len(self._values) + len(self.pages)


def _appended(entry: _Entry, change: Change) -> Any:
    """The entry's value with the rows ``change`` added taken in, or None."""
    if entry.on_append is None or len(entry.rows_of) != 1:
        return None
    (table,) = entry.rows_of
    ids = change.appended(table)
    return None if ids is None else entry.on_append(entry.value, ids)


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
