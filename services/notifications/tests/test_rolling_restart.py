"""Notifications as a real process restarted under open Subscribe streams, as in a rolling
restart: the streams deliver through the lame duck, then end with UNAVAILABLE, and each
client resuming from its last cursor on the restarted service misses nothing."""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field

import grpc
import nats
from agyn_common.embedded import free_port
from agyn_common.rooms import room_messages
from agyn_inprocess.notifications import participant, payload
from agyn_testkit.calls import metadata
from agyn_testkit.harness import wait_until
from agyn_testkit.processes import service_process
from agynio.api.notifications.v1 import notifications_pb2, notifications_pb2_grpc

LAME_DUCK_SECONDS = 2.0
GRACE_SECONDS = 10.0
SUBSCRIBERS = 5
ROOMS = ["thread_participant:me"]


@dataclass
class Subscriber:
    """A client of one identity holding a Subscribe stream on a connection of its own, and
    resuming it from its last cursor whenever it ends."""

    identity: uuid.UUID
    received: list[str] = field(default_factory=list)  # envelope ids, in order
    ends: list[tuple[float, grpc.StatusCode, str]] = field(default_factory=list)
    live: asyncio.Event = field(default_factory=asyncio.Event)
    cursor: str = ""

    async def run(self, address: str, until: asyncio.Event) -> None:
        async with grpc.aio.insecure_channel(address) as channel:
            stub = notifications_pb2_grpc.NotificationsServiceStub(channel)
            while not until.is_set():
                request = notifications_pb2.SubscribeRequest(rooms=ROOMS, resume_after=self.cursor)
                call = stub.Subscribe(request, metadata=metadata(self.identity))
                opened = False
                try:
                    await call.initial_metadata()
                    # (A call refused at once has its empty headers too, and is done already.)
                    opened = not call.done()
                    if opened:
                        self.live.set()
                    async for response in call:
                        self.received.append(response.envelope.id)
                        self.cursor = response.cursor
                except grpc.aio.AioRpcError as error:
                    if opened:  # the end of a stream, not a reconnect that failed
                        self.ends.append((time.monotonic(), error.code(), error.details() or ""))
                    self.live.clear()
                    await asyncio.sleep(0.1)
                finally:
                    call.cancel()


@dataclass
class Publisher:
    """Envelopes to each identity's room in turn, straight onto the bus (as Threads' outbox
    relay puts them there), every 20 ms until stopped."""

    identities: list[uuid.UUID]
    published: dict[uuid.UUID, list[str]] = field(default_factory=dict)  # envelope ids, in order

    async def run(self, nats_url: str, until: asyncio.Event) -> None:
        self.published = {identity: [] for identity in self.identities}
        client = await nats.connect(nats_url)
        try:
            js = client.jetstream()
            turn = 0
            while not until.is_set():
                identity = self.identities[turn % len(self.identities)]
                envelope = notifications_pb2.NotificationEnvelope(
                    id=str(uuid.uuid4()),
                    event="message.created",
                    rooms=[participant(identity)],
                    payload=payload(turn=turn),
                )
                for copy in room_messages(envelope):
                    await js.publish(copy.subject, copy.body, headers={"Nats-Msg-Id": str(copy.message_id)})
                self.published[identity].append(envelope.id)
                turn += 1
                await asyncio.sleep(0.02)
        finally:
            await client.close()

    def count(self) -> int:
        return sum(len(ids) for ids in self.published.values())


async def test_streams_end_for_resume_and_resume_on_the_restarted_service_misses_nothing(nats, tmp_path):
    port = free_port()
    settings = {
        "NATS_URL": nats.url,
        "ORGANIZATIONS_ADDRESS": f"127.0.0.1:{free_port()}",  # own rooms need neither
        "AGENTS_ADDRESS": f"127.0.0.1:{free_port()}",
        "SHUTDOWN_LAME_DUCK_SECONDS": str(LAME_DUCK_SECONDS),
        "SHUTDOWN_GRACE_SECONDS": str(GRACE_SECONDS),
    }
    subscribers = [Subscriber(uuid.uuid4()) for _ in range(SUBSCRIBERS)]
    stop_subscribing, stop_publishing = asyncio.Event(), asyncio.Event()
    address = f"127.0.0.1:{port}"
    async with service_process("agyn_notifications", port, tmp_path / "first.log", **settings) as first:
        await first.wait_serving()
        clients = [asyncio.create_task(s.run(address, stop_subscribing)) for s in subscribers]
        try:
            for subscriber in subscribers:
                await asyncio.wait_for(subscriber.live.wait(), 15)
            publisher = Publisher([s.identity for s in subscribers])
            publishing = asyncio.create_task(publisher.run(nats.url, stop_publishing))
            await wait_until(lambda: all(len(s.received) >= 3 for s in subscribers), timeout=15)

            signalled = time.monotonic()
            first.signal()
            assert await first.exit_code(within=LAME_DUCK_SECONDS + GRACE_SECONDS + 15) == 0, first.log_tail()
            # Every stream ended once, with the status clients resume from, and only after the
            # lame duck (which began no sooner than the signal): it delivered until then.
            for subscriber in subscribers:
                [(ended, code, details)] = subscriber.ends
                assert code == grpc.StatusCode.UNAVAILABLE
                assert "resume with the last cursor" in details
                assert ended >= signalled + LAME_DUCK_SECONDS
            assert [e for e in first.log() if e["level"] in ("ERROR", "CRITICAL")] == []

            # Published while no Notifications runs, then the restarted one replays it.
            down_at = publisher.count()
            await wait_until(lambda: publisher.count() >= down_at + 2 * SUBSCRIBERS, timeout=15)
            restarted = service_process("agyn_notifications", port, tmp_path / "second.log", **settings)
            async with restarted as second:
                await second.wait_serving()
                for subscriber in subscribers:
                    await asyncio.wait_for(subscriber.live.wait(), 15)
                stop_publishing.set()
                await publishing
                published = publisher.published
                caught_up = lambda: all(len(s.received) >= len(published[s.identity]) for s in subscribers)  # noqa: E731
                await wait_until(caught_up, timeout=30)
                for subscriber in subscribers:
                    # Everything, once, in order, across the restart.
                    assert subscriber.received == published[subscriber.identity]
                second.signal()
                assert await second.exit_code(within=LAME_DUCK_SECONDS + GRACE_SECONDS + 15) == 0
        finally:
            stop_publishing.set()
            stop_subscribing.set()
            for client in clients:
                client.cancel()
            await asyncio.gather(*clients, return_exceptions=True)
