"""Whether an agent is at work on a chat, from Runners' workloads (chat sheet §3.3, the rules
of the contract's baseline; §8 #12, #13).

Asked as the caller, so that the workload ids returned are ones the caller may follow
(`workload:<id>` rooms need membership of the workload's organization). The latest workload of
every (thread, agent) pair of a page comes from one WorkloadAccessService call (our internal
addition, DESIGN §2), which answers per pair what ListWorkloadsByThread with page_size 1 would.
Neither Identity nor Runners can fail a listing: a lookup that fails contributes nothing, and
is logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import grpc
from agyn_common.cache import TtlCache
from agyn_common.caller import Caller
from agynio.api.chat.v1 import chat_pb2 as pb
from agynio.api.identity.v1 import identity_pb2, identity_pb2_grpc
from agynio.api.runners.v1 import access_pb2, access_pb2_grpc, runners_pb2
from agynio.api.threads.v1 import threads_pb2

log = logging.getLogger(__name__)

PAIRS_PER_CALL = 100  # Runners' largest GetLatestThreadWorkloads
IN_FLIGHT = 8  # Runners calls at once, per listing (one, unless a page has over 100 pairs)
IDENTITY_BATCH = 1000  # Identity's largest BatchGetIdentityTypes
# An identity's type never changes: once known it is kept (the least recently used go first).
KNOWN_TYPES = 100_000
KEPT_SECONDS = 24 * 3600.0
A = TypeVar("A")
R = TypeVar("R")

RUNNING, PENDING, FINISHED = (
    pb.CHAT_ACTIVITY_STATUS_RUNNING,
    pb.CHAT_ACTIVITY_STATUS_PENDING,
    pb.CHAT_ACTIVITY_STATUS_FINISHED,
)
# What the latest workload of an agent says; RUNNING depends on what the agent does.
_BY_STATUS = {
    runners_pb2.WORKLOAD_STATUS_STARTING: PENDING,
    runners_pb2.WORKLOAD_STATUS_STOPPING: PENDING,
    runners_pb2.WORKLOAD_STATUS_FAILED: PENDING,
    runners_pb2.WORKLOAD_STATUS_STOPPED: FINISHED,
}
_BY_AGENT_STATE = {
    runners_pb2.WORKLOAD_AGENT_STATE_PROCESSING: RUNNING,
    runners_pb2.WORKLOAD_AGENT_STATE_IDLE: FINISHED,
}
_ACTIVE = frozenset(
    {
        runners_pb2.WORKLOAD_STATUS_STARTING,
        runners_pb2.WORKLOAD_STATUS_RUNNING,
        runners_pb2.WORKLOAD_STATUS_STOPPING,
    }
)
_PRECEDENCE = (RUNNING, PENDING, FINISHED)


@dataclass(frozen=True)
class Activity:
    status: pb.ChatActivityStatus = pb.CHAT_ACTIVITY_STATUS_UNSPECIFIED
    workload_ids: tuple[str, ...] = ()


NOT_TRACKED = Activity()


@dataclass(frozen=True)
class Contribution:
    """What one agent's latest workload in a thread says."""

    status: pb.ChatActivityStatus
    workload_id: str | None = None  # when that workload is active


def contribution(workloads: Sequence[runners_pb2.Workload]) -> Contribution | None:
    """The latest workload's word; None for data the rules do not know (treated as a failed
    lookup)."""
    if not workloads:
        return Contribution(FINISHED)
    latest = workloads[0]
    if not latest.meta.id:
        return None
    if latest.status == runners_pb2.WORKLOAD_STATUS_RUNNING:
        status = _BY_AGENT_STATE.get(latest.agent_state)
    else:
        status = _BY_STATUS.get(latest.status)
    if status is None:
        return None
    return Contribution(status, latest.meta.id if latest.status in _ACTIVE else None)


def aggregate(contributions: Iterable[Contribution | None]) -> Activity:
    """Running over pending over finished; FINISHED when no lookup said anything."""
    said = [item for item in contributions if item is not None]
    found = {item.status for item in said}
    status = next((candidate for candidate in _PRECEDENCE if candidate in found), FINISHED)
    return Activity(status, tuple(item.workload_id for item in said if item.workload_id is not None))


async def bounded(items: Sequence[A], work: Callable[[A], Awaitable[R]], limit: int) -> list[R]:
    """`work` over `items`, at most `limit` at once, the results in the items' order."""
    results: dict[int, R] = {}
    pending = iter(enumerate(items))

    async def worker() -> None:
        for index, item in pending:  # one iterator for every worker: each item is taken once
            results[index] = await work(item)

    await asyncio.gather(*(worker() for _ in range(min(limit, len(items)))))
    return [results[index] for index in range(len(items))]


class Activities:
    def __init__(self, identity: grpc.aio.Channel, runners: grpc.aio.Channel | None) -> None:
        self._identity = identity_pb2_grpc.IdentityServiceStub(identity)
        self._runners = None if runners is None else access_pb2_grpc.WorkloadAccessServiceStub(runners)
        self._is_agent: TtlCache[str, bool] = TtlCache(ttl=KEPT_SECONDS, max_entries=KNOWN_TYPES)

    async def of(self, caller: Caller, threads: Sequence[threads_pb2.Thread]) -> dict[str, Activity]:
        """The activity of each thread's chat, by thread id; none when activity is not tracked."""
        if self._runners is None:
            return {}
        # A degraded thread shows no activity; passive participants are not at work.
        tracked = [thread for thread in threads if thread.status != threads_pb2.THREAD_STATUS_DEGRADED]
        candidates = {p.id for thread in tracked for p in thread.participants if not p.passive}
        agents = await self._agents_among(caller, sorted(candidates))
        pairs = [
            (thread.id, p.id)
            for thread in tracked
            for p in thread.participants
            if not p.passive and p.id in agents
        ]
        batches = [pairs[start : start + PAIRS_PER_CALL] for start in range(0, len(pairs), PAIRS_PER_CALL)]
        found = [
            said
            for batch in await bounded(batches, lambda batch: self._latest(caller, batch), IN_FLIGHT)
            for said in batch
        ]
        by_thread: dict[str, list[Contribution | None]] = {}
        for (thread_id, _), said in zip(pairs, found, strict=True):
            by_thread.setdefault(thread_id, []).append(said)
        return {thread_id: aggregate(said) for thread_id, said in by_thread.items()}

    async def _agents_among(self, caller: Caller, identity_ids: Sequence[str]) -> set[str]:
        """Which of these identities are agents; those Identity cannot say of are not."""
        known = {identity: self._is_agent.get(identity) for identity in identity_ids}
        unknown = [identity for identity, is_agent in known.items() if is_agent is None]
        for start in range(0, len(unknown), IDENTITY_BATCH):
            request = identity_pb2.BatchGetIdentityTypesRequest(
                identity_ids=unknown[start : start + IDENTITY_BATCH]
            )
            try:
                reply: identity_pb2.BatchGetIdentityTypesResponse = (
                    await self._identity.BatchGetIdentityTypes(
                        request, metadata=tuple(caller.outgoing_metadata())
                    )
                )
            except grpc.aio.AioRpcError as error:
                log.warning("identity types unavailable, activity unknown: %s", error.code().name)
                break
            for entry in reply.entries:
                if entry.identity_type != identity_pb2.IDENTITY_TYPE_UNSPECIFIED:
                    is_agent = entry.identity_type == identity_pb2.IDENTITY_TYPE_AGENT
                    known[entry.identity_id] = is_agent
                    self._is_agent.put(entry.identity_id, is_agent, self._is_agent.generation)
        return {identity for identity, is_agent in known.items() if is_agent}

    async def _latest(self, caller: Caller, pairs: Sequence[tuple[str, str]]) -> list[Contribution | None]:
        """What the latest workload of each (thread, agent) pair says, in the pairs' order."""
        assert self._runners is not None
        request = access_pb2.GetLatestThreadWorkloadsRequest(
            pairs=[
                access_pb2.ThreadAgent(thread_id=thread_id, agent_id=agent_id)
                for thread_id, agent_id in pairs
            ]
        )
        try:
            reply: access_pb2.GetLatestThreadWorkloadsResponse = await self._runners.GetLatestThreadWorkloads(
                request, metadata=tuple(caller.outgoing_metadata())
            )
        except grpc.aio.AioRpcError as error:
            for thread_id, agent_id in pairs:
                log.warning(
                    "workloads of thread %s, agent %s unavailable: %s",
                    thread_id,
                    agent_id,
                    error.code().name,
                )
            return [None] * len(pairs)
        # Runners names the pairs by their UUIDs' canonical text, as Threads does.
        latest = {(item.thread_id.lower(), item.agent_id.lower()): item.workload for item in reply.latest}
        found: list[Contribution | None] = []
        for thread_id, agent_id in pairs:
            workload = latest.get((thread_id.lower(), agent_id.lower()))
            said = contribution([] if workload is None else [workload])
            if said is None:
                log.warning("workload of thread %s, agent %s not understood", thread_id, agent_id)
            found.append(said)
        return found
