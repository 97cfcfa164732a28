"""Reads of the shared cache that one screen makes many times, in one round trip.

Within batch(keys) the keys are fetched together (cache.get_many) and get() and
get_many() answer them from that fetch; any other key, and every read outside a
batch, goes to the cache as usual. A page of banners asks Redis once, not once
per banner.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.cache import cache

# The batch's keys and what the cache held for them (absent: no entry).
_fetched: ContextVar[tuple[frozenset[str], dict[str, Any]] | None] = ContextVar(
    "cache_reads", default=None
)


@contextmanager
def batch(keys: Iterable[str]) -> Iterator[None]:
    wanted = frozenset(keys)
    token = _fetched.set((wanted, cache.get_many(list(wanted))))
    try:
        yield
    finally:
        _fetched.reset(token)


def get(key: str, default: Any = None) -> Any:
    fetched = _fetched.get()
    if fetched is None or key not in fetched[0]:
        return cache.get(key, default)
    return fetched[1].get(key, default)


def get_many(keys: list[str]) -> dict[str, Any]:
    fetched = _fetched.get()
    if fetched is None or not fetched[0].issuperset(keys):
        return cache.get_many(keys)
    return {k: fetched[1][k] for k in keys if k in fetched[1]}
