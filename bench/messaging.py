"""SendMessage and its delivery to Subscribe, next to the raw tools underneath (issue 4).

    make bench        (or: .venv/bin/python bench/messaging.py)

Starts the local platform in a temporary directory (every service its own process, as in
`make up`), then for 1, 10 and 100 concurrent senders measures SendMessage throughput and
latency, and the delay from the start of SendMessage to the envelope's arrival on the
recipient's Subscribe stream. In the same run it measures a bare PostgreSQL insert-and-commit
and a bare NATS publish-to-receive at the same concurrency, and prints our figures as ratios
of those. A benchmark, not a test: it asserts nothing and prints its table.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
import uuid
from dataclasses import dataclass

import grpc
import nats
import sqlalchemy as sa
from agyn_common.db import Database
from agyn_local.platform import LocalPlatform
from agynio.api.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from agynio.api.organizations.v1 import organizations_pb2, organizations_pb2_grpc
from agynio.api.threads.v1 import threads_pb2, threads_pb2_grpc
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from figures import CpuClock, Figures, on_a_local_platform, row, run_for

LEVELS = (1, 10, 100)
SECONDS_PER_LEVEL = 6.0
GATEWAY = (("x-agyn-caller", "gateway"),)


def as_user(identity: str) -> tuple[tuple[str, str], ...]:
    return (*GATEWAY, ("x-identity-id", identity), ("x-identity-type", "user"))


class Platform:
    def __init__(self, addresses: dict[str, str]) -> None:
        self.channel = {name: grpc.aio.insecure_channel(address) for name, address in addresses.items()}
        self.users = users_pb2_grpc.UsersServiceStub(self.channel["users"])
        self.orgs = organizations_pb2_grpc.OrganizationsServiceStub(self.channel["organizations"])
        self.threads = threads_pb2_grpc.ThreadsServiceStub(self.channel["threads"])
        self.notifications = notifications_pb2_grpc.NotificationsServiceStub(self.channel["notifications"])

    async def user(self) -> str:
        reply = await self.users.ResolveOrCreateUser(
            users_pb2.ResolveOrCreateUserRequest(oidc_subject=f"bench-{uuid.uuid4()}"), metadata=GATEWAY
        )
        return reply.user.meta.id

    async def pair(self, org: str, owner: str) -> tuple[str, str]:
        """A recipient in the organization and a thread from the owner to it."""
        recipient = await self.user()
        invitation = await self.orgs.CreateMembership(
            organizations_pb2.CreateMembershipRequest(
                organization_id=org, identity_id=recipient, role=organizations_pb2.MEMBERSHIP_ROLE_MEMBER
            ),
            metadata=as_user(owner),
        )
        await self.orgs.AcceptMembership(
            organizations_pb2.AcceptMembershipRequest(membership_id=invitation.membership.id),
            metadata=as_user(recipient),
        )
        thread = await self.threads.CreateThread(
            threads_pb2.CreateThreadRequest(
                organization_id=org,
                participants=[threads_pb2.ParticipantIdentifier(participant_id=recipient)],
            ),
            metadata=as_user(owner),
        )
        return recipient, thread.thread.id


async def messaging(platform: Platform, concurrency: int) -> tuple[Figures, Figures]:
    """SendMessage figures, and send-to-receipt figures, with one thread and stream per sender."""
    owner = await platform.user()
    org = (
        await platform.orgs.CreateOrganization(
            organizations_pb2.CreateOrganizationRequest(name="bench"), metadata=as_user(owner)
        )
    ).organization.id
    pairs = await asyncio.gather(*(platform.pair(org, owner) for _ in range(concurrency)))
    sent_at: dict[str, float] = {}
    received_at: dict[str, float] = {}  # an envelope may arrive before SendMessage's reply does
    streams = [
        platform.notifications.Subscribe(
            notifications_pb2.SubscribeRequest(rooms=["thread_participant:me"]), metadata=as_user(recipient)
        )
        for recipient, _ in pairs
    ]
    await asyncio.gather(*(stream.initial_metadata() for stream in streams))

    async def receive(stream) -> None:
        async for reply in stream:
            received_at[reply.envelope.payload["message_id"]] = time.perf_counter()

    receivers = [asyncio.create_task(receive(stream)) for stream in streams]

    async def send(worker: int) -> float:
        started = time.perf_counter()
        reply = await platform.threads.SendMessage(
            threads_pb2.SendMessageRequest(thread_id=pairs[worker][1], body="benchmark"),
            metadata=as_user(owner),
        )
        sent_at[reply.message.id] = started
        return time.perf_counter() - started

    sending = await run_for(concurrency, SECONDS_PER_LEVEL, send)
    with contextlib.suppress(TimeoutError):  # the envelopes still in flight
        async with asyncio.timeout(10):
            while True:
                if sent_at.keys() <= received_at.keys():
                    break
                await asyncio.sleep(0.05)
    for stream in streams:
        stream.cancel()
    await asyncio.gather(*receivers, return_exceptions=True)
    delays = [received_at[key] - started for key, started in sent_at.items() if key in received_at]
    return sending, Figures(len(delays), sending.seconds, delays)


async def raw_postgres(database_url: str, concurrency: int) -> Figures:
    database = Database(database_url)  # the same pool a service has
    async with database.transaction() as connection:
        await connection.execute(
            sa.text("CREATE TABLE IF NOT EXISTS bench_rows (id uuid PRIMARY KEY, body text)")
        )

    async def insert(_: int) -> float:
        started = time.perf_counter()
        async with database.transaction() as connection:
            await connection.execute(
                sa.text("INSERT INTO bench_rows (id, body) VALUES (:id, 'benchmark')"), {"id": uuid.uuid4()}
            )
        return time.perf_counter() - started

    figures = await run_for(concurrency, SECONDS_PER_LEVEL / 2, insert)
    await database.close()
    return figures


async def raw_nats(nats_url: str, concurrency: int) -> Figures:
    connection = await nats.connect(nats_url)
    arrived: dict[str, asyncio.Future[float]] = {}

    async def on_message(message) -> None:
        future = arrived.pop(message.data.decode(), None)
        if future is not None:
            future.set_result(time.perf_counter())

    await connection.subscribe("bench.raw", cb=on_message)
    await connection.flush()

    async def round_trip(_: int) -> float:
        key = str(uuid.uuid4())
        future = asyncio.get_running_loop().create_future()
        arrived[key] = future
        started = time.perf_counter()
        await connection.publish("bench.raw", key.encode())
        return await future - started

    figures = await run_for(concurrency, SECONDS_PER_LEVEL / 2, round_trip)
    await connection.close()
    return figures


@dataclass
class Level:
    """One concurrency level's figures: SendMessage, its delivery, the raw tools beneath, and
    the CPU per SendMessage of the Threads and Notifications processes."""

    sending: Figures
    delivery: Figures
    insert: Figures
    publish: Figures
    threads_cpu_ms: float
    notifications_cpu_ms: float


async def measure(platform: LocalPlatform) -> dict[int, Level]:
    client = Platform(platform.addresses)
    threads, notifications = CpuClock(platform.pid("threads")), CpuClock(platform.pid("notifications"))
    levels: dict[int, Level] = {}
    print(f"{'':<34}{'rate':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for concurrency in LEVELS:
        cpu_before = threads.seconds(), notifications.seconds()
        sending, delivery = await messaging(client, concurrency)
        # Per message sent; the set-up of each level (users, threads) is a small share of it.
        threads_cpu, notifications_cpu = (
            (clock.seconds() - before) * 1000 / sending.count
            for clock, before in zip((threads, notifications), cpu_before, strict=True)
        )
        insert = await raw_postgres(platform.database_url("bench"), concurrency)
        publish = await raw_nats(platform.nats_url, concurrency)
        levels[concurrency] = Level(sending, delivery, insert, publish, threads_cpu, notifications_cpu)
        print(f"-- {concurrency} concurrent sender(s)")
        print(row("SendMessage", sending))
        print(row("SendMessage -> Subscribe receipt", delivery))
        print(row("raw PostgreSQL insert+commit", insert))
        print(row("raw NATS publish -> receive", publish))
        print(
            f"{'ratios':<34}send p50 = {sending.percentile(0.5) / insert.percentile(0.5):.1f}x insert, "
            f"delivery p50 = {delivery.percentile(0.5) / publish.percentile(0.5):.1f}x NATS, "
            f"throughput = {sending.throughput / insert.throughput:.2f}x insert"
        )
        print(
            f"{'CPU per SendMessage':<34}"
            f"Threads {threads_cpu:.2f} ms, Notifications {notifications_cpu:.2f} ms"
        )
        if delivery.count < sending.count:
            print(f"{'':<34}(only {delivery.count} of {sending.count} envelopes arrived within 10 s)")
    for channel in client.channel.values():
        await channel.close()
    return levels


def main() -> int:
    return on_a_local_platform(measure)


if __name__ == "__main__":
    sys.exit(main())
