"""Per-key token buckets (per caller, per client address), bounded in memory."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    """`allow(key)` spends one token from the key's bucket; False when it is empty.

    Buckets refill at `rate` tokens per second up to `burst`. The least recently used
    keys are forgotten beyond `max_keys`, so memory stays bounded whatever the callers.
    """

    def __init__(
        self, rate: float, burst: int, *, max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _refilled(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (float(self._burst), now))
        return min(float(self._burst), tokens + (now - last) * self._rate)

    def available(self, key: str) -> bool:
        """Whether `allow(key)` would succeed now, without spending anything."""
        return self._refilled(key, self._clock()) >= 1.0

    def allow(self, key: str) -> bool:
        now = self._clock()
        tokens = self._refilled(key, now)
        self._buckets.pop(key, None)
        allowed = tokens >= 1.0
        self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
        return allowed
