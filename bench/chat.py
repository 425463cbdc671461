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
from dataclasses import dataclass

from agyn_inprocess.platform_client import Client, as_user
from agyn_local.platform import LocalPlatform
from agynio.api.chat.v1 import chat_pb2
from agynio.api.threads.v1 import threads_pb2
from figures import CpuClock, Figures, on_a_local_platform, row, run_for

CHATS = 500
PAGE = 50
LEVELS = (1, 10)
SECONDS_PER_LEVEL = 5.0
MAKING_AT_ONCE = 10
# The processes a listing keeps busy: their CPU per call is printed under each figure.
BUSY = ("chat", "threads", "users", "runners", "organizations")


@dataclass
class Shape:
    label: str
    person: str
    org: str


async def shape(client: Client, label: str, with_agent: bool) -> Shape:
    """A person with CHATS chats in an organization of theirs, each with a colleague (and an agent)."""
    person, colleague = await client.user("person"), await client.user("colleague")
    org = await client.organization(person, colleague)
    others = [colleague]
    if with_agent:
        others.append((await client.agent(person, org)).meta.id)
    request = chat_pb2.CreateChatRequest(organization_id=org, participant_ids=others)
    pending = iter(range(CHATS))

    async def maker() -> None:
        for _ in pending:
            await client.chat.CreateChat(request, metadata=as_user(person), timeout=30)

    await asyncio.gather(*(maker() for _ in range(MAKING_AT_ONCE)))
    return Shape(label, person, org)


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
    client: Client, clocks: dict[str, CpuClock], shape: Shape
) -> dict[int, tuple[Figures, Figures]]:
    """(GetChats, GetThreads) figures by number of callers."""
    chats = chat_pb2.GetChatsRequest(organization_id=shape.org, page_size=PAGE)
    threads = threads_pb2.GetThreadsRequest(participant_id=shape.person, page_size=PAGE)
    caller = as_user(shape.person)
    listed = await client.chat.GetChats(chats, metadata=caller)
    assert len(listed.chats) == PAGE and listed.next_page_token, "a full page, with more after it"

    async def from_chat(worker: int) -> float:
        return await timed(client.chat.GetChats(chats, metadata=caller))

    async def from_threads(worker: int) -> float:
        return await timed(client.threads.GetThreads(threads, metadata=caller))

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
    client = Client(local)
    clocks = {name: CpuClock(local.pid(name)) for name in BUSY}
    try:
        started = time.perf_counter()
        people = await shape(client, f"{CHATS} chats, a page of {PAGE}", with_agent=False)
        agents = await shape(client, "... each with an agent too", with_agent=True)
        print(f"{2 * CHATS} chats made in {time.perf_counter() - started:.0f}s")
        return ChatFigures(await compare(client, clocks, people), await compare(client, clocks, agents))
    finally:
        await client.close()


def main() -> int:
    return on_a_local_platform(measure)


if __name__ == "__main__":
    sys.exit(main())
