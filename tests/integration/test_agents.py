"""Agents with Threads and Notifications, each in its own process (issue 16): agents take part
in threads, their changes reach their room, and a revoked role is felt elsewhere at once.

These reach behind the Gateway (an agent's own identity, internal callers), which only the
local platform allows: they are not run against a cluster."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from agyn_inprocess.platform_client import Client, as_user
from agyn_testkit.harness import wait_for_outcome
from agynio.api.agents.v1 import agents_pb2

pytestmark = pytest.mark.local_platform
READ_TIMEOUT = 10


async def test_a_thread_with_an_agent_delivers_to_the_agents_own_room(module_processes):
    client = Client(module_processes)
    owner = await client.user("olga")
    org = await client.organization(owner)
    agent = await client.agent(owner, org)
    thread_id = await client.thread(owner, org, agent.meta.id)
    # The agent's workload follows its own participant room, as itself.
    stream = await client.subscribe(agent.meta.id, identity_type="agent")
    message_id = await client.send(owner, thread_id, "please review")
    async with asyncio.timeout(READ_TIMEOUT):
        reply = await stream.read()
    assert reply.envelope.event == "message.created"
    assert dict(reply.envelope.payload) == {"thread_id": thread_id, "message_id": message_id}
    assert list(reply.envelope.rooms) == [f"thread_participant:{agent.meta.id}"]
    stream.cancel()
    await client.close()


async def test_a_change_to_an_agent_reaches_its_room(module_processes):
    client = Client(module_processes)
    owner, member = await client.user("olga"), await client.user("fred")
    org = await client.organization(owner, member)
    agent = await client.agent(owner, org)
    room = f"agent:{agent.meta.id}"
    stream = await client.subscribe(member, [room])
    await client.agents.CreateSkill(
        agents_pb2.CreateSkillRequest(agent_id=agent.meta.id, name="review", body="Read the diff."),
        metadata=as_user(owner),
    )
    async with asyncio.timeout(READ_TIMEOUT):
        reply = await stream.read()
    assert (reply.envelope.event, reply.envelope.source) == ("agent.updated", "agents")
    assert list(reply.envelope.rooms) == [room]
    assert dict(reply.envelope.payload) == {"agent_id": agent.meta.id, "organization_id": org}
    stream.cancel()
    await client.close()


async def test_a_removed_agent_role_is_refused_at_threads_within_a_second(module_processes):
    """Threads keeps `can_initiate` answers for seconds; Agents' event drops them."""
    client = Client(module_processes)
    owner, pat = await client.user("olga"), await client.user("pat")
    org = await client.organization(owner, pat)
    agent = await client.agent(owner, org, availability=agents_pb2.AGENT_AVAILABILITY_PRIVATE)
    await client.agents.SetAgentRole(
        agents_pb2.SetAgentRoleRequest(
            agent_id=agent.meta.id, identity_id=pat, role=agents_pb2.AGENT_ROLE_PARTICIPANT
        ),
        metadata=as_user(owner),
    )
    await client.thread(pat, org, agent.meta.id)  # allowed, and now cached at Threads

    await client.agents.RemoveAgentRole(
        agents_pb2.RemoveAgentRoleRequest(agent_id=agent.meta.id, identity_id=pat), metadata=as_user(owner)
    )
    await wait_for_outcome(
        lambda: client.thread(pat, org, agent.meta.id), grpc.StatusCode.PERMISSION_DENIED, within=1.0
    )
    await client.close()
