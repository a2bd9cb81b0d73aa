"""Incremental cursors kept in dlt's resource state (committed only with a successful load)."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime
from typing import Any


class Watermark:
    """The newest value of a date seen so far, and the ids that carried exactly that value.

    The APIs' date filters are inclusive (``from`` = at or after), so the next run asks
    from the watermark and drops what it already loaded: records at the watermark whose
    id was seen, and anything older. Records without the date are always kept (the API
    returned them, and nothing tells whether they changed).
    """

    def __init__(self, state: MutableMapping[str, Any], key: str) -> None:
        self._state = state
        self._key = key
        saved = state.get(key) or {}
        self.since: datetime | None = datetime.fromisoformat(saved["value"]) if saved.get("value") else None
        self._seen: set[str] = set(saved.get("ids") or ())
        self._newest = self.since
        self._newest_ids: set[str] = set(self._seen)

    def keep(self, moment: datetime | None, record_id: str) -> bool:
        """Whether a record is new or changed since the last run; notes it for the next one."""
        if moment is None:
            return True
        since = self.since
        if since is not None and (moment < since or (moment == since and record_id in self._seen)):
            return False
        newest = self._newest
        if newest is None or moment > newest:
            self._newest, self._newest_ids = moment, {record_id}
        elif moment == newest:
            self._newest_ids.add(record_id)
        return True

    def save(self) -> None:
        """Store the watermark; call once every record of the run went through :meth:`keep`."""
        if self._newest is not None:
            self._state[self._key] = {"value": self._newest.isoformat(), "ids": sorted(self._newest_ids)}
