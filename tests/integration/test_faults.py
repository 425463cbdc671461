"""Faults across processes (issue 15): PostgreSQL away and back, SIGTERM with calls in flight.

Each scenario prints how long it took (run with -s to see it)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import sys
import time
import uuid
from pathlib import Path

import grpc
import psycopg
import pytest
from agyn_common.embedded import EmbeddedPostgres, free_port
from agyn_inprocess.platform_client import GATEWAY, as_user
from agyn_testkit import probe as probe_service
from agyn_testkit.harness import wait_for_health, wait_for_outcome, wait_until
from agynio.api.organizations.v1 import organizations_pb2, organizations_pb2_grpc
from agynio.api.threads.v1 import threads_pb2, threads_pb2_grpc
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from google.protobuf import wrappers_pb2
from grpc_health.v1 import health_pb2
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.local_platform

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
HOLD_KEY = 1515


async def test_while_postgres_is_away_writes_are_unavailable_and_serving_resumes_within_5s(
    processes, postgres
):
    away = ("organizations", "threads")
    channels = {name: grpc.aio.insecure_channel(processes.addresses[name]) for name in ("users", *away)}
    users = users_pb2_grpc.UsersServiceStub(channels["users"])
    organizations = organizations_pb2_grpc.OrganizationsServiceStub(channels["organizations"])
    threads = threads_pb2_grpc.ThreadsServiceStub(channels["threads"])
    try:
        owner = (
            await users.ResolveOrCreateUser(
                users_pb2.ResolveOrCreateUserRequest(
                    oidc_subject=f"sub-{uuid.uuid4()}", preferred_username="pat"
                ),
                metadata=GATEWAY,
            )
        ).user.meta.id
        organization = (
            await organizations.CreateOrganization(
                organizations_pb2.CreateOrganizationRequest(name="Before"), metadata=as_user(owner)
            )
        ).organization.id
        thread = (
            await threads.CreateThread(
                threads_pb2.CreateThreadRequest(organization_id=organization), metadata=as_user(owner)
            )
        ).thread.id
        before = await threads.SendMessage(
            threads_pb2.SendMessageRequest(thread_id=thread, body="before"), metadata=as_user(owner)
        )

        started = time.monotonic()
        with contextlib.ExitStack() as stack:
            for name in away:
                stack.enter_context(
                    postgres.refusing_connections(make_url(processes.databases[name]).database)
                )
            writes = [
                organizations.CreateOrganization(
                    organizations_pb2.CreateOrganizationRequest(name="During"),
                    metadata=as_user(owner),
                    timeout=20,
                ),
                threads.SendMessage(
                    threads_pb2.SendMessageRequest(thread_id=thread, body="during"),
                    metadata=as_user(owner),
                    timeout=20,
                ),
            ]
            for write in writes:
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await write
                assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value.details()
            for name in away:
                await wait_for_health(channels[name], NOT_SERVING, timeout=15)
            back = time.monotonic()
        for name in away:
            await wait_for_health(channels[name], SERVING, timeout=5)
        serving = time.monotonic()

        # Everything acknowledged before is there, and writes work again.
        got = await organizations.GetOrganization(
            organizations_pb2.GetOrganizationRequest(id=organization), metadata=as_user(owner)
        )
        assert got.organization.name == "Before"
        after = await threads.SendMessage(
            threads_pb2.SendMessageRequest(thread_id=thread, body="after"), metadata=as_user(owner)
        )
        messages = await threads.GetMessages(
            threads_pb2.GetMessagesRequest(thread_id=thread, page_size=10), metadata=as_user(owner)
        )
        assert [(m.id, m.body) for m in messages.messages] == [
            (before.message.id, "before"),
            (after.message.id, "after"),
        ]
        print(
            f"\ndatabase away: refused and NOT_SERVING after {back - started:.2f}s,"
            f" SERVING {serving - back:.2f}s after it was back"
        )
    finally:
        for channel in channels.values():
            await channel.close()


def held_calls(database_url: str) -> int:
    """How many sessions wait for the advisory lock the test holds."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted",
            (HOLD_KEY,),
        ).fetchone()
    return int(row[0]) if row else 0


@contextlib.asynccontextmanager
async def probe_process(database_url: str, nats_url: str, log: Path, **settings: str):
    """The probe service as its own process, logging to `log`; yields (process, address)."""
    port = free_port()
    output = log.open("ab")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        probe_service.__file__,
        env={
            **os.environ,
            "DATABASE_URL": database_url,
            "NATS_URL": nats_url,
            "GRPC_HOST": "127.0.0.1",
            "GRPC_PORT": str(port),
            "METRICS_PORT": "0",
            "AGYN_ACCESS_MODE": "local",
            "SHUTDOWN_GRACE_SECONDS": "30",
            **settings,
        },
        stdout=output,
        stderr=output,
    )
    address = f"127.0.0.1:{port}"
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            await wait_for_health(channel, SERVING, timeout=60)
        yield process, address
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        output.close()


def probe_call(channel: grpc.aio.Channel, name: str, message_type):
    return channel.unary_unary(
        f"/{probe_service.SERVICE}/{name}",
        request_serializer=message_type.SerializeToString,
        response_deserializer=message_type.FromString,
    )


async def test_sigterm_with_20_calls_in_flight_lets_them_finish_and_refuses_new_ones(
    database_factory, nats, tmp_path
):
    database = database_factory("probe", probe_service.MIGRATIONS)
    # A lame duck, as in Kubernetes: NOT_SERVING while still serving, then no new calls.
    lame_duck = {"SHUTDOWN_LAME_DUCK_SECONDS": "1"}
    async with probe_process(database, nats.url, tmp_path / "probe.log", **lame_duck) as (process, address):
        with psycopg.connect(database, autocommit=True) as locker:
            locker.execute("SELECT pg_advisory_lock(%s)", (HOLD_KEY,))
            async with grpc.aio.insecure_channel(address) as channel:
                hold = probe_call(channel, "Hold", wrappers_pb2.Int64Value)
                calls = [
                    hold(wrappers_pb2.Int64Value(value=HOLD_KEY), metadata=GATEWAY, timeout=60)
                    for _ in range(20)
                ]
                await wait_until(lambda: held_calls(database) == 20, timeout=30, poll=0.1)
                started = time.monotonic()
                process.send_signal(signal.SIGTERM)
                await wait_for_health(channel, NOT_SERVING, timeout=10)

                async def on_a_new_connection() -> None:
                    async with grpc.aio.insecure_channel(address) as new_channel:
                        echo = probe_call(new_channel, "Echo", wrappers_pb2.StringValue)
                        await echo(wrappers_pb2.StringValue(value="new"), metadata=GATEWAY, timeout=10)

                # Served through the lame duck, then refused at the closed port.
                await wait_for_outcome(on_a_new_connection, grpc.StatusCode.UNAVAILABLE, within=15)
                assert process.returncode is None  # still waiting for the 20
                locker.execute("SELECT pg_advisory_unlock(%s)", (HOLD_KEY,))
                replies = await asyncio.gather(*calls)
        assert [reply.value for reply in replies] == [HOLD_KEY] * 20
        async with asyncio.timeout(30):
            await process.wait()
        stopped = time.monotonic()
    assert process.returncode == 0
    print(f"\nSIGTERM with 20 held calls: released and exited 0 {stopped - started:.2f}s after the signal")


async def test_sigterm_in_a_burst_of_calls_cancels_none(database_factory, nats, tmp_path):
    """Calls that reach the server as it stops are answered: OK, or UNAVAILABLE (retryable),
    never CANCELLED. grpc.aio used to cancel the calls it had received but not yet started."""
    database = database_factory("probe", probe_service.MIGRATIONS)
    async with probe_process(database, nats.url, tmp_path / "probe.log") as (process, address):
        async with grpc.aio.insecure_channel(address) as channel:
            # Connected first, so that the burst reaches the server rather than a closed port.
            echo = probe_call(channel, "Echo", wrappers_pb2.StringValue)
            await echo(wrappers_pb2.StringValue(value="hi"), metadata=GATEWAY, timeout=10)
            sleep = probe_call(channel, "Sleep", wrappers_pb2.DoubleValue)

            async def outcome(call) -> str:
                try:
                    await call
                    return "OK"
                except grpc.aio.AioRpcError as error:
                    return error.code().name

            calls = [
                asyncio.ensure_future(
                    outcome(sleep(wrappers_pb2.DoubleValue(value=1.0), metadata=GATEWAY, timeout=30))
                )
                for _ in range(200)
            ]
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            outcomes = collections.Counter(await asyncio.gather(*calls))
        async with asyncio.timeout(30):
            await process.wait()
        stopped = time.monotonic()
    assert set(outcomes) <= {"OK", "UNAVAILABLE"}, outcomes
    assert process.returncode == 0
    print(
        f"\nSIGTERM in a burst of 200 calls: {dict(outcomes)},"
        f" exited 0 {stopped - started:.2f}s after the signal"
    )


async def test_postgres_stopped_and_started_again(nats, tmp_path):
    """The server itself goes away (pg_ctl stop) and comes back: its own PostgreSQL, so that
    the session's stays up for every other test."""
    data = tmp_path / "postgres"
    server = EmbeddedPostgres(data)
    database = server.create_database("probe")
    try:
        async with (
            probe_process(database, nats.url, tmp_path / "probe.log") as (_, address),
            grpc.aio.insecure_channel(address) as channel,
        ):
            create = probe_call(channel, "Create", wrappers_pb2.StringValue)
            note = wrappers_pb2.StringValue
            assert (await create(note(value="before"), metadata=GATEWAY, timeout=10)).value == "note #1"

            started = time.monotonic()
            await asyncio.to_thread(server.stop)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await create(note(value="during"), metadata=GATEWAY, timeout=20)
            assert refused.value.code() == grpc.StatusCode.UNAVAILABLE, refused.value.details()
            await wait_for_health(channel, NOT_SERVING, timeout=15)
            away = time.monotonic()

            server = await asyncio.to_thread(EmbeddedPostgres, data)
            assert server.url("probe") == database  # the same socket: the service's URL still holds
            back = time.monotonic()
            await wait_for_health(channel, SERVING, timeout=5)
            serving = time.monotonic()
            # The note made before is kept; the refused one was never written.
            assert (await create(note(value="after"), metadata=GATEWAY, timeout=10)).value == "note #2"
        print(
            f"\npostgres stopped: refused and NOT_SERVING after {away - started:.2f}s,"
            f" SERVING {serving - back:.2f}s after it was started again"
        )
    finally:
        server.stop()
