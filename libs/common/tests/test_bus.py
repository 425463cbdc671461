"""Durable consumption of the events stream: nothing published while a consumer is away is lost."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid

import nats as nats_client
import pytest
from agyn_common.bus import EVENTS, MAX_SUBJECT_BYTES, Bus, checked_subject, ensure_stream
from agyn_common.rooms import ROOMS
from agyn_testkit.harness import wait_until
from nats.js.api import AckPolicy, ConsumerConfig


async def publish(nats_url: str, subject: str, *numbers: int) -> None:
    connection = await nats_client.connect(nats_url)
    js = connection.jetstream()
    for number in numbers:
        await js.publish(subject, json.dumps({"n": number}).encode())
    await connection.close()


async def started(nats_url: str, durable: str, subject: str, handler) -> Bus:
    bus = Bus(nats_url, name="consumer-test", streams=(EVENTS,))
    bus.consume(durable, subject, handler)
    bus.start()
    await bus.wait_ready(10)
    return bus


async def test_a_durable_consumer_gets_what_was_published_while_it_was_away(nats):
    subject = f"agyn.events.test{uuid.uuid4().hex}.thing.happened"
    durable = f"test-{uuid.uuid4().hex}"
    seen: list[int] = []

    async def record(message) -> None:
        seen.append(json.loads(message.data)["n"])

    bus = await started(nats.url, durable, subject, record)
    await publish(nats.url, subject, 1, 2)
    await wait_until(lambda: seen == [1, 2])
    await bus.close()

    await publish(nats.url, subject, 3, 4)  # nobody is listening now
    bus = await started(nats.url, durable, subject, record)
    await wait_until(lambda: len(seen) >= 4)
    await asyncio.sleep(0.5)  # acknowledged messages do not come back
    assert seen == [1, 2, 3, 4]
    await bus.close()


async def test_a_message_whose_handler_fails_is_delivered_again(nats):
    subject = f"agyn.events.test{uuid.uuid4().hex}.thing.happened"
    attempts: list[int] = []

    async def fail_first(message) -> None:
        attempts.append(json.loads(message.data)["n"])
        if len(attempts) == 1:
            raise RuntimeError("the database blinked")

    bus = await started(nats.url, f"test-{uuid.uuid4().hex}", subject, fail_first)
    await publish(nats.url, subject, 7)
    await wait_until(lambda: len(attempts) == 2)
    assert attempts == [7, 7]
    await bus.close()


async def test_two_replicas_share_the_work(nats):
    subject = f"agyn.events.test{uuid.uuid4().hex}.thing.happened"
    durable = f"test-{uuid.uuid4().hex}"
    first: list[int] = []
    second: list[int] = []

    def into(target):
        async def record(message) -> None:
            target.append(json.loads(message.data)["n"])

        return record

    replicas = [await started(nats.url, durable, subject, into(target)) for target in (first, second)]
    await publish(nats.url, subject, *range(20))
    await wait_until(lambda: len(first) + len(second) >= 20)
    await asyncio.sleep(0.5)
    assert sorted(first + second) == list(range(20))  # each once, whichever replica took it
    for bus in replicas:
        await bus.close()


@pytest.mark.parametrize(
    "subject", ["", "a" * (MAX_SUBJECT_BYTES + 1), "agyn.events.a b", "agyn.events.a\r\nPUB x 0"]
)
def test_subjects_nats_would_refuse_never_pass(subject):
    with pytest.raises(ValueError, match="NATS subject"):
        checked_subject(subject)


def test_subjects_nats_takes_pass_unchanged():
    longest = "a" * MAX_SUBJECT_BYTES
    assert checked_subject(longest) == longest
    assert checked_subject("agyn.rooms.custom._w6k") == "agyn.rooms.custom._w6k"


async def make_nats_close(bus: Bus) -> None:
    """What an over-long room once did: NATS answers a control line longer than it takes with
    -ERR and closes the connection, and the client does not reconnect by itself."""
    closed = bus.client
    await closed.publish("agyn.events." + "x" * 5000, b"")
    await wait_until(lambda: closed.is_closed)
    assert "control line" in str(closed.last_error)


async def test_a_connection_nats_closes_for_good_is_replaced_with_everything_on_it(nats):
    live_subject = f"agyn.test{uuid.uuid4().hex}.live"
    durable_subject = f"agyn.events.test{uuid.uuid4().hex}.thing.happened"
    live: list[bytes] = []
    durable: list[int] = []
    gaps: list[None] = []

    async def on_live(message) -> None:
        live.append(message.data)

    async def on_durable(message) -> None:
        durable.append(json.loads(message.data)["n"])

    bus = Bus(nats.url, name="reconnect-test", streams=(EVENTS,))
    bus.subscribe(live_subject, on_live)
    bus.consume(f"test-{uuid.uuid4().hex}", durable_subject, on_durable)
    bus.on_gap(lambda: gaps.append(None))
    bus.start()
    await bus.wait_ready(10)
    first = bus.client
    gaps.clear()

    await make_nats_close(bus)
    await wait_until(lambda: bus.connected)
    assert bus.client is not first
    assert gaps  # whatever was published meanwhile went unwatched

    other = await nats_client.connect(nats.url)
    try:
        await other.publish(live_subject, b"still here")
        await other.flush()
    finally:
        await other.close()
    await publish(nats.url, durable_subject, 1)
    await wait_until(lambda: live == [b"still here"] and durable == [1])
    await bus.close()
    assert bus.client.is_closed  # our own close is not undone


async def test_the_rooms_stream_holds_more_consumers_than_the_nats_default(nats):
    """Each open Subscribe holds a consumer on the rooms stream; NATS 2.15 refuses the 1,001st
    consumer of a stream that sets no limit of its own."""
    spec = dataclasses.replace(
        ROOMS, name=f"TEST_ROOMS_{uuid.uuid4().hex}", subjects=(f"t{uuid.uuid4().hex}.>",)
    )
    connection = await nats_client.connect(nats.url)
    js = connection.jetstream()
    try:
        await ensure_stream(js, spec)
        for _ in range(1001):
            await js.add_consumer(spec.name, ConsumerConfig(ack_policy=AckPolicy.NONE, mem_storage=True))
        assert (await js.stream_info(spec.name)).state.consumer_count == 1001
    finally:
        await js.delete_stream(spec.name)
        await connection.close()
