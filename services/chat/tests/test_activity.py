"""A chat's activity from Runners' workloads (chat sheet §3.3, §8 #12): the rules of one latest
workload, and GetChats with Runners there, not configured, and away."""

from __future__ import annotations

import pytest
from agyn_chat.activity import Contribution, aggregate, contribution
from agyn_common.embedded import free_port
from agyn_inprocess.chat import Chat
from agyn_inprocess.runners import ORCHESTRATOR, Cast, workload_request
from agyn_testkit.calls import metadata
from agynio.api.chat.v1 import chat_pb2 as pb
from agynio.api.runners.v1 import runners_pb2
from agynio.api.threads.v1 import threads_pb2

R = runners_pb2
UNSPECIFIED, RUNNING, PENDING, FINISHED = (
    pb.CHAT_ACTIVITY_STATUS_UNSPECIFIED,
    pb.CHAT_ACTIVITY_STATUS_RUNNING,
    pb.CHAT_ACTIVITY_STATUS_PENDING,
    pb.CHAT_ACTIVITY_STATUS_FINISHED,
)


def workload(status: int, agent_state: int = R.WORKLOAD_AGENT_STATE_PROCESSING, wid: str = "w") -> R.Workload:
    return R.Workload(meta=R.EntityMeta(id=wid), status=status, agent_state=agent_state)


@pytest.mark.parametrize(
    ("latest", "said"),
    [
        ([], Contribution(FINISHED)),
        ([workload(R.WORKLOAD_STATUS_RUNNING)], Contribution(RUNNING, "w")),
        ([workload(R.WORKLOAD_STATUS_RUNNING, R.WORKLOAD_AGENT_STATE_IDLE)], Contribution(FINISHED, "w")),
        ([workload(R.WORKLOAD_STATUS_STARTING)], Contribution(PENDING, "w")),
        ([workload(R.WORKLOAD_STATUS_STOPPING)], Contribution(PENDING, "w")),
        ([workload(R.WORKLOAD_STATUS_FAILED)], Contribution(PENDING)),
        ([workload(R.WORKLOAD_STATUS_STOPPED)], Contribution(FINISHED)),
        # What the rules do not know counts as a failed lookup.
        ([workload(R.WORKLOAD_STATUS_RUNNING, R.WORKLOAD_AGENT_STATE_UNSPECIFIED)], None),
        ([workload(R.WORKLOAD_STATUS_UNSPECIFIED)], None),
        ([workload(9)], None),
        ([workload(R.WORKLOAD_STATUS_RUNNING, 7)], None),
        ([workload(R.WORKLOAD_STATUS_RUNNING, wid="")], None),
    ],
)
def test_the_latest_workload_says(latest, said):
    assert contribution(latest) == said


def test_running_wins_over_pending_over_finished():
    running, pending, finished = (
        Contribution(RUNNING, "a"),
        Contribution(PENDING, "b"),
        Contribution(FINISHED),
    )
    assert aggregate([finished, pending, running]).status == RUNNING
    assert aggregate([finished, pending]).workload_ids == ("b",)
    assert aggregate([finished, None]).status == FINISHED
    assert aggregate([None]).status == FINISHED  # lookups that failed say nothing


async def listed(chat: Chat, cast: Cast, chat_id: str) -> pb.Chat:
    reply = await chat.stub.GetChats(
        pb.GetChatsRequest(organization_id=cast.org), metadata=metadata(cast.owner)
    )
    return {c.id: c for c in reply.chats}[chat_id]


async def start_workload(runners, cast: Cast, thread_id: str, status: int) -> str:
    request = workload_request(cast, thread_id=thread_id, status=status)
    await runners.stub.CreateWorkload(request, metadata=ORCHESTRATOR)
    return request.id


async def test_activity_follows_the_agents_latest_workload(chat, runners, threads, cast: Cast):
    working = await chat.create(cast.owner, cast.org, cast.member, cast.agent_id)
    assert (await listed(chat, cast, working.id)).activity_status == FINISHED  # no workload yet
    starting = await start_workload(runners, cast, working.id, R.WORKLOAD_STATUS_STARTING)
    seen = await listed(chat, cast, working.id)
    assert (seen.activity_status, list(seen.active_workload_ids)) == (PENDING, [starting])
    await runners.stub.UpdateWorkload(
        R.UpdateWorkloadRequest(id=starting, status=R.WORKLOAD_STATUS_RUNNING), metadata=ORCHESTRATOR
    )
    seen = await listed(chat, cast, working.id)
    assert (seen.activity_status, list(seen.active_workload_ids)) == (RUNNING, [starting])
    await runners.stub.UpdateWorkload(
        R.UpdateWorkloadRequest(id=starting, status=R.WORKLOAD_STATUS_STOPPED), metadata=ORCHESTRATOR
    )
    seen = await listed(chat, cast, working.id)
    assert (seen.activity_status, list(seen.active_workload_ids)) == (FINISHED, [])
    # A chat of people only shows no activity; a degraded thread shows none either.
    people = await chat.create(cast.owner, cast.org, cast.member)
    assert (await listed(chat, cast, people.id)).activity_status == UNSPECIFIED
    await start_workload(runners, cast, working.id, R.WORKLOAD_STATUS_STARTING)
    await threads.stub.DegradeThread(
        threads_pb2.DegradeThreadRequest(thread_id=working.id),
        metadata=metadata(caller="agents-orchestrator"),
    )
    seen = await listed(chat, cast, working.id)
    assert (seen.activity_status, list(seen.active_workload_ids)) == (UNSPECIFIED, [])


async def test_the_workloads_named_are_those_the_caller_may_follow(chat, runners, platform, cast: Cast):
    """Runners answers as the caller: a participant outside the workload's organization sees
    no workload (it could not subscribe to its room), and no failure."""
    working = await chat.create(cast.owner, cast.org, cast.outsider, cast.agent_id)
    await start_workload(runners, cast, working.id, R.WORKLOAD_STATUS_RUNNING)
    reply = await chat.stub.GetChats(
        pb.GetChatsRequest(organization_id=cast.org), metadata=metadata(cast.outsider)
    )
    seen = {c.id: c for c in reply.chats}[working.id]
    assert (seen.activity_status, list(seen.active_workload_ids)) == (FINISHED, [])


@pytest.mark.parametrize("runners_address", [None, "away"])
async def test_chats_list_without_runners(chat_with, runners, cast: Cast, runners_address):
    """Not configured: activity is not tracked; away: the chats still list, finished (§8 #12)."""
    address = None if runners_address is None else f"127.0.0.1:{free_port()}"
    async with chat_with(runners_address=address) as own:
        created = await own.create(cast.owner, cast.org, cast.member, cast.agent_id)
        await start_workload(runners, cast, created.id, R.WORKLOAD_STATUS_RUNNING)
        seen = await listed(own, cast, created.id)
    expected = UNSPECIFIED if runners_address is None else FINISHED
    assert (seen.activity_status, list(seen.active_workload_ids)) == (expected, [])
