"""The cost of one call: GetUser on Users next to a bare grpc.aio echo server (issue 23).

    .venv/bin/python bench/calls.py      (make bench runs it with the others)

Calls UsersService.GetUser as the local cluster admin at 10 concurrent callers, straight to
Users over gRPC with the identity metadata the Gateway would send, and the same call on a bare
grpc.aio server in its own process (`echo_server.py`) that answers with the requested id; and
on two more Users processes on the same database, started alike, one of them with
METRICS_PORT=0, recording no metrics (issue 24: what metrics cost). All are timed from the
same client, in turns within the same run, and each server process's CPU time per call is read
from /proc. A benchmark, not a test: it asserts nothing and prints its table.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
from agyn_common.embedded import free_port
from agyn_local.platform import LocalPlatform
from agyn_local.services import SERVICES
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from figures import CpuClock, Figures, on_a_local_platform, row, run_for

CALLERS = 10
SECONDS = 9.0  # for each server, in ROUNDS turns
ROUNDS = 3


@dataclass
class CallCost:
    figures: Figures
    cpu_ms: float  # the server process's CPU per call


@dataclass
class CallFigures:
    echo: CallCost
    get_user: CallCost  # the platform's Users
    with_metrics: CallCost  # two more Users processes, started alike
    without_metrics: CallCost


@contextlib.contextmanager
def echo_server() -> Iterator[tuple[str, int]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("echo_server.py")), str(port)], stdout=subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        process.stdout.readline()  # "serving"
        yield f"127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait()


@contextlib.contextmanager
def another_users(platform: LocalPlatform, metrics_port: int) -> Iterator[tuple[str, int]]:
    """Another Users process on the platform's database; METRICS_PORT=0 records no metrics."""
    port = free_port()
    (users,) = (service for service in SERVICES if service.name == "users")
    environment = {
        **platform.service_environment(users, port, platform.addresses),
        "METRICS_PORT": str(metrics_port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", users.module, "serve"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            grpc.channel_ready_future(channel).result(timeout=60)
        yield f"127.0.0.1:{port}", process.pid
    finally:
        process.terminate()
        process.wait()


class Caller:
    """GetUser from CALLERS concurrent callers, one channel each, at one server process."""

    def __init__(self, address: str, pid: int, admin: str, metadata: tuple[tuple[str, str], ...]) -> None:
        self.channels = [grpc.aio.insecure_channel(address) for _ in range(CALLERS)]
        self.stubs = [users_pb2_grpc.UsersServiceStub(channel) for channel in self.channels]
        self.clock = CpuClock(pid)
        self.request = users_pb2.GetUserRequest(identity_id=admin)
        self.metadata = metadata
        self.figures = Figures(0, 0.0, [])
        self.cpu_seconds = 0.0

    async def call(self, worker: int) -> float:
        started = time.perf_counter()
        await self.stubs[worker].GetUser(self.request, metadata=self.metadata)
        return time.perf_counter() - started

    async def run(self, seconds: float) -> None:
        before = self.clock.seconds()
        figures = await run_for(CALLERS, seconds, self.call)
        self.cpu_seconds += self.clock.seconds() - before
        self.figures = Figures(
            self.figures.count + figures.count,
            self.figures.seconds + figures.seconds,
            self.figures.latencies + figures.latencies,
        )

    async def close(self) -> CallCost:
        for channel in self.channels:
            await channel.close()
        return CallCost(self.figures, self.cpu_seconds * 1000 / max(1, self.figures.count))


async def measure(platform: LocalPlatform) -> CallFigures:
    admin = platform.admin_identity_path.read_text().strip()
    as_admin = (("x-agyn-caller", "gateway"), ("x-identity-id", admin), ("x-identity-type", "user"))
    with (
        echo_server() as (address, pid),
        another_users(platform, free_port()) as (measured_address, measured_pid),
        another_users(platform, 0) as (plain_address, plain_pid),
    ):
        echo = Caller(address, pid, admin, ())
        users = Caller(platform.addresses["users"], platform.pid("users"), admin, as_admin)
        # Two Users started alike, one recording metrics and one not: their difference is the
        # metrics' cost, not the age or history of a process.
        measured = Caller(measured_address, measured_pid, admin, as_admin)
        plain = Caller(plain_address, plain_pid, admin, as_admin)
        callers = (echo, users, measured, plain)
        for caller in callers:  # warm: connections, caches
            await run_for(CALLERS, 1.0, caller.call)
        # Taken in turns, so that what else the machine does weighs on all alike.
        for _ in range(ROUNDS):
            for caller in callers:
                await caller.run(SECONDS / ROUNDS)
        figures = CallFigures(*[await caller.close() for caller in callers])
    print(f"{f'GetUser, {CALLERS} callers':<34}{'rate':>12}{'p50 ms':>10}{'p99 ms':>10}{'CPU ms/call':>13}")
    print(f"{row('bare grpc.aio echo', figures.echo.figures)}{figures.echo.cpu_ms:>13.3f}")
    print(f"{row('Users', figures.get_user.figures)}{figures.get_user.cpu_ms:>13.3f}")
    for label, cost in (
        ("another Users, metrics", figures.with_metrics),
        ("another Users, no metrics", figures.without_metrics),
    ):
        print(f"{row(label, cost.figures)}{cost.cpu_ms:>13.3f}")
    return figures


def main() -> int:
    return on_a_local_platform(measure)


if __name__ == "__main__":
    sys.exit(main())
