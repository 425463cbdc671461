"""Agents in threads: `can_initiate` asked of Agents, an agent caller's organization, and a
cached answer dropped by Agents' events (threads sheet §A3, §A4, §8 #7; agents sheet §4.1)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_inprocess.agents import pb as agents_pb
from agyn_inprocess.threads import in_process_threads, pb
from agyn_testkit.calls import expect_error, metadata
from agyn_testkit.harness import wait_for_outcome
from agynio.api.identity.v1 import identity_pb2

DENIED = grpc.StatusCode.PERMISSION_DENIED
INVALID = grpc.StatusCode.INVALID_ARGUMENT
INTERNAL_AGENT = agents_pb.AGENT_AVAILABILITY_INTERNAL
PRIVATE_AGENT = agents_pb.AGENT_AVAILABILITY_PRIVATE


def as_agent(agent: agents_pb.Agent, **extra: str):
    return metadata(agent.meta.id, identity_type="agent", **extra)


def participant_ids(thread: pb.Thread) -> list[str]:
    return [participant.id for participant in thread.participants]


@pytest.fixture
async def org(threads):
    """An organization with its owner olga, a member fred, and pat."""
    platform = threads.platform
    owner, fred, pat = [await platform.user(name) for name in ("olga", "fred", "pat")]
    org = await platform.create_org(owner)
    for person in (fred, pat):
        await platform.join(owner, org, person)
    return org, owner, fred, pat


async def test_an_agent_joins_when_the_caller_may_initiate_it(threads, agents, org):
    org, owner, fred, pat = org
    open_agent = await agents.create(owner, org, name="Open", availability=INTERNAL_AGENT)
    private = await agents.create(owner, org, name="Private", availability=PRIVATE_AGENT)
    await agents.set_role(owner, private.meta.id, pat, agents_pb.AGENT_ROLE_PARTICIPANT)
    open_id, private_id = uuid.UUID(open_agent.meta.id), uuid.UUID(private.meta.id)

    # Members may initiate INTERNAL agents; PRIVATE ones need a role on the agent.
    thread = await threads.create(fred, org, open_id)
    assert participant_ids(thread) == [str(fred), open_agent.meta.id]
    await expect_error(threads.create(fred, org, private_id), DENIED, "can_initiate", private.meta.id)
    await expect_error(threads.create(fred, org, open_id, private_id), DENIED, private.meta.id)
    with_role = await threads.create(pat, org, private_id)
    assert participant_ids(with_role) == [str(pat), private.meta.id]
    # The creator owns the agent, whatever its availability.
    assert participant_ids(await threads.create(owner, org, private_id)) == [str(owner), private.meta.id]

    def add(caller, agent_id):
        return threads.stub.AddParticipant(
            pb.AddParticipantRequest(thread_id=thread.id, participant_id=str(agent_id)),
            metadata=metadata(caller),
        )

    await expect_error(add(fred, private_id), DENIED, "can_initiate")
    await add(fred, pat)  # a person: nothing to ask Agents
    added = await add(pat, private_id)
    assert participant_ids(added.thread) == [str(fred), open_agent.meta.id, str(pat), private.meta.id]


async def test_an_agent_caller_works_in_its_own_organization(threads, agents, org):
    org, owner, fred, _ = org
    other_org = await threads.platform.create_org(owner, "Elsewhere")
    private = await agents.create(owner, org, availability=PRIVATE_AGENT, nickname="reviewer")

    # No organization named: the agent's own (Agents says which). The initiator is not checked
    # against itself (a private agent starts its own threads), and an agent initiator is passive.
    started = await threads.stub.CreateThread(
        pb.CreateThreadRequest(
            participants=[
                pb.ParticipantIdentifier(participant_nickname=f"@{await threads.platform.username(fred)}")
            ]
        ),
        metadata=as_agent(private),
    )
    assert started.thread.organization_id == org
    assert [(p.id, p.passive) for p in started.thread.participants] == [
        (private.meta.id, True),
        (str(fred), False),
    ]
    await expect_error(
        threads.stub.CreateThread(
            pb.CreateThreadRequest(organization_id=other_org, participant_ids=[str(fred)]),
            metadata=as_agent(private),
        ),
        INVALID,
        "organization_id",
        "does not match",
    )


async def test_agents_away_is_unavailable_and_nothing_is_created(platform, database_factory, nats):
    owner, fred = await platform.user("olga"), await platform.user("fred")
    org = await platform.create_org(owner)
    await platform.join(owner, org, fred)
    agent = uuid.uuid4()
    await platform.users.identity.RegisterIdentity(
        identity_pb2.RegisterIdentityRequest(
            identity_id=str(agent), identity_type=identity_pb2.IDENTITY_TYPE_AGENT
        ),
        metadata=metadata(caller="agents"),
    )
    async with in_process_threads(platform, database_factory, nats.url) as threads:
        refused = await expect_error(threads.create(owner, org, agent), grpc.StatusCode.UNAVAILABLE, "agents")
        assert b"DEPENDENCY_UNAVAILABLE" in dict(refused.trailing_metadata())["grpc-status-details-bin"]
        # People alone need no answer from Agents.
        assert participant_ids(await threads.create(owner, org, fred)) == [str(owner), str(fred)]
        mine = await threads.stub.GetThreads(pb.GetThreadsRequest(), metadata=metadata(owner))
        assert len(mine.threads) == 1


async def test_a_change_at_agents_reaches_the_cached_answer_within_a_second(
    platform, database_factory, nats, agents
):
    """Threads keeps answers for 300 s here: only Agents' events can make it change its mind."""
    owner, pat, fred = [await platform.user(name) for name in ("olga", "pat", "fred")]
    org = await platform.create_org(owner)
    await platform.join(owner, org, pat)
    await platform.join(owner, org, fred)
    private = await agents.create(owner, org, availability=PRIVATE_AGENT)
    agent_id = uuid.UUID(private.meta.id)
    await agents.set_role(owner, private.meta.id, pat, agents_pb.AGENT_ROLE_PARTICIPANT)
    async with in_process_threads(
        platform, database_factory, nats.url, agents.service.address, access_cache_seconds=300
    ) as threads:
        await threads.service.runtime.bus.wait_ready(15)
        await threads.create(pat, org, agent_id)
        await expect_error(threads.create(fred, org, agent_id), DENIED, "can_initiate")

        await agents.stub.RemoveAgentRole(
            agents_pb.RemoveAgentRoleRequest(agent_id=private.meta.id, identity_id=str(pat)),
            metadata=metadata(owner),
        )
        await wait_for_outcome(lambda: threads.create(pat, org, agent_id), DENIED, within=1.0)

        await agents.stub.UpdateAgent(
            agents_pb.UpdateAgentRequest(id=private.meta.id, availability=INTERNAL_AGENT),
            metadata=metadata(owner),
        )
        await wait_for_outcome(lambda: threads.create(fred, org, agent_id), None, within=1.0)
