"""Waiting on real infrastructure, and settings of a service started inside a test."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
import nats
import sqlalchemy as sa
from agyn_common.access import AccessMode
from agyn_common.db import Database
from agyn_common.settings import ServiceSettings
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nats.js.api import DeliverPolicy

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)


def in_process_settings(
    settings_type: type[SettingsT], database_url: str, nats_url: str, **overrides: Any
) -> SettingsT:
    """Settings of a service started inside a test: any free loopback port, local access mode."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "nats_url": nats_url,
        "grpc_host": "127.0.0.1",
        "grpc_port": 0,
        "metrics_port": 0,  # none: a test that reads metrics gives a port
        "agyn_access_mode": AccessMode.LOCAL,
        **overrides,
    }
    return settings_type(**values)


async def read_events(
    nats_url: str,
    subject: str,
    until: Callable[[list[Any]], bool],
    *,
    timeout: float = 30.0,
    settle: float = 1.0,
    decode: Callable[[bytes], Any] = json.loads,
) -> list[Any]:
    """Every message stored on `subject` (wildcards allowed), from the start of its stream,
    decoded by `decode` (JSON by default).

    Reads until `until(events)` holds, then keeps reading for `settle` seconds so that a
    duplicate arriving late is seen too. Raises TimeoutError if `until` never holds.
    """
    client = await nats.connect(nats_url, connect_timeout=5)
    events: list[Any] = []
    changed = asyncio.Event()

    async def collect(message: Any) -> None:
        try:
            event = decode(message.data)
        except Exception:
            return  # the session's stream is shared: skip what other tests put there in other shapes
        events.append(event)
        changed.set()

    try:
        js = client.jetstream()
        subscription = await js.subscribe(
            subject, cb=collect, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
        )
        async with asyncio.timeout(timeout):
            while not until(events):
                changed.clear()
                await changed.wait()
        await asyncio.sleep(settle)
        await subscription.unsubscribe()
        return events
    finally:
        await client.close()


async def wait_for_health(
    channel: grpc.aio.Channel, expected: int, *, service: str = "", timeout: float = 15.0
) -> None:
    """Poll grpc.health.v1 until `service` reports `expected`; TimeoutError otherwise."""
    stub = health_pb2_grpc.HealthStub(channel)
    async with asyncio.timeout(timeout):
        while True:
            with contextlib.suppress(grpc.aio.AioRpcError):
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
                if reply.status == expected:
                    return
            await asyncio.sleep(0.1)


async def wait_until(condition: Callable[[], bool], *, timeout: float = 10.0, poll: float = 0.01) -> None:
    """Poll `condition` until it holds; TimeoutError after `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while True:
            if condition():
                return
            await asyncio.sleep(poll)


async def wait_for_outcome(
    call: Callable[[], Awaitable[Any]], expected: grpc.StatusCode | None, *, within: float
) -> float:
    """Seconds until `call()` succeeds (`expected` None) or fails with `expected`, repeated
    every 20 ms; AssertionError naming the last outcome once `within` seconds have passed."""
    started = time.monotonic()
    while True:
        try:
            await call()
            outcome = None
        except grpc.aio.AioRpcError as error:
            outcome = error.code()
        elapsed = time.monotonic() - started
        if outcome == expected:
            return elapsed
        if elapsed >= within:
            raise AssertionError(f"still {outcome} after {within}s, waiting for {expected}")
        await asyncio.sleep(0.02)


async def schema_differences(database_url: str, metadata: sa.MetaData) -> list[Any]:
    """What the migrated database and `metadata` (a service's models) disagree on, as Alembic
    compares them: a first revision written by hand drifts from its models unseen otherwise."""

    def compare(connection: Any) -> list[Any]:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, metadata))

    database = Database(database_url)
    try:
        async with database.read() as connection:
            return await connection.run_sync(compare)
    finally:
        await database.close()
