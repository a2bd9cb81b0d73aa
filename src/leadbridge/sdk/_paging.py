"""Page objects and the pagers that walk them (Leeloo: limit/offset; Neiros: page numbers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

from leadbridge.sdk._core import Operation, PageLike, Pager

T = TypeVar("T")


@dataclass(frozen=True)
class _Items(Generic[T]):
    """What every page is: a sequence of its ``items``."""

    items: list[T]

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self.items[index]


@dataclass(frozen=True)
class Page(_Items[T]):
    """One page of a Leeloo list: ``items`` plus the ``meta`` block.

    ``total`` is the number of records matching the filter (``meta.totalCount``),
    ``filtered_count`` the number in this page (``meta.filteredCount``).
    """

    total: int
    limit: int
    offset: int
    filtered_count: int | None = None

    @property
    def has_more(self) -> bool:
        return bool(self.items) and self.offset + len(self.items) < self.total


@dataclass(frozen=True)
class NumberedPage(_Items[T]):
    """One page of a Neiros list: ``items``, this ``page``, the ``last_page`` number and ``total``."""

    page: int
    last_page: int
    total: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def has_more(self) -> bool:
        return self.page < self.last_page


def offset_pager(
    page_at: Callable[[int, int], Operation[Page[T]]], *, page_size: int, concurrency: int = 1
) -> Pager[T]:
    """Walk a limit/offset list: the first page gives the total, so the rest can be fetched at once."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")

    def plan(first: Page[T]) -> list[Operation[PageLike[T]]]:
        step = first.limit or page_size
        start = first.offset + step
        return [page_at(offset, step) for offset in range(start, first.total, step)]  # type: ignore[misc]

    def follow(last: Page[T]) -> Operation[PageLike[T]] | None:
        # Only when the list grew past what the first page announced.
        if last.has_more and len(last.items) == (last.limit or page_size):
            return page_at(last.offset + len(last.items), last.limit or page_size)  # type: ignore[return-value]
        return None

    return Pager(first=page_at(0, page_size), plan=plan, follow=follow,  # type: ignore[arg-type]
                 concurrency=concurrency)


def numbered_pager(page_at: Callable[[int], Operation[NumberedPage[T]]], *, concurrency: int = 1) -> Pager[T]:
    """Walk a numbered list (1, 2, … ``last_page``)."""

    def plan(first: NumberedPage[T]) -> list[Operation[PageLike[T]]]:
        return [page_at(number) for number in range(first.page + 1, first.last_page + 1)]  # type: ignore[misc]

    def follow(last: NumberedPage[T]) -> Operation[PageLike[T]] | None:
        return None

    return Pager(first=page_at(1), plan=plan, follow=follow, concurrency=concurrency)  # type: ignore[arg-type]
