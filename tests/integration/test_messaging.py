"""Threads and Notifications joined by the bus, each in its own process (issue 4).

These reach behind the Gateway (internal callers, raw Notifications streams, stopping NATS),
which only the local platform allows: they are not run against a cluster."""

from __future__ import annotations

import asyncio
import random
import uuid

import grpc
import pytest
from agynio.api.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from agynio.api.organizations.v1 import organizations_pb2, organizations_pb2_grpc
from agynio.api.threads.v1 import threads_pb2, threads_pb2_grpc
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from google.protobuf import struct_pb2

pytestmark = pytest.mark.local_platform

GATEWAY = (("x-agyn-caller", "gateway"),)


def as_user(identity: str) -> tuple[tuple[str, str], ...]:
    return (*GATEWAY, ("x-identity-id", identity), ("x-identity-type", "user"))


class Client:
    """The calls a user makes through the Gateway, straight to the service processes."""

    def __init__(self, processes) -> None:
        self.channels = {
            name: grpc.aio.insecure_channel(address) for name, address in processes.addresses.items()
        }
        self.users = users_pb2_grpc.UsersServiceStub(self.channels["users"])
        self.organizations = organizations_pb2_grpc.OrganizationsServiceStub(self.channels["organizations"])
        self.threads = threads_pb2_grpc.ThreadsServiceStub(self.channels["threads"])
        self.notifications = notifications_pb2_grpc.NotificationsServiceStub(self.channels["notifications"])

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close()

    async def user(self, username: str) -> str:
        reply = await self.users.ResolveOrCreateUser(
            users_pb2.ResolveOrCreateUserRequest(
                oidc_subject=f"sub-{uuid.uuid4()}", preferred_username=username
            ),
            metadata=GATEWAY,
        )
        return reply.user.meta.id

    async def thread_between(self, owner: str, friend: str) -> str:
        org = (
            await self.organizations.CreateOrganization(
                organizations_pb2.CreateOrganizationRequest(name="Acme"), metadata=as_user(owner)
            )
        ).organization.id
        invitation = await self.organizations.CreateMembership(
            organizations_pb2.CreateMembershipRequest(
                organization_id=org, identity_id=friend, role=organizations_pb2.MEMBERSHIP_ROLE_MEMBER
            ),
            metadata=as_user(owner),
        )
        await self.organizations.AcceptMembership(
            organizations_pb2.AcceptMembershipRequest(membership_id=invitation.membership.id),
            metadata=as_user(friend),
        )
        thread = await self.threads.CreateThread(
            threads_pb2.CreateThreadRequest(
                organization_id=org, participants=[threads_pb2.ParticipantIdentifier(participant_id=friend)]
            ),
            metadata=as_user(owner),
        )
        return thread.thread.id

    async def send(self, sender: str, thread_id: str, body: str) -> str:
        reply = await self.threads.SendMessage(
            threads_pb2.SendMessageRequest(thread_id=thread_id, body=body), metadata=as_user(sender)
        )
        return reply.message.id

    async def subscribe(self, identity: str, rooms=("thread_participant:me",), resume_after: str = ""):
        """An open stream, returned once its headers say the subscription is live."""
        call = self.notifications.Subscribe(
            notifications_pb2.SubscribeRequest(rooms=list(rooms), resume_after=resume_after),
            metadata=as_user(identity),
        )
        await call.initial_metadata()
        return call


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
