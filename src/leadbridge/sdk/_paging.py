"""Page objects and the pagers that walk them (Leeloo: limit/offset; Neiros: page numbers)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, Generic, TypeVar, overload

from leadbridge.sdk._core import Operation, PageLike, Pager

T = TypeVar("T")


class _Items(Generic[T]):
    """What every page is: a sequence of its ``items``.

    A page is given its items, or a function that reads them (``read``): the models are then
    built when the items are first used, not when the page arrives. A caller who wants only
    ``total`` (or only some pages of a walk) pays nothing for the records; one who reads them
    pays once, and a record that is not the documented one raises
    :class:`leadbridge.errors.ResponseValidationError` there, naming its place in the body.

    A page may also be able to read a stretch of its records (``read_part(start, stop)``):
    :meth:`parts` then builds its models a few at a time, so that a walk does not hold its
    thread for a whole page's models at once. A page read lazily knows its length (``count``)
    without reading its records.
    """

    __slots__ = ("_count", "_items", "_read", "_read_part", "_unreadable")

    def __init__(self, items: list[T] | None = None, *, read: Callable[[], list[T]] | None = None,
                 read_part: Callable[[int, int], list[T]] | None = None, count: int | None = None) -> None:
        if read is None and read_part is not None:
            if count is None:
                raise TypeError("a page read in parts is given its count")
            read = partial(read_part, 0, count)
        if (items is None) == (read is None):
            raise TypeError("a page takes its items or a function reading them, not both")
        self._items = items
        self._read = read
        self._read_part = read_part
        self._count = count
        # Turns a failure of ``read`` into the client's error for this call (see explain_failures).
        self._unreadable: Callable[[Exception], Exception] | None = None

    @property
    def items(self) -> list[T]:
        items = self._items
        if items is None:
            read = self._read
            assert read is not None
            items = self._reading(read)
            # Two threads reading one page at once may both build it: same models, no harm.
            self._items, self._read, self._read_part, self._unreadable = items, None, None, None
        return items

    def parts(self, size: int) -> Iterator[list[T]]:
        """The items in consecutive lists of at most ``size``, each built when it is reached.

        The models of a page read whole are built in one call that keeps its thread (and the
        interpreter lock, or the event loop) until the last record is done; a walk reading a
        page part by part lets the requests of its other pages go on in between.
        """
        read_part, count = self._read_part, self._count
        if self._items is not None or read_part is None or count is None:
            items = self.items
            for start in range(0, len(items), size):
                yield items[start:start + size]
            return
        # The parts are not kept: a walk yields them and drops them, so each part's models are
        # freed when its caller is done with them, before the collector moves them to an older
        # generation (the walk in bench/sdk.py took 3-5% longer with a page's models kept).
        # ``items`` read afterwards builds them again.
        for start in range(0, count, size):
            yield self._reading(partial(read_part, start, min(start + size, count)))

    def _reading(self, read: Callable[[], list[T]]) -> list[T]:
        try:
            return read()
        except (ValueError, LookupError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            if self._unreadable is None:
                raise
            raise self._unreadable(exc) from exc

    def explain_failures(self, unreadable: Callable[[Exception], Exception]) -> None:
        """``unreadable(exc)`` is raised in place of a failure to read the items (the transport
        knows the call they came from)."""
        if self._items is None:
            self._unreadable = unreadable

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        if self._items is None and self._count is not None:
            return self._count
        return len(self.items)

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self.items[index]

    def _fields(self) -> tuple[Any, ...]:
        return (self.items,)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, _Items)
        return self._fields() == other._fields()

    __hash__ = None  # type: ignore[assignment]  # pages hold lists: not hashable


class Page(_Items[T]):
    """One page of a Leeloo list: ``items`` plus the ``meta`` block.

    ``total`` is the number of records matching the filter (``meta.totalCount``),
    ``filtered_count`` the number in this page (``meta.filteredCount``).
    """

    __slots__ = ("filtered_count", "limit", "offset", "total")

    def __init__(self, items: list[T] | None = None, total: int = 0, limit: int = 0, offset: int = 0,
                 filtered_count: int | None = None, *, read: Callable[[], list[T]] | None = None,
                 read_part: Callable[[int, int], list[T]] | None = None, count: int | None = None) -> None:
        super().__init__(items, read=read, read_part=read_part, count=count)
        self.total = total
        self.limit = limit
        self.offset = offset
        self.filtered_count = filtered_count

    @property
    def has_more(self) -> bool:
        return len(self) > 0 and self.offset + len(self) < self.total

    def _fields(self) -> tuple[Any, ...]:
        return (self.items, self.total, self.limit, self.offset, self.filtered_count)

    def __repr__(self) -> str:
        return (f"Page(items={self.items!r}, total={self.total!r}, limit={self.limit!r}, offset={self.offset!r}, "
                f"filtered_count={self.filtered_count!r})")


class NumberedPage(_Items[T]):
    """One page of a Neiros list: ``items``, this ``page``, the ``last_page`` number and ``total``."""

    __slots__ = ("extra", "last_page", "page", "total")

    def __init__(self, items: list[T] | None = None, page: int = 0, last_page: int = 0, total: int = 0,
                 extra: dict[str, Any] | None = None, *, read: Callable[[], list[T]] | None = None) -> None:
        super().__init__(items, read=read)
        self.page = page
        self.last_page = last_page
        self.total = total
        self.extra: dict[str, Any] = {} if extra is None else extra

    @property
    def has_more(self) -> bool:
        return self.page < self.last_page

    def _fields(self) -> tuple[Any, ...]:
        return (self.items, self.page, self.last_page, self.total, self.extra)

    def __repr__(self) -> str:
        return (f"NumberedPage(items={self.items!r}, page={self.page!r}, last_page={self.last_page!r}, "
                f"total={self.total!r}, extra={self.extra!r})")


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
        if last.has_more and len(last) == (last.limit or page_size):
            return page_at(last.offset + len(last), last.limit or page_size)  # type: ignore[return-value]
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
