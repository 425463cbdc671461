"""A workload's logs through Runners and the Gateway, next to the runner daemon itself (issue 26).

    make bench        (or: .venv/bin/python bench/workload_logs.py)

On one local platform (every service its own process, as in `make up`, its runner enrolled):
a workload prints LINES lines on the local runner (started as `agyn_local run-workload`
does), and once it has ended its whole log is read, in turns, straight from the daemon (what
Runners reads) and through the Gateway (Gateway → Runners → daemon, the client's path), in
MiB/s and as a ratio. A benchmark, not a test.
"""

from __future__ import annotations

import statistics
import sys
import time

import grpc
from agyn_local.platform import LocalPlatform
from agyn_local.workloads import run_workload
from agynio.api.gateway.v1 import runners_pb2_grpc as runners_gateway
from agynio.api.organizations.v1 import organizations_pb2, organizations_pb2_grpc
from agynio.api.runner.v1 import runner_pb2, runner_pb2_grpc
from figures import on_a_local_platform

LINES = 200_000
ROUNDS = 5
MIB = 2**20


def organization(platform: LocalPlatform, admin: str) -> str:
    with grpc.insecure_channel(platform.addresses["organizations"]) as channel:
        reply = organizations_pb2_grpc.OrganizationsServiceStub(channel).CreateOrganization(
            organizations_pb2.CreateOrganizationRequest(name="Bench"),
            metadata=(("x-agyn-caller", "gateway"), ("x-identity-id", admin)),
            timeout=30,
        )
    return str(reply.organization.id)


async def measure(platform: LocalPlatform) -> dict[str, float]:
    admin = platform.admin_identity_path.read_text().strip()
    token = platform.admin_token_path.read_text().strip()
    runner_id = (platform.state_dir / "runner-id").read_text().strip()
    started = run_workload(
        platform.addresses, runner_id, organization(platform, admin), ["/usr/bin/seq", "1", str(LINES)]
    )
    request = runner_pb2.StreamWorkloadLogsRequest(container_name="main", follow=True)
    direct_request = runner_pb2.StreamWorkloadLogsRequest(container_name="main", follow=True)
    request.workload_id, direct_request.workload_id = started["workload_id"], started["instance_id"]
    expected = sum(len(f"{i}\n") for i in range(1, LINES + 1))
    seconds: dict[str, list[float]] = {"straight from the runner": [], "through the Gateway": []}
    sizes: set[int] = set()
    async with (
        grpc.aio.insecure_channel(platform.addresses["runner"]) as runner_channel,
        grpc.aio.insecure_channel(platform.addresses["gateway"]) as gateway_channel,
    ):
        daemon = runner_pb2_grpc.RunnerServiceStub(runner_channel)
        gateway = runners_gateway.RunnersGatewayStub(gateway_channel)
        calls = {
            "straight from the runner": lambda: daemon.StreamWorkloadLogs(
                direct_request, metadata=(("x-agyn-caller", "runners"),), timeout=120
            ),
            "through the Gateway": lambda: gateway.StreamWorkloadLogs(
                request, metadata=(("authorization", f"Bearer {token}"),), timeout=120
            ),
        }
        # Followed once to its end first: the process has printed everything before the timing.
        first = sum([len(reply.chunk.data) async for reply in calls["straight from the runner"]()])
        assert first == expected, (first, expected)
        for _ in range(ROUNDS):  # in turns, so that the machine's other load weighs on both
            for label, call in calls.items():
                begun = time.perf_counter()
                sizes.add(sum([len(reply.chunk.data) async for reply in call()]))
                seconds[label].append(time.perf_counter() - begun)
    assert sizes == {expected}, sizes  # every read gave the whole log
    size = expected
    rates = {label: size / MIB / statistics.median(taken) for label, taken in seconds.items()}
    direct = rates["straight from the runner"]
    print(
        f"{f'a log of {LINES} lines ({size / MIB:.1f} MiB), median of {ROUNDS}':<44}{'MiB/s':>8}{'ratio':>9}"
    )
    for label, rate in rates.items():
        print(f"{label:<44}{rate:>8.1f}{rate / direct:>8.2f}x")
    return rates


def main() -> int:
    return on_a_local_platform(measure)


if __name__ == "__main__":
    sys.exit(main())
