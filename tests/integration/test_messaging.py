"""Threads and Notifications joined by the bus, each in its own process (issue 4).

These reach behind the Gateway (internal callers, raw Notifications streams, stopping NATS),
which only the local platform allows: they are not run against a cluster."""

from __future__ import annotations

import asyncio
import random
import uuid

import grpc
import pytest
from agyn_inprocess.platform_client import Client, as_user
from agynio.api.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from google.protobuf import struct_pb2

pytestmark = pytest.mark.local_platform


async def test_a_message_sent_on_threads_reaches_the_recipients_stream(processes):
    client = Client(processes)
    owner, friend = await client.user("olga"), await client.user("fred")
    thread_id = await client.thread_between(owner, friend)
    stream = await client.subscribe(friend)
    message_id = await client.send(owner, thread_id, "hello")
    async with asyncio.timeout(10):
        reply = await stream.read()
    assert reply.envelope.event == "message.created" and reply.envelope.source == "threads"
    assert dict(reply.envelope.payload) == {"thread_id": thread_id, "message_id": message_id}
    assert list(reply.envelope.rooms) == [f"thread_participant:{friend}"]
    stream.cancel()
    await client.close()


async def test_messages_sent_while_nats_is_down_all_arrive_once_it_is_back(processes, nats):
    client = Client(processes)
    owner, friend = await client.user("olga"), await client.user("fred")
    thread_id = await client.thread_between(owner, friend)
    stream = await client.subscribe(friend)
    await client.send(owner, thread_id, "before")
    async with asyncio.timeout(10):
        cursor = (await stream.read()).cursor

    nats.stop()
    sent = [await client.send(owner, thread_id, f"during {n}") for n in range(30)]  # stored regardless
    nats.start()

    # The stream broke with the bus; the client resumes after the last envelope it saw, as
    # often as it takes while Notifications reconnects.
    received: list[str] = []
    async with asyncio.timeout(30):
        while len(received) < len(sent):
            stream = await client.subscribe(friend, resume_after=cursor)
            try:
                async for reply in stream:
                    received.append(reply.envelope.payload["message_id"])
                    cursor = reply.cursor
                    if len(received) == len(sent):
                        break
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE:  # only the bus outage may end it
                    raise
                await asyncio.sleep(0.2)
    assert received == sent  # every one, once, in order
    stream.cancel()
    await client.close()


async def test_a_thousand_streams_each_receive_exactly_their_rooms(processes):
    client = Client(processes)
    channels = [grpc.aio.insecure_channel(processes.addresses["notifications"]) for _ in range(10)]
    identities = [str(uuid.uuid4()) for _ in range(1000)]
    refused: list[str] = []

    async def open_stream(index: int, identity: str):
        """Subscribe as a client does: on a refusal, back off and subscribe again."""
        stub = notifications_pb2_grpc.NotificationsServiceStub(channels[index % len(channels)])
        for _ in range(5):
            call = stub.Subscribe(
                notifications_pb2.SubscribeRequest(rooms=["thread_participant:me"]),
                metadata=as_user(identity),
            )
            await call.initial_metadata()
            if not call.done():
                return call
            refused.append(f"{await call.code()}: {await call.details()}")
            await asyncio.sleep(0.5)
        raise AssertionError(f"could not subscribe: {refused[-5:]}")

    streams = []
    for wave in range(0, len(identities), 100):  # clients arrive in waves, not all in one instant
        streams += await asyncio.gather(
            *(open_stream(index, identities[index]) for index in range(wave, wave + 100))
        )
    assert len(refused) < 50, refused  # a refusal now and then is retried; many would be a fault

    chooser = random.Random(4)
    expected: dict[str, list[str]] = {identity: [] for identity in identities}
    publisher = (("x-agyn-caller", "threads"),)
    for n in range(200):
        targets = chooser.sample(identities, chooser.randint(1, 20))
        payload = struct_pb2.Struct()
        payload.update({"n": n})
        reply = await client.notifications.Publish(
            notifications_pb2.PublishRequest(
                event="test.event",
                source="test",
                rooms=[f"thread_participant:{t}" for t in targets],
                payload=payload,
            ),
            metadata=publisher,
        )
        for target in targets:
            expected[target].append(reply.id)

    async def drain(stream, count: int) -> list[str]:
        got = []
        while len(got) < count:
            got.append((await stream.read()).envelope.id)
        return got

    async with asyncio.timeout(60):
        received = await asyncio.gather(
            *(
                drain(stream, len(expected[identity]))
                for stream, identity in zip(streams, identities, strict=True)
            )
        )
    for identity, got in zip(identities, received, strict=True):
        assert got == expected[identity]
    # Nothing beyond: a marker to every room comes next on every stream.
    marker = await client.notifications.Publish(
        notifications_pb2.PublishRequest(
            event="test.end",
            rooms=[f"thread_participant:{i}" for i in identities[:256]],
            payload=struct_pb2.Struct(),
        ),
        metadata=publisher,
    )
    async with asyncio.timeout(30):
        nexts = await asyncio.gather(*(stream.read() for stream in streams[:256]))
    assert {reply.envelope.id for reply in nexts} == {marker.id}
    for stream in streams:
        stream.cancel()
    for channel in channels:
        await channel.close()
    await client.close()
