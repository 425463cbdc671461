"""Delivery: fan-out once per stream, readiness, slow consumers, resume, limits, bus gaps."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import nats as nats_client
import pytest
from agyn_common.rooms import ROOMS
from agyn_inprocess.notifications import Notifications, participant, read, read_none
from agyn_notifications.cursor import Cursor, decode_cursor
from agyn_testkit.calls import expect_error
from agyn_testkit.harness import wait_until


async def test_an_envelope_reaches_every_stream_holding_its_rooms_once(notifications: Notifications) -> None:
    platform = notifications.platform
    alice, bob, carol = await platform.user(), await platform.user(), await platform.user()
    org = await platform.create_org(alice)
    both = await notifications.open(alice, ["thread_participant:me", f"organization:{org}"])
    alice_only = await notifications.open(alice, ["thread_participant:me"])
    bob_call = await notifications.open(bob, ["thread_participant:me"])
    carol_call = await notifications.open(carol, ["thread_participant:me"])

    to_both = await notifications.publish([participant(alice), participant(bob), f"organization:{org}"])
    marker = await notifications.publish([participant(alice), participant(bob)], event="marker")

    # Two of the stream's rooms, one delivery, with the rooms it holds and no one else's.
    first, second = await read(both, 2)
    assert first.envelope.id == to_both.id
    assert list(first.envelope.rooms) == [participant(alice), f"organization:{org}"]
    assert second.envelope.id == marker.id
    for call, identity in ((alice_only, alice), (bob_call, bob)):
        first, second = await read(call, 2)
        assert [first.envelope.id, second.envelope.id] == [to_both.id, marker.id]
        assert list(first.envelope.rooms) == [participant(identity)]
        assert first.envelope.payload == second.envelope.payload
    await read_none(carol_call, 0.3)
    for call in (both, alice_only, bob_call, carol_call):
        call.cancel()


async def test_whatever_is_published_once_headers_arrive_is_delivered(notifications: Notifications) -> None:
    identity = uuid.uuid4()
    for _ in range(5):
        call = await notifications.open(identity, ["thread_participant:me"])
        reply = await notifications.publish([participant(identity)])
        [response] = await read(call)
        assert response.envelope.id == reply.id
        call.cancel()


async def test_a_slow_consumer_is_ended_with_unavailable(notifications_with) -> None:
    async with notifications_with(stream_buffer_size=2) as notifications:
        identity = uuid.uuid4()
        call = await notifications.open(identity, ["thread_participant:me"])
        # Large envelopes fill the transport's window fast; then the buffer of two overflows.
        published = 0
        for _ in range(40):
            await notifications.publish([participant(identity)], blob="x" * 400_000)
            published += 1
        received = 0
        error = None
        async with asyncio.timeout(10):
            try:
                while (await call.read()) is not grpc.aio.EOF:
                    received += 1
            except grpc.aio.AioRpcError as failure:
                error = failure
        assert error is not None and error.code() == grpc.StatusCode.UNAVAILABLE, error
        assert "slow consumer" in (error.details() or "")
        assert received < published


async def test_resume_delivers_exactly_what_was_missed_then_goes_live(notifications: Notifications) -> None:
    platform = notifications.platform
    alice = await platform.user()
    org = await platform.create_org(alice)
    rooms = ["thread_participant:me", f"organization:{org}"]
    call = await notifications.open(alice, rooms)
    sent = [await notifications.publish([participant(alice)], n=n) for n in range(3)]
    # Last one read targets both rooms: its second copy must not come back on resume.
    sent.append(await notifications.publish([participant(alice), f"organization:{org}"], n=3))
    got = await read(call, 4)
    assert [r.envelope.id for r in got] == [s.id for s in sent]
    call.cancel()

    missed = [await notifications.publish([f"organization:{org}", participant(alice)], n=n) for n in (4, 5)]
    await notifications.publish([participant(uuid.uuid4())], n=99)  # someone else's
    resumed = await notifications.open(alice, rooms, resume_after=got[-1].cursor)
    replay = await read(resumed, 2)
    assert [r.envelope.id for r in replay] == [m.id for m in missed]
    assert [r.envelope.payload["n"] for r in replay] == [4, 5]
    live = await notifications.publish([participant(alice)], n=6)
    [response] = await read(resumed)
    assert response.envelope.id == live.id
    await read_none(resumed, 0.3)
    resumed.cancel()

    # From an earlier cursor: everything after it, in order, each once.
    again = await notifications.open(alice, rooms, resume_after=got[1].cursor)
    expected = [sent[2].id, sent[3].id, missed[0].id, missed[1].id, live.id]
    assert [r.envelope.id for r in await read(again, 5)] == expected
    await read_none(again, 0.3)
    again.cancel()


async def test_resume_replays_however_much_piled_up_at_the_pace_of_the_reader(notifications_with) -> None:
    async with notifications_with(stream_buffer_size=4) as notifications:
        identity = uuid.uuid4()
        rooms = ["thread_participant:me"]
        call = await notifications.open(identity, rooms)
        await notifications.publish([participant(identity)], n=0)
        [seen] = await read(call)
        call.cancel()
        missed = [(await notifications.publish([participant(identity)], n=n)).id for n in range(1, 301)]

        resumed = await notifications.open(identity, rooms, resume_after=seen.cursor)
        replayed = [response.envelope.id for response in await read(resumed, 150)]
        # More arrive while the client is halfway: they come after the rest of the replay,
        # across the switch to live, each once.
        during = [(await notifications.publish([participant(identity)], n=n)).id for n in range(301, 311)]
        replayed += [response.envelope.id for response in await read(resumed, 160)]
        assert replayed == missed + during
        live = await notifications.publish([participant(identity)], n=311)
        [response] = await read(resumed)
        assert response.envelope.id == live.id
        await read_none(resumed, 0.3)
        resumed.cancel()


async def test_a_cursor_the_stream_no_longer_keeps_is_out_of_range(
    notifications: Notifications, nats
) -> None:
    identity = uuid.uuid4()
    call = await notifications.open(identity, ["thread_participant:me"])
    for n in range(2):
        await notifications.publish([participant(identity)], n=n)
    first, second = await read(call, 2)
    call.cancel()
    client = await nats_client.connect(nats.url)
    try:
        await client.jetstream().purge_stream(ROOMS.name)
    finally:
        await client.close()
    stale = notifications.subscribe(identity, ["thread_participant:me"], resume_after=first.cursor)
    await expect_error(stale.read(), grpc.StatusCode.OUT_OF_RANGE, "resume_after")
    # Nothing after the last delivered one was lost: resuming there is fine.
    latest = await notifications.open(identity, ["thread_participant:me"], resume_after=second.cursor)
    latest.cancel()
    position = decode_cursor(second.cursor, "c")
    future = Cursor(position.sequence + 1000, position.envelope_id).encode()
    ahead = notifications.subscribe(identity, ["thread_participant:me"], resume_after=future)
    await expect_error(ahead.read(), grpc.StatusCode.OUT_OF_RANGE)


async def test_streams_per_identity_are_limited(notifications_with) -> None:
    async with notifications_with(max_streams_per_identity=2) as notifications:
        identity = uuid.uuid4()
        calls = [await notifications.open(identity, ["thread_participant:me"]) for _ in range(2)]
        over = notifications.subscribe(identity, ["thread_participant:me"])
        await expect_error(over.read(), grpc.StatusCode.RESOURCE_EXHAUSTED)
        other = await notifications.open(uuid.uuid4(), ["thread_participant:me"])  # per identity
        calls[0].cancel()
        replacement = None
        async with asyncio.timeout(5):  # the slot comes back once the cancel reaches the server
            while replacement is None:
                try:
                    replacement = await notifications.open(identity, ["thread_participant:me"])
                except grpc.aio.AioRpcError as error:
                    if error.code() != grpc.StatusCode.RESOURCE_EXHAUSTED:
                        raise
                    await asyncio.sleep(0.05)
        for call in (calls[1], other, replacement):
            call.cancel()


@pytest.mark.fresh_platform
async def test_a_bus_reconnect_ends_open_streams_for_resume(notifications: Notifications, nats) -> None:
    identity = uuid.uuid4()
    call = await notifications.open(identity, ["thread_participant:me"])
    reply = await notifications.publish([participant(identity)])
    [before] = await read(call)
    nats.stop()
    nats.start()
    error = None
    try:
        async with asyncio.timeout(15):
            await call.read()
    except grpc.aio.AioRpcError as failure:
        error = failure
    assert error is not None and error.code() == grpc.StatusCode.UNAVAILABLE, error
    # The stream ended on the reconnect: the bus is back, and the cursor still holds.
    resumed = await notifications.open(identity, ["thread_participant:me"], resume_after=before.cursor)
    later = await notifications.publish([participant(identity)])
    [response] = await read(resumed)
    assert response.envelope.id == later.id != reply.id
    resumed.cancel()


@pytest.mark.fresh_platform
async def test_the_service_serves_again_after_nats_closes_its_connection(
    notifications: Notifications,
) -> None:
    identity = uuid.uuid4()
    call = await notifications.open(identity, ["thread_participant:me"])
    bus = notifications.service.runtime.bus
    lost = bus.client
    # What an over-long room once did: NATS answers with -ERR and closes the connection, and
    # the NATS client does not come back by itself.
    await lost.publish("agyn.rooms." + "x" * 5000, b"")
    await expect_error(call.read(), grpc.StatusCode.UNAVAILABLE, "resume with the last cursor")
    assert lost.is_closed
    await wait_until(lambda: bus.connected)  # a new connection, the rooms stream declared again
    again = await notifications.open(identity, ["thread_participant:me"])
    reply = await notifications.publish([participant(identity)])
    [response] = await read(again)
    assert response.envelope.id == reply.id
    again.cancel()


async def test_stopping_ends_open_streams_at_once_for_resume(notifications_with) -> None:
    async with notifications_with() as notifications:
        identity = await notifications.platform.user()
        call = await notifications.open(identity, [participant(identity)])
        # The default grace (20 s) would keep the stream open; the stopping hook ends it first.
        await notifications.service.stop()
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await read(call)
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "server is stopping" in (ended.value.details() or "")
