"""What the benchmarks share: timed loops, percentiles, one printed row per measurement."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from agyn_common.embedded import free_port
from agyn_local.platform import LocalPlatform, Options


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


def on_a_local_platform(measure: Callable[[LocalPlatform], Awaitable[object]]) -> int:
    """Start the local platform in a temporary directory (every service its own process, as
    in `make up`, on free ports), run `measure` against it, stop it; the exit code."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="agyn-bench-") as state:
        # Without the platform's own spans: the figures are the calls', not their recording's.
        options = Options(state_dir=Path(state), nats_port=free_port(), base_port=0, platform_spans=False)
        platform = LocalPlatform(options)
        try:
            platform.start()
            print(f"platform up in {time.perf_counter() - started:.1f}s ({', '.join(platform.addresses)})")
            asyncio.run(measure(platform))
        finally:
            platform.stop()
    print(f"done in {time.perf_counter() - started:.0f}s")
    return 0


class CpuClock:
    """CPU time (user + system, every thread) a process has used, from /proc (Linux)."""

    TICKS = os.sysconf("SC_CLK_TCK")

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / self.TICKS
