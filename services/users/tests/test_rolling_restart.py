"""Users as a real process stopped with SIGTERM while clients keep calling, as in a rolling
restart: no call fails because of the stop."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from agyn_common.db import Database
from agyn_common.embedded import free_port
from agyn_common.server import LIVENESS_SERVICE
from agyn_testkit.calls import metadata
from agyn_testkit.harness import wait_for_health, wait_until
from agyn_testkit.processes import service_process
from agyn_users.admins import set_cluster_admin
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from grpc_health.v1 import health_pb2

LAME_DUCK_SECONDS = 2.0
GRACE_SECONDS = 10.0
CLIENTS = 20
SERVING = health_pb2.HealthCheckResponse.SERVING


@dataclass(frozen=True)
class Outcome:
    started: float  # time.monotonic() when the call was made
    code: grpc.StatusCode
    details: str


async def keep_calling(address: str, admin: uuid.UUID, outcomes: list[Outcome], until: asyncio.Event) -> None:
    """GetUser, ListUsers and GetMe in turn on a connection of its own, until `until` is set;
    after a failure it waits a little, as a client retrying would."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = users_pb2_grpc.UsersServiceStub(channel)
        options: dict[str, Any] = {"metadata": metadata(admin), "timeout": 10}
        calls: list[Callable[[], Awaitable[Any]]] = [
            lambda: stub.GetUser(users_pb2.GetUserRequest(identity_id=str(admin)), **options),
            lambda: stub.ListUsers(users_pb2.ListUsersRequest(page_size=10), **options),
            lambda: stub.GetMe(users_pb2.GetMeRequest(), **options),
        ]
        turn = 0
        while not until.is_set():
            started = time.monotonic()
            try:
                await calls[turn % len(calls)]()
                outcomes.append(Outcome(started, grpc.StatusCode.OK, ""))
            except grpc.aio.AioRpcError as error:
                outcomes.append(Outcome(started, error.code(), error.details() or ""))
                await asyncio.sleep(0.05)
            turn += 1


async def test_sigterm_fails_no_call_serves_the_lame_duck_and_exits_0(database_factory, nats, tmp_path):
    database_url = database_factory("users", None)  # empty: the process migrates it, as in a pod
    async with service_process(
        "agyn_users",
        free_port(),
        tmp_path / "users.log",
        DATABASE_URL=database_url,
        NATS_URL=nats.url,
        ORGANIZATIONS_ADDRESS=f"127.0.0.1:{free_port()}",  # not needed by these calls
        SHUTDOWN_LAME_DUCK_SECONDS=str(LAME_DUCK_SECONDS),
        SHUTDOWN_GRACE_SECONDS=str(GRACE_SECONDS),
    ) as users:
        await users.wait_serving()
        async with grpc.aio.insecure_channel(users.address) as channel:
            created = await users_pb2_grpc.UsersServiceStub(channel).ResolveOrCreateUser(
                users_pb2.ResolveOrCreateUserRequest(oidc_subject="sub-admin", name="Admin"),
                metadata=metadata(),
                timeout=10,
            )
        admin = uuid.UUID(created.user.meta.id)
        db = Database(database_url)
        async with db.transaction() as connection:
            await set_cluster_admin(connection, admin, True)
        await db.close()

        outcomes: list[Outcome] = []
        until = asyncio.Event()
        clients = [
            asyncio.create_task(keep_calling(users.address, admin, outcomes, until)) for _ in range(CLIENTS)
        ]
        try:
            await wait_until(lambda: sum(o.code == grpc.StatusCode.OK for o in outcomes) >= 3 * CLIENTS)
            signalled = time.monotonic()
            users.signal()
            async with grpc.aio.insecure_channel(users.address) as watcher:
                await wait_for_health(watcher, health_pb2.HealthCheckResponse.NOT_SERVING, timeout=10)
                not_serving_seen = time.monotonic()
                # Kubernetes restarts no pod for its stop: liveness stays SERVING.
                await wait_for_health(watcher, SERVING, service=LIVENESS_SERVICE)
            exit_code = await users.exit_code(within=LAME_DUCK_SECONDS + GRACE_SECONDS + 15)
            exited = time.monotonic()
            # Each client makes a call the process is no longer there for.
            await wait_until(lambda: len({o.started for o in outcomes if o.started > exited}) >= CLIENTS)
        finally:
            until.set()
            await asyncio.gather(*clients)

    assert exit_code == 0, users.log_tail()
    failed = [o for o in outcomes if o.code != grpc.StatusCode.OK]
    assert {o.code for o in failed} <= {grpc.StatusCode.UNAVAILABLE}, failed
    # The lame duck ends no sooner than LAME_DUCK_SECONDS after the signal: whatever was sent
    # before its middle was served, although health said NOT_SERVING meanwhile.
    assert [o for o in failed if o.started < signalled + LAME_DUCK_SECONDS / 2] == []
    assert any(o.code == grpc.StatusCode.OK and o.started > not_serving_seen for o in outcomes)
    assert all(o.code == grpc.StatusCode.UNAVAILABLE for o in outcomes if o.started > exited)

    entries = users.log()
    assert [e for e in entries if e["level"] in ("ERROR", "CRITICAL")] == []
    messages = [entry["message"] for entry in entries]
    assert "stopping: NOT_SERVING, still serving for the 2s lame duck" in messages
    assert "lame duck over: taking no new calls, letting the accepted ones finish" in messages
    assert messages[-1] == "stopped"
