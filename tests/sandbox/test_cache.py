"""What a write drops from a company's cache, and what it updates instead (sandbox/cache.py)."""

from __future__ import annotations

from leadbridge.sandbox.cache import Change, CompanyCache

PEOPLE = "leeloo_person"


def kept_anchors(anchors: list[str], added: list[str]) -> list[str] | None:
    return anchors if min(added) > anchors[-1] else None


def people_added(*ids: str, statements: int | None = None) -> Change:
    change = Change()
    for _ in range(len(ids) if statements is None else statements):
        change.add("INSERT", PEOPLE)
    for row_id in ids:
        change.note_added(PEOPLE, row_id)
    return change


def cache_with_people() -> CompanyCache:
    cache = CompanyCache()
    cache.put("count", 10, rows_of=(PEOPLE,), on_append=lambda total, added: total + len(added))
    cache.put("anchors", ["a1", "a5"], rows_of=(PEOPLE,), on_append=kept_anchors)
    cache.put("plain count", 10, rows_of=(PEOPLE,))
    return cache


def test_rows_named_by_the_write_update_the_values_that_take_them_in() -> None:
    cache = cache_with_people()
    cache.invalidate(people_added("a7", "a8"))
    assert (cache.get("count"), cache.get("anchors"), cache.get("plain count")) == (12, ["a1", "a5"], None)


def test_a_value_that_cannot_take_the_rows_in_is_dropped() -> None:
    cache = cache_with_people()
    cache.invalidate(people_added("a3"))  # before the last anchor: places moved
    assert (cache.get("count"), cache.get("anchors")) == (11, None)


def test_rows_the_write_did_not_name_drop_every_value_read_from_their_table() -> None:
    unnamed = (people_added("a7", statements=2), people_added(statements=1), people_added("a7", "a8", statements=1))
    for change in unnamed:
        cache = cache_with_people()
        cache.invalidate(change)
        assert (cache.get("count"), cache.get("anchors")) == (None, None)
    removed = people_added("a7")
    removed.add("DELETE", PEOPLE)
    cache = cache_with_people()
    cache.invalidate(removed)
    assert (cache.get("count"), cache.get("anchors")) == (None, None)


def test_updated_rows_keep_values_of_rows_and_drop_values_of_their_columns() -> None:
    cache = cache_with_people()
    cache.put("phone count", 3, rows_of=(PEOPLE,), values_of=(PEOPLE,),
              on_append=lambda total, added: total + len(added))
    change = people_added("a7")
    change.add("UPDATE", PEOPLE)
    cache.invalidate(change)
    assert (cache.get("count"), cache.get("phone count")) == (11, None)
