"""The cost of one call: GetUser on Users next to a bare grpc.aio echo server (issue 23).

    .venv/bin/python bench/calls.py      (make bench runs it with the others)

Calls UsersService.GetUser as the local cluster admin at 10 concurrent callers, straight to
Users over gRPC with the identity metadata the Gateway would send, and the same call on a bare
grpc.aio server in its own process (`echo_server.py`) that answers with the requested id. Both
are timed from the same client, in the same run, and each server process's CPU time per call
is read from /proc. A benchmark, not a test: it asserts nothing and prints its table.
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
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from figures import CpuClock, Figures, cpu_per_call, on_a_local_platform, row, run_for

CALLERS = 10
SECONDS = 6.0


@dataclass
class CallCost:
    figures: Figures
    cpu_ms: float  # the server process's CPU per call


@dataclass
class CallFigures:
    echo: CallCost
    get_user: CallCost


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


async def get_user_at(address: str, pid: int, admin: str, metadata: tuple[tuple[str, str], ...]) -> CallCost:
    channels = [grpc.aio.insecure_channel(address) for _ in range(CALLERS)]
    stubs = [users_pb2_grpc.UsersServiceStub(channel) for channel in channels]
    request = users_pb2.GetUserRequest(identity_id=admin)

    async def call(worker: int) -> float:
        started = time.perf_counter()
        await stubs[worker].GetUser(request, metadata=metadata)
        return time.perf_counter() - started

    await run_for(CALLERS, 1.0, call)  # warm: connections, caches
    figures, cpu_ms = await cpu_per_call(CpuClock(pid), run_for(CALLERS, SECONDS, call))
    for channel in channels:
        await channel.close()
    return CallCost(figures, cpu_ms)


async def measure(platform: LocalPlatform) -> CallFigures:
    admin = platform.admin_identity_path.read_text().strip()
    as_admin = (("x-agyn-caller", "gateway"), ("x-identity-id", admin), ("x-identity-type", "user"))
    with echo_server() as (address, pid):
        echo = await get_user_at(address, pid, admin, ())
    get_user = await get_user_at(platform.addresses["users"], platform.pid("users"), admin, as_admin)
    print(f"{f'GetUser, {CALLERS} callers':<34}{'rate':>12}{'p50 ms':>10}{'p99 ms':>10}{'CPU ms/call':>13}")
    print(f"{row('bare grpc.aio echo', echo.figures)}{echo.cpu_ms:>13.3f}")
    print(f"{row('Users', get_user.figures)}{get_user.cpu_ms:>13.3f}")
    return CallFigures(echo, get_user)


def main() -> int:
    return on_a_local_platform(measure)


if __name__ == "__main__":
    sys.exit(main())
