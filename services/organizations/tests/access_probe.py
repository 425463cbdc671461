"""Another service's process holding an `OrganizationAccess` cache (run by test_access.py).

    python access_probe.py <organizations address> <nats url> <ttl seconds>

Reads one JSON check per stdin line ({"identity_id", "relation", "organization_id"}) and
answers {"allowed": bool, "calls": n}, where `calls` counts the RPCs made to Organizations
so far, so the test can tell a cached answer from a fresh one.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid

import grpc
from agyn_common.access import LOCAL_CALLER_KEY
from agyn_common.bus import Bus
from agyn_common.org_access import OrganizationAccess


class CountingInterceptor(grpc.aio.UnaryUnaryClientInterceptor):
    """Counts the calls and names the caller, as `make up` does for a service called threads."""

    calls = 0

    async def intercept_unary_unary(self, continuation, client_call_details, request):
        CountingInterceptor.calls += 1
        details = client_call_details._replace(
            metadata=grpc.aio.Metadata((LOCAL_CALLER_KEY, "threads")), timeout=5
        )
        return await continuation(details, request)


async def main(address: str, nats_url: str, ttl: float) -> None:
    channel = grpc.aio.insecure_channel(address, interceptors=[CountingInterceptor()])
    access = OrganizationAccess(channel, ttl=ttl)
    bus = Bus(nats_url, name="access-probe")
    access.attach(bus)
    bus.start()
    await bus.wait_ready(timeout=10)
    print(json.dumps({"ready": True}), flush=True)
    loop = asyncio.get_running_loop()
    while line := await loop.run_in_executor(None, sys.stdin.readline):
        check = json.loads(line)
        allowed = await access.check(
            uuid.UUID(check["identity_id"]), check["relation"], uuid.UUID(check["organization_id"])
        )
        print(json.dumps({"allowed": allowed, "calls": CountingInterceptor.calls}), flush=True)
    await bus.close()
    await channel.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
