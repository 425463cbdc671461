"""What the Gateway adds to a call (issue 5).

    make bench        (or: .venv/bin/python bench/gateway.py)

Starts the local platform in a temporary directory (every service its own process, as in
`make up`) and calls UsersGateway.GetMe with the local admin's API token at 1, 10 and 50
concurrent callers: over gRPC through the Gateway, over Connect JSON (HTTP/1.1, kept-alive
connections) through the Gateway, and straight to Users over gRPC with the identity
metadata the Gateway would send. The difference is the Gateway's cost: authentication
(cached after the first call), decoding, forwarding, encoding. A benchmark, not a test: it
asserts nothing and prints its table.
"""

from __future__ import annotations

import sys
import time

import grpc
import httpx
from agyn_local.platform import LocalPlatform
from agynio.api.gateway.v1 import users_pb2_grpc as users_gateway
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from figures import Figures, on_a_local_platform, row, run_for

LEVELS = (1, 10, 50)
SECONDS_PER_LEVEL = 5.0
CLIENTS = 10  # channels / HTTP connections shared by the callers


async def timed(call) -> float:
    started = time.perf_counter()
    await call
    return time.perf_counter() - started


async def measure(addresses: dict[str, str], token: str, admin: str) -> dict[int, dict[str, Figures]]:
    gateway_channels = [grpc.aio.insecure_channel(addresses["gateway"]) for _ in range(CLIENTS)]
    direct_channels = [grpc.aio.insecure_channel(addresses["users"]) for _ in range(CLIENTS)]
    through_gateway = [users_gateway.UsersGatewayStub(channel) for channel in gateway_channels]
    direct = [users_pb2_grpc.UsersServiceStub(channel) for channel in direct_channels]
    bearer = (("authorization", f"Bearer {token}"),)
    as_gateway = (("x-agyn-caller", "gateway"), ("x-identity-id", admin), ("x-identity-type", "user"))
    request = users_pb2.GetMeRequest()
    limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
    async with httpx.AsyncClient(
        base_url=f"http://{addresses['gateway']}", limits=limits, timeout=30
    ) as http:
        connect_headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}

        async def over_connect(worker: int) -> float:
            return await timed(
                http.post(
                    "/api/agynio.api.users.v1.UsersGateway/GetMe", content=b"{}", headers=connect_headers
                )
            )

        async def over_grpc(worker: int) -> float:
            return await timed(through_gateway[worker % CLIENTS].GetMe(request, metadata=bearer))

        async def straight_to_users(worker: int) -> float:
            return await timed(direct[worker % CLIENTS].GetMe(request, metadata=as_gateway))

        await over_grpc(0)  # the token's resolution is cached from here on
        levels: dict[int, dict[str, Figures]] = {}
        print(f"{'GetMe':<34}{'rate':>12}{'p50 ms':>10}{'p99 ms':>10}")
        for concurrency in LEVELS:
            figures: dict[str, Figures] = {}
            for label, one in [
                ("straight to Users (gRPC)", straight_to_users),
                ("through the Gateway (gRPC)", over_grpc),
                ("through the Gateway (Connect JSON)", over_connect),
            ]:
                figures[label] = await run_for(concurrency, SECONDS_PER_LEVEL, one)
            levels[concurrency] = figures
            print(f"-- {concurrency} concurrent caller(s)")
            for label, measured in figures.items():
                print(row(label, measured))
            base = figures["straight to Users (gRPC)"]
            grpc_figures = figures["through the Gateway (gRPC)"]
            connect_figures = figures["through the Gateway (Connect JSON)"]
            added_grpc = grpc_figures.percentile(0.5) - base.percentile(0.5)
            added_connect = connect_figures.percentile(0.5) - base.percentile(0.5)
            print(
                f"{'added by the Gateway, p50':<34}"
                f"gRPC +{added_grpc:.2f} ms, Connect JSON +{added_connect:.2f} ms; "
                f"throughput {grpc_figures.throughput / base.throughput:.2f}x / "
                f"{connect_figures.throughput / base.throughput:.2f}x of direct"
            )
    for channel in [*gateway_channels, *direct_channels]:
        await channel.close()
    return levels


async def measure_platform(platform: LocalPlatform) -> dict[int, dict[str, Figures]]:
    token = platform.admin_token_path.read_text().strip()
    admin = platform.admin_identity_path.read_text().strip()
    return await measure(platform.addresses, token, admin)


def main() -> int:
    return on_a_local_platform(measure_platform)


if __name__ == "__main__":
    sys.exit(main())
