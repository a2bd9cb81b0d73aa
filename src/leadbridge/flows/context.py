"""What a flow runs with: configuration, ledger, platform clients (the SDK), report, progress."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from leadbridge.flows.config import Config, ConfigError
from leadbridge.flows.engine import FlowReport
from leadbridge.flows.ledger import Ledger

if TYPE_CHECKING:
    from rich.progress import Progress

    from leadbridge import Dialog, Leeloo, Neiros

T = TypeVar("T")


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
    workers: int = 8
    progress: Progress | None = None
    clients: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _tags: dict[str, str] | None = None
    _user_id: str | None = None

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

    @property
    def leeloo(self) -> Leeloo:
        from leadbridge import Leeloo

        with self._lock:
            if "leeloo" not in self.clients:
                cfg = self.config.leeloo
                if cfg is None:
                    raise ConfigError("leeloo: section is missing")
                token, connections = cfg.token.get_secret_value(), self.workers + 4
                if cfg.rate_limit is None:  # left out of the config: the SDK's own Leeloo limit applies
                    made = Leeloo(token=token, base_url=cfg.base_url, timeout=cfg.timeout,
                                  max_connections=connections)
                else:  # false lifts the limit
                    made = Leeloo(token=token, base_url=cfg.base_url, timeout=cfg.timeout,
                                  max_connections=connections, rate_limit=cfg.rate_limit or None)
                self.clients["leeloo"] = made
            client: Leeloo = self.clients["leeloo"]
            return client

    @property
    def neiros(self) -> Neiros:
        from leadbridge import Neiros

        with self._lock:
            if "neiros" not in self.clients:
                cfg = self.config.neiros
                if cfg is None:
                    raise ConfigError("neiros: section is missing")
                if cfg.token is not None:
                    client = Neiros(token=cfg.token.get_secret_value(), base_url=cfg.base_url,
                                    rate_limit=cfg.rate_limit, timeout=cfg.timeout, max_connections=self.workers + 4)
                else:
                    assert cfg.email is not None and cfg.password is not None
                    client = Neiros(email=cfg.email, password=cfg.password.get_secret_value(), base_url=cfg.base_url,
                                    rate_limit=cfg.rate_limit, timeout=cfg.timeout, max_connections=self.workers + 4)
                self.clients["neiros"] = client
            neiros: Neiros = self.clients["neiros"]
            return neiros

    @property
    def dialog(self) -> Dialog:
        from leadbridge import Dialog

        with self._lock:
            if "dialog" not in self.clients:
                cfg = self.config.dialog
                if cfg is None:
                    raise ConfigError("dialog: section is missing")
                if cfg.token is not None:
                    client = Dialog(token=cfg.token.get_secret_value(), base_url=cfg.base_url,
                                    rate_limit=cfg.rate_limit, timeout=cfg.timeout)
                else:
                    assert cfg.login is not None and cfg.password is not None
                    client = Dialog(login=cfg.login, password=cfg.password.get_secret_value(), base_url=cfg.base_url,
                                    rate_limit=cfg.rate_limit, timeout=cfg.timeout)
                self.clients["dialog"] = client
            dialog: Dialog = self.clients["dialog"]
            return dialog

    def close(self) -> None:
        for client in self.clients.values():
            client.close()
        self.clients.clear()

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
        if self._user_id is None:
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

