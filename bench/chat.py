"""Chat's GetChats next to Threads' own listing of the same threads (issue 29).

    make bench        (or: .venv/bin/python bench/chat.py)

On one local platform (every service its own process, as in `make up`): a person with
CHATS chats (made with CreateChat), each with a colleague; then, in turns, one page of PAGE
of them from Chat (GetChats: Chat's rows, one participation check in Threads, the unread
counts, the participants' types, and the activity of agents from Runners) and from Threads
(GetThreads: the same threads, the person's own listing), straight to each service as the
Gateway calls it, at 1 and 10 callers. The same again for another person whose chats also
have an agent, whose activity Chat asks Runners for (one lookup per chat and agent). A
benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from dataclasses import dataclass

import grpc
from agyn_local.platform import LocalPlatform
from agynio.api.agents.v1 import agents_pb2, agents_pb2_grpc
from agynio.api.chat.v1 import chat_pb2, chat_pb2_grpc
from agynio.api.organizations.v1 import organizations_pb2, organizations_pb2_grpc
from agynio.api.threads.v1 import threads_pb2, threads_pb2_grpc
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from figures import CpuClock, Figures, on_a_local_platform, row, run_for

CHATS = 500
PAGE = 50
LEVELS = (1, 10)
SECONDS_PER_LEVEL = 5.0
MAKING_AT_ONCE = 10
# The processes a listing keeps busy: their CPU per call is printed under each figure.
BUSY = ("chat", "threads", "users", "runners", "organizations")
GATEWAY = (("x-agyn-caller", "gateway"),)


def as_user(identity: str) -> tuple[tuple[str, str], ...]:
    return (*GATEWAY, ("x-identity-id", identity), ("x-identity-type", "user"))


@dataclass
class Shape:
    label: str
    person: str
    org: str


class Platform:
    def __init__(self, addresses: dict[str, str]) -> None:
        self.channels = [grpc.aio.insecure_channel(address) for address in addresses.values()]
        channel = dict(zip(addresses, self.channels, strict=True))
        self.users = users_pb2_grpc.UsersServiceStub(channel["users"])
        self.orgs = organizations_pb2_grpc.OrganizationsServiceStub(channel["organizations"])
        self.agents = agents_pb2_grpc.AgentsServiceStub(channel["agents"])
        self.threads = threads_pb2_grpc.ThreadsServiceStub(channel["threads"])
        self.chat = chat_pb2_grpc.ChatServiceStub(channel["chat"])

    async def user(self) -> str:
        reply = await self.users.ResolveOrCreateUser(
            users_pb2.ResolveOrCreateUserRequest(oidc_subject=f"bench-{uuid.uuid4()}"), metadata=GATEWAY
        )
        return str(reply.user.meta.id)

    async def shape(self, label: str, with_agent: bool) -> Shape:
        """A person with CHATS chats in an organization of theirs, each with a colleague (and an
        agent)."""
        person, colleague = await self.user(), await self.user()
        created = await self.orgs.CreateOrganization(
            organizations_pb2.CreateOrganizationRequest(name="Bench"), metadata=as_user(person)
        )
        org = str(created.organization.id)
        invitation = await self.orgs.CreateMembership(
            organizations_pb2.CreateMembershipRequest(
                organization_id=org, identity_id=colleague, role=organizations_pb2.MEMBERSHIP_ROLE_MEMBER
            ),
            metadata=as_user(person),
        )
        await self.orgs.AcceptMembership(
            organizations_pb2.AcceptMembershipRequest(membership_id=invitation.membership.id),
            metadata=as_user(colleague),
        )
        others = [colleague]
        if with_agent:
            agent = await self.agents.CreateAgent(
                agents_pb2.CreateAgentRequest(
                    organization_id=org,
                    name="Helper",
                    model=str(uuid.uuid4()),
                    init_image="ghcr.io/example/init:1",
                    availability=agents_pb2.AGENT_AVAILABILITY_INTERNAL,
                ),
                metadata=as_user(person),
            )
            others.append(str(agent.agent.meta.id))
        request = chat_pb2.CreateChatRequest(organization_id=org, participant_ids=others)
        pending = iter(range(CHATS))

        async def maker() -> None:
            for _ in pending:
                await self.chat.CreateChat(request, metadata=as_user(person), timeout=30)

        await asyncio.gather(*(maker() for _ in range(MAKING_AT_ONCE)))
        return Shape(label, person, org)

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()


async def timed(call) -> float:
    started = time.perf_counter()
    await call
    return time.perf_counter() - started


async def run_measured(
    clocks: dict[str, CpuClock], concurrency: int, one
) -> tuple[Figures, dict[str, float]]:
    """The figures of `one` at `concurrency`, and each busy process's CPU ms per call."""
    before = {name: clock.seconds() for name, clock in clocks.items()}
    figures = await run_for(concurrency, SECONDS_PER_LEVEL, one)
    return figures, {
        name: (clock.seconds() - before[name]) * 1000 / figures.count for name, clock in clocks.items()
    }


def cpu_row(cpu: dict[str, float]) -> str:
    return "    CPU ms per call: " + ", ".join(f"{name} {ms:.2f}" for name, ms in cpu.items() if ms >= 0.005)


async def compare(
    platform: Platform, clocks: dict[str, CpuClock], shape: Shape
) -> dict[int, tuple[Figures, Figures]]:
    """(GetChats, GetThreads) figures by number of callers."""
    chats = chat_pb2.GetChatsRequest(organization_id=shape.org, page_size=PAGE)
    threads = threads_pb2.GetThreadsRequest(participant_id=shape.person, page_size=PAGE)
    caller = as_user(shape.person)
    listed = await platform.chat.GetChats(chats, metadata=caller)
    assert len(listed.chats) == PAGE and listed.next_page_token, "a full page, with more after it"

    async def from_chat(worker: int) -> float:
        return await timed(platform.chat.GetChats(chats, metadata=caller))

    async def from_threads(worker: int) -> float:
        return await timed(platform.threads.GetThreads(threads, metadata=caller))

    figures = {}
    print(f"{shape.label:<34}{'rate':>12}{'p50 ms':>10}{'p99 ms':>10}")
    for concurrency in LEVELS:
        from_chat_figures, chat_cpu = await run_measured(clocks, concurrency, from_chat)
        from_threads_figures, threads_cpu = await run_measured(clocks, concurrency, from_threads)
        figures[concurrency] = (from_chat_figures, from_threads_figures)
        ratio = from_chat_figures.throughput / from_threads_figures.throughput
        print(f"-- {concurrency} concurrent caller(s)")
        print(row("Threads GetThreads", from_threads_figures))
        print(cpu_row(threads_cpu))
        print(f"{row('Chat GetChats', from_chat_figures)}{ratio:>9.2f}x")
        print(cpu_row(chat_cpu))
    return figures


@dataclass
class ChatFigures:
    people: dict[int, tuple[Figures, Figures]]
    with_agents: dict[int, tuple[Figures, Figures]]

    @staticmethod
    def ratio(shape: dict[int, tuple[Figures, Figures]], callers: int) -> float:
        """GetChats' rate over GetThreads' at `callers`."""
        from_chat, from_threads = shape[callers]
        return from_chat.throughput / from_threads.throughput


async def measure(local: LocalPlatform) -> ChatFigures:
    platform = Platform(local.addresses)
    clocks = {name: CpuClock(local.pid(name)) for name in BUSY}
    try:
        started = time.perf_counter()
        people = await platform.shape(f"{CHATS} chats, a page of {PAGE}", with_agent=False)
        agents = await platform.shape("... each with an agent too", with_agent=True)
        print(f"{2 * CHATS} chats made in {time.perf_counter() - started:.0f}s")
        return ChatFigures(await compare(platform, clocks, people), await compare(platform, clocks, agents))
    finally:
        await platform.close()


def main() -> int:
    return on_a_local_platform(measure)


if __name__ == "__main__":
    sys.exit(main())
