"""WorkloadAccessService.GetLatestThreadWorkloads: per pair, what ListWorkloadsByThread with
page_size 1 answers the caller, in one call (our addition for Chat; DESIGN §2)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
from agyn_inprocess.runners import ORCHESTRATOR, new_cast, workload_request
from agyn_testkit.calls import expect_error, metadata
from agynio.api.runners.v1 import access_pb2, access_pb2_grpc
from agynio.api.runners.v1 import runners_pb2 as pb


@pytest.fixture
async def access(runners) -> AsyncIterator[access_pb2_grpc.WorkloadAccessServiceStub]:
    async with grpc.aio.insecure_channel(runners.address) as channel:
        yield access_pb2_grpc.WorkloadAccessServiceStub(channel)


def as_chat(who: uuid.UUID) -> tuple[tuple[str, str], ...]:
    return metadata(who, caller="chat")


async def _create(runners, cast, **fields: object) -> pb.Workload:
    reply = await runners.stub.CreateWorkload(workload_request(cast, **fields), metadata=ORCHESTRATOR)
    return reply.workload


async def _by_thread(runners, who, thread_id: str, agent_id: str) -> list[pb.Workload]:
    reply = await runners.stub.ListWorkloadsByThread(
        pb.ListWorkloadsByThreadRequest(thread_id=thread_id, agent_id=agent_id, page_size=1),
        metadata=as_chat(who),
    )
    return list(reply.workloads)


async def test_latest_of_each_pair_as_list_workloads_by_thread_says(runners, agents, cast, access):
    other = await new_cast(agents, runners)  # another organization, its own runner
    busy, quiet, foreign, empty = (str(uuid.uuid4()) for _ in range(4))
    second_agent = str(uuid.uuid4())
    await _create(runners, cast, thread_id=busy)
    await _create(runners, cast, thread_id=busy)
    await _create(runners, cast, thread_id=busy, agent_id=second_agent, status=pb.WORKLOAD_STATUS_RUNNING)
    await _create(runners, cast, thread_id=quiet, status=pb.WORKLOAD_STATUS_STOPPED)
    # The pair's latest workload is another organization's: hidden, not replaced by an older one.
    await _create(runners, cast, thread_id=foreign)
    await _create(runners, other, thread_id=foreign, agent_id=cast.agent_id)
    pairs = [
        (busy, cast.agent_id),
        (busy, second_agent),
        (quiet, cast.agent_id),
        (foreign, cast.agent_id),
        (empty, cast.agent_id),
        (busy, cast.agent_id),  # repeated: answered once
    ]
    request = access_pb2.GetLatestThreadWorkloadsRequest(
        pairs=[access_pb2.ThreadAgent(thread_id=thread, agent_id=agent) for thread, agent in pairs]
    )
    for who in (cast.member, cast.owner, other.owner, cast.outsider):
        reply = await access.GetLatestThreadWorkloads(request, metadata=as_chat(who))
        expected = []
        for thread, agent in dict.fromkeys(pairs):
            expected.extend(
                access_pb2.LatestThreadWorkload(thread_id=thread, agent_id=agent, workload=workload)
                for workload in await _by_thread(runners, who, thread, agent)
            )
        assert list(reply.latest) == expected
    member = await access.GetLatestThreadWorkloads(request, metadata=as_chat(cast.member))
    assert [(item.thread_id, item.agent_id) for item in member.latest] == [
        (busy, cast.agent_id),
        (busy, second_agent),
        (quiet, cast.agent_id),
    ]
    assert member.latest[1].workload.status == pb.WORKLOAD_STATUS_RUNNING
    stranger = await access.GetLatestThreadWorkloads(request, metadata=as_chat(other.owner))
    assert [(item.thread_id, item.agent_id) for item in stranger.latest] == [(foreign, cast.agent_id)]
    assert not (await access.GetLatestThreadWorkloads(request, metadata=as_chat(cast.outsider))).latest
    empty_reply = await access.GetLatestThreadWorkloads(
        access_pb2.GetLatestThreadWorkloadsRequest(), metadata=as_chat(cast.member)
    )
    assert not empty_reply.latest


@pytest.mark.parametrize(
    ("pairs", "field"),
    [
        ([("x", str(uuid.uuid4()))], "pairs[0].thread_id"),
        ([(str(uuid.uuid4()), str(uuid.uuid4())), (str(uuid.uuid4()), "")], "pairs[1].agent_id"),
        ([(str(uuid.uuid4()), str(uuid.uuid4()))] * 101, "pairs"),
    ],
)
async def test_refuses_bad_pairs(cast, access, pairs, field):
    request = access_pb2.GetLatestThreadWorkloadsRequest(
        pairs=[access_pb2.ThreadAgent(thread_id=thread, agent_id=agent) for thread, agent in pairs]
    )
    error = await expect_error(
        access.GetLatestThreadWorkloads(request, metadata=as_chat(cast.member)),
        grpc.StatusCode.INVALID_ARGUMENT,
    )
    assert (error.details() or "").startswith(f"{field}:")


async def test_only_chat_asks_and_always_for_someone(cast, access):
    request = access_pb2.GetLatestThreadWorkloadsRequest(
        pairs=[access_pb2.ThreadAgent(thread_id=str(uuid.uuid4()), agent_id=cast.agent_id)]
    )
    for service in ("gateway", "agents-orchestrator", "notifications", None):
        await expect_error(
            access.GetLatestThreadWorkloads(request, metadata=metadata(cast.member, caller=service)),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    error = await expect_error(
        access.GetLatestThreadWorkloads(request, metadata=metadata(caller="chat")),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    assert error.details() == "identity not available"
