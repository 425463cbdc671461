"""What the benchmarks share: timed loops, percentiles, one printed row per measurement."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass
class Figures:
    count: int
    seconds: float
    latencies: list[float]  # seconds

    @property
    def throughput(self) -> float:
        return self.count / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def run_for(concurrency: int, seconds: float, one) -> Figures:
    """Call `one(worker)` in `concurrency` loops for `seconds`; each call returns its latency."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def loop(worker: int) -> None:
        while time.perf_counter() < deadline:
            latencies.append(await one(worker))

    started = time.perf_counter()
    await asyncio.gather(*(loop(worker) for worker in range(concurrency)))
    return Figures(len(latencies), time.perf_counter() - started, latencies)


def row(label: str, figures: Figures) -> str:
    return (
        f"{label:<34}{figures.throughput:>10.0f}/s{figures.percentile(0.5):>10.2f}"
        f"{figures.percentile(0.99):>10.2f}"
    )
