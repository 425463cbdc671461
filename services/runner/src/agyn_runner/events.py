"""What happens to the workloads (StreamEvents): JSON events fanned out to open streams."""

from __future__ import annotations

import asyncio
import collections
import json
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from agyn_runner.stopping import DaemonStopping

HISTORY = 1000  # kept for a stream that asks for events since a moment in the past
QUEUE = 1000  # a stream further behind than this is ended


class FellBehind(Exception):
    """The stream's reader did not keep up."""


def matches(event: Mapping[str, Any], filters: Sequence[tuple[str, Sequence[str]]]) -> bool:
    """Every filter with values holds: the event's value under its key is one of them."""
    return all(str(event.get(key, "")) in values for key, values in filters if values)


class Events:
    def __init__(self) -> None:
        self._history: collections.deque[dict[str, Any]] = collections.deque(maxlen=HISTORY)
        self._queues: set[asyncio.Queue[dict[str, Any] | None]] = set()

    def publish(self, kind: str, workload_id: str, workload_key: str, **fields: Any) -> None:
        event = {"type": kind, "workload_id": workload_id, "workload_key": workload_key, **fields}
        event["time"] = time.time()
        self._history.append(event)
        for queue in list(self._queues):
            if queue.full():
                self._queues.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)  # the reader learns it fell behind
            else:
                queue.put_nowait(event)

    async def follow(
        self, since: float, filters: Sequence[tuple[str, Sequence[str]]], stopping: asyncio.Event
    ) -> AsyncIterator[tuple[str, float]]:
        """The events (JSON, and when) from `since` (epoch seconds; 0: from now) that match `filters`."""
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE)
        self._queues.add(queue)
        try:
            if since > 0:
                for event in list(self._history):
                    if event["time"] >= since and matches(event, filters):
                        yield json.dumps(event), event["time"]
            while True:
                getting = asyncio.ensure_future(queue.get())
                stopped = asyncio.ensure_future(stopping.wait())
                try:
                    await asyncio.wait({getting, stopped}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    getting.cancel()
                    stopped.cancel()
                if not getting.done() or getting.cancelled():
                    raise DaemonStopping
                received = getting.result()
                if received is None:
                    raise FellBehind
                if matches(received, filters):
                    yield json.dumps(received), received["time"]
        finally:
            self._queues.discard(queue)
