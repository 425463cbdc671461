"""A small in-process cache of answers owned by another service.

Entries live a few seconds and are dropped earlier when the owner announces a change on the
bus. A lookup that started before such a drop must not store its (possibly stale) answer:
callers take `generation` before asking and pass it to `put`, which ignores the answer if
anything was dropped in between.

A cache kept true by the bus (`needs_bus=True`, then `follow(bus)`) serves and stores only
while the bus is connected, since changes announced meanwhile would go unheard, and forgets
everything when the connection drops and when the bus reports a gap; `drop_on` drops what
an event on a subject makes stale.
"""

from __future__ import annotations

import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    from nats.aio.msg import Msg

    from agyn_common.bus import Bus

log = logging.getLogger(__name__)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(
        self,
        *,
        ttl: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
        needs_bus: bool = False,
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._needs_bus = needs_bus
        self._bus: Bus | None = None
        self.generation = 0

    def follow(self, bus: Bus) -> None:
        self._bus = bus
        bus.on_disconnect(self.clear)  # nothing from before an outage is served after it
        bus.on_gap(self.clear)

    def drop_on(
        self, bus: Bus, subject: str, stale: Callable[[Mapping[str, Any]], Callable[[V], bool]]
    ) -> None:
        """Drop the values `stale(data)` picks when a domain event on `subject` arrives
        (`data` is the event's); everything when the event cannot be read."""

        async def on_event(message: Msg) -> None:
            try:
                picked = stale(json.loads(message.data)["data"])
            except (ValueError, KeyError, TypeError, AttributeError):
                log.warning("unreadable event on %s; dropping every cached answer", message.subject)
                self.clear()
                return
            self.drop_entries_where(lambda _key, value: picked(value))

        bus.subscribe(subject, on_event)

    @property
    def serving(self) -> bool:
        if self._bus is not None:
            return self._bus.connected
        return not self._needs_bus

    def get(self, key: K, default: V | None = None) -> V | None:
        if not self.serving:
            return default
        entry = self._entries.get(key)
        if entry is None:
            return default
        expires_at, value = entry
        if expires_at <= self._clock():
            del self._entries[key]
            return default
        self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V, generation: int) -> None:
        """Store `value` unless something was dropped since `generation` was read."""
        if generation != self.generation or not self.serving:
            return
        self._entries[key] = (self._clock() + self._ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def drop_where(self, predicate: Callable[[K], bool]) -> None:
        self.drop_entries_where(lambda key, _value: predicate(key))

    def drop_entries_where(self, predicate: Callable[[K, V], bool]) -> None:
        self.generation += 1
        for key in [key for key, (_, value) in self._entries.items() if predicate(key, value)]:
            del self._entries[key]

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
