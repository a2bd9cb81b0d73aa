"""What a flow runs with: configuration, ledger, platform clients (the SDK), report, progress."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from leadbridge.flows.config import WORKERS, Config, ConfigError, LeelooConfig, Section
from leadbridge.flows.engine import FlowReport, claimed, parallel, settle
from leadbridge.flows.ledger import AddResult, Ledger, NewUnit, Unit

if TYPE_CHECKING:
    from rich.progress import Progress

    from leadbridge import Dialog, Leeloo, Neiros

T = TypeVar("T")
S = TypeVar("S", bound=Section)


class ProgressTask:
    """One progress bar (or nothing, when output is not a terminal)."""

    def __init__(self, progress: Progress | None, label: str, total: float | None) -> None:
        self.progress = progress
        self.task = progress.add_task(label, total=total) if progress is not None else None

    def advance(self, n: float = 1) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.advance(self.task, n)

    def total(self, total: float | None) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, total=total)

    def done(self) -> None:
        if self.progress is not None and self.task is not None:
            self.progress.update(self.task, visible=False)

    def track(self, items: Iterable[T]) -> Iterator[T]:
        for item in items:
            yield item
            self.advance()


@dataclass
class FlowContext:
    config: Config
    ledger: Ledger
    dry_run: bool = False
    workers: int = WORKERS
    progress: Progress | None = None
    clients: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _tags: dict[str, str] | None = None
    _user_id: str | None = None
    _user_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def report(self, flow: str) -> FlowReport:
        return FlowReport(flow, dry_run=self.dry_run)

    def bar(self, label: str, total: float | None = None) -> ProgressTask:
        return ProgressTask(self.progress, label, total)

    def now(self) -> datetime:
        return datetime.now(UTC)

    @property
    def parallelism(self) -> int:
        """Worker threads; a ledger of one connection (in-memory SQLite) is worked on by one thread."""
        return 1 if self.ledger.single_connection else self.workers

    # --- platform clients (created on first use, closed by close()) ---------------------

    def _client(self, name: str, section: S | None, make: Callable[[S], T]) -> T:
        """The client of platform ``name``, made from its configuration section on first use."""
        with self._lock:
            if name not in self.clients:
                if section is None:
                    raise ConfigError(f"{name}: section is missing")
                self.clients[name] = make(section)
            client: T = self.clients[name]
            return client

    @property
    def leeloo(self) -> Leeloo:
        from leadbridge import Leeloo

        def make(cfg: LeelooConfig) -> Leeloo:
            settings: dict[str, Any] = {}
            if cfg.rate_limit is not None:  # left out: the SDK's own Leeloo limit applies; false lifts it
                settings["rate_limit"] = cfg.rate_limit or None
            return Leeloo(token=cfg.token.get_secret_value(), base_url=cfg.base_url, timeout=cfg.timeout,
                          max_connections=self.workers + 4, **settings)

        return self._client("leeloo", self.config.leeloo, make)

    @property
    def neiros(self) -> Neiros:
        from leadbridge import Neiros

        return self._client("neiros", self.config.neiros, lambda cfg: Neiros(
            **cfg.credentials(), base_url=cfg.base_url, rate_limit=cfg.rate_limit, timeout=cfg.timeout,
            max_connections=self.workers + 4))

    @property
    def dialog(self) -> Dialog:
        from leadbridge import Dialog

        return self._client("dialog", self.config.dialog, lambda cfg: Dialog(
            **cfg.credentials(), base_url=cfg.base_url, rate_limit=cfg.rate_limit, timeout=cfg.timeout))

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()

    # --- work shared by the flows ---------------------------------------------------------

    def record(self, flow: str, kind: str, units: Sequence[NewUnit], report: FlowReport, *, new: str,
               dry_run: str) -> AddResult | None:
        """Record ``units``, counting those added as ``new``; a dry run records nothing and
        counts the units the ledger does not hold yet as ``dry_run`` (then returns None)."""
        if self.dry_run:
            known = self.ledger.known_keys(flow, kind, [u.key for u in units])
            report.count(dry_run, sum(1 for u in units if u.key not in known))
            return None
        added = self.ledger.add_units(flow, kind, units)
        report.count(new, len(added.added))
        return added

    def settle_claims(self, flow: str, kind: str, label: str, report: FlowReport, process: Callable[[Unit], Any],
                      describe: Callable[[Unit], str], batch: int = 200) -> None:
        """Claim ``flow``'s units of ``kind`` and settle each with ``process``, on the worker threads."""
        bar = self.bar(label)

        def work(unit: Unit) -> str:
            if self.ledger.stopping.is_set():  # queued, not started: Ledger.release_claims hands it back
                return "handed back"
            return settle(self.ledger, unit, report, lambda: process(unit), describe(unit))

        for _ in parallel(claimed(self.ledger, flow, kind, batch), work, self.parallelism, self.ledger.flush):
            bar.advance()
        bar.done()

    # --- lookups shared by the flows ------------------------------------------------------

    def tag_ids(self, names: Sequence[str], key: str) -> dict[str, str]:
        """Leeloo tag name → id; an unknown name is a configuration error naming ``key``."""
        if self._tags is None:
            self._tags = {tag.name: tag.id for tag in self.leeloo.tags.list() if tag.name}
        missing = [name for name in names if name not in self._tags]
        if missing:
            raise ConfigError(f"{key}: no Leeloo tag named {', '.join(repr(m) for m in missing)} "
                              f"(known: {', '.join(sorted(self._tags))})")
        return {name: self._tags[name] for name in names}

    def leeloo_user_id(self) -> str:
        """The Leeloo user recorded on calls: ``leeloo.user_id``, else the account's first user."""
        if self._user_id is not None:
            return self._user_id
        with self._user_lock:  # the workers' first calls ask for it once, not once each
            if self._user_id is not None:
                return self._user_id
            assert self.config.leeloo is not None
            configured = self.config.leeloo.user_id
            if configured:
                self._user_id = configured
            else:
                first = next(iter(self.leeloo.users.list()), None)
                if first is None:
                    raise ConfigError("leeloo.user_id: the account has no users; set it explicitly")
                self._user_id = first.id
        return self._user_id

