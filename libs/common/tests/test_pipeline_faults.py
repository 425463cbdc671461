"""The pipeline's answers to bad bytes, bad strings, a database that is away, and a stop."""

from __future__ import annotations

import asyncio

import grpc
import psycopg
import pytest
from agyn_common.server import LIVENESS_SERVICE
from agyn_testkit.harness import wait_for_health, wait_for_outcome, wait_until
from agyn_testkit.probe import SERVICE
from google.protobuf import wrappers_pb2
from grpc_health.v1 import health_pb2
from sqlalchemy.engine import make_url

GATEWAY = (("x-agyn-caller", "gateway"),)
HOLD_KEY = 15


async def test_a_nul_in_a_string_is_invalid_argument_before_the_handler(probe):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await probe.echo("crash\0")  # "crash" would be INTERNAL had the handler run
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == "value: must not contain NUL characters"
    assert "grpc-status-details-bin" in dict(caught.value.trailing_metadata() or ())  # BadRequest


async def test_undecodable_bytes_are_invalid_argument(probe):
    raw = probe.channel.unary_unary(
        f"/{SERVICE}/Echo",
        request_serializer=lambda data: data,
        response_deserializer=wrappers_pb2.StringValue.FromString,
    )
    # Field 1 (a string) claims 10 bytes and has 1; then a string that is not UTF-8.
    for garbage in (b"\x0a\x0ax", b"\x0a\x02\xff\xfe"):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await raw(garbage, metadata=GATEWAY, timeout=10)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert caught.value.details() == "request: cannot be decoded"


async def test_a_database_that_is_away_is_unavailable_and_a_bug_stays_internal(
    probe, probe_database, postgres
):
    create = probe.method("Create")
    with postgres.refusing_connections(make_url(probe_database).database):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await create(wrappers_pb2.StringValue(value="away"), metadata=GATEWAY, timeout=10)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert caught.value.details() == "database unavailable"
        with pytest.raises(grpc.aio.AioRpcError) as bug:
            await probe.echo("crash")
        assert bug.value.code() == grpc.StatusCode.INTERNAL
    await wait_for_health(probe.channel, health_pb2.HealthCheckResponse.SERVING, timeout=15)
    reply = await create(wrappers_pb2.StringValue(value="back"), metadata=GATEWAY, timeout=10)
    assert reply.value == "note #1"  # the write made while it was away did not happen


def waiting_for_lock(database_url: str, key: int) -> int:
    """How many sessions wait for advisory lock `key`."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND NOT granted",
            (key,),
        ).fetchone()
    return int(row[0]) if row else 0


async def test_the_stop_serves_through_the_lame_duck_then_takes_no_new_calls(probe, probe_database):
    hold = probe.method("Hold", wrappers_pb2.Int64Value)
    with psycopg.connect(probe_database, autocommit=True) as locker:
        locker.execute("SELECT pg_advisory_lock(%s)", (HOLD_KEY,))
        running = [
            asyncio.ensure_future(hold(wrappers_pb2.Int64Value(value=HOLD_KEY), metadata=GATEWAY, timeout=60))
            for _ in range(20)
        ]
        await wait_until(lambda: waiting_for_lock(probe_database, HOLD_KEY) == 20, timeout=30, poll=0.1)
        stopping = asyncio.ensure_future(probe.running.stop(grace=30, lame_duck=60))
        await wait_for_health(probe.channel, health_pb2.HealthCheckResponse.NOT_SERVING, timeout=10)
        await wait_for_health(probe.channel, health_pb2.HealthCheckResponse.SERVING, service=LIVENESS_SERVICE)
        # The lame duck: NOT_SERVING, yet every call is served, on new connections too.
        assert await probe.echo("during the lame duck") == "during the lame duck"
        async with grpc.aio.insecure_channel(probe.running.address) as newcomer:
            assert await echo_on(newcomer, "new connection") == "new connection"
        probe.running.hurry()  # as a second SIGTERM: the lame duck ends now

        # Then the port closes: a call on a new connection is UNAVAILABLE, the client's cue to
        # go elsewhere (one made while the GOAWAY is on its way is still answered).
        async def on_a_new_connection() -> None:
            async with grpc.aio.insecure_channel(probe.running.address) as late:
                await echo_on(late, "late")

        await wait_for_outcome(on_a_new_connection, grpc.StatusCode.UNAVAILABLE, within=10)
        assert not stopping.done()  # it waits for the running calls
        locker.execute("SELECT pg_advisory_unlock(%s)", (HOLD_KEY,))
    replies = await asyncio.gather(*running)
    assert [reply.value for reply in replies] == [HOLD_KEY] * 20
    await stopping


async def echo_on(channel: grpc.aio.Channel, value: str) -> str:
    echo = channel.unary_unary(
        f"/{SERVICE}/Echo",
        request_serializer=wrappers_pb2.StringValue.SerializeToString,
        response_deserializer=wrappers_pb2.StringValue.FromString,
    )
    reply = await echo(wrappers_pb2.StringValue(value=value), metadata=GATEWAY, timeout=10)
    return str(reply.value)
