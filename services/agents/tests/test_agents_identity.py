"""Every agent is a platform identity (sheet §3.2, §8 #17): registered with Identity as an
agent, a member of its organization, its nickname its handle there; and a failed step
leaves no half-made agent. Real Users and Organizations throughout."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
import sqlalchemy as sa
from agyn_inprocess.agents import agent_request, pb
from agyn_organizations.models import organization_grants
from agyn_testkit.calls import expect_error, metadata
from agyn_testkit.harness import read_events
from agynio.api.identity.v1 import identity_pb2
from google.rpc import error_details_pb2, status_pb2

UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
ALREADY_EXISTS = grpc.StatusCode.ALREADY_EXISTS


def dependency(error: grpc.aio.AioRpcError) -> str:
    """The dependency an UNAVAILABLE error's ErrorInfo names."""
    status = status_pb2.Status.FromString(dict(error.trailing_metadata())["grpc-status-details-bin"])
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert info.reason == "DEPENDENCY_UNAVAILABLE"
    return info.metadata["dependency"]


async def reconnected(agents, address: str) -> None:
    """Wait until Agents' channel to a restarted service has waited out its reconnect backoff."""
    async with asyncio.timeout(10):
        await agents.service.runtime.channels.channel(address).channel_ready()


async def identity_type(platform, identity: str) -> int:
    reply = await platform.users.identity.GetIdentityType(
        identity_pb2.GetIdentityTypeRequest(identity_id=identity), metadata=metadata(caller="threads")
    )
    return reply.identity_type


async def holder(platform, reader: uuid.UUID, org: str, nickname: str) -> str | None:
    """Who holds `nickname` in the organization, as an organization member asks Identity."""
    try:
        reply = await platform.users.identity.ResolveNickname(
            identity_pb2.ResolveNicknameRequest(organization_id=org, nickname=nickname),
            metadata=metadata(reader, caller="threads"),
        )
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return None
        raise
    return reply.identity_id


async def grants(platform, org: str) -> set[tuple[str, str]]:
    """The organization's direct grants, (identity, relation), read from Organizations' database."""
    async with platform.organizations_service.runtime.db.transaction() as connection:
        rows = await connection.execute(
            sa.select(organization_grants.c.identity_id, organization_grants.c.relation).where(
                organization_grants.c.organization_id == uuid.UUID(org)
            )
        )
        return {(str(row.identity_id), row.relation) for row in rows}


async def agent_ids(agents, cast) -> set[str]:
    reply = await agents.stub.ListAgents(
        pb.ListAgentsRequest(organization_id=cast.org), metadata=metadata(cast.org_owner)
    )
    return {agent.meta.id for agent in reply.agents}


async def assert_members_are_the_agents(agents, cast) -> None:
    """Each agent of the organization holds the member grant, and nothing else does."""
    assert await grants(agents.platform, cast.org) == {
        (agent_id, "member") for agent_id in await agent_ids(agents, cast)
    }


async def test_a_created_agent_is_an_identity_a_member_and_holds_its_nickname(agents, cast):
    platform = agents.platform
    created = await agents.create(cast.org_owner, cast.org, nickname="rev")
    for agent_id in (created.meta.id, cast.agent.meta.id):  # with a nickname, and without
        assert await identity_type(platform, agent_id) == identity_pb2.IDENTITY_TYPE_AGENT
        assert await platform.check(uuid.UUID(agent_id), "member", cast.org)
    assert await holder(platform, cast.member, cast.org, "rev") == created.meta.id
    assert await holder(platform, cast.member, cast.org, "@rev") == created.meta.id
    await assert_members_are_the_agents(agents, cast)
    # A member only: the agent's identity does not own or manage its organization.
    assert not await platform.check(uuid.UUID(created.meta.id), "owner", cast.org)


async def test_a_nickname_a_user_holds_refuses_the_agent_and_leaves_nothing(agents, cast):
    platform = agents.platform
    # Organizations gave the member their username as handle when they joined.
    handle = await platform.username(cast.member)
    assert await holder(platform, cast.org_owner, cast.org, handle) == str(cast.member)
    before = await agent_ids(agents, cast)
    await expect_error(
        agents.stub.CreateAgent(
            agent_request(cast.org, name="Squatter", nickname=handle), metadata=metadata(cast.org_owner)
        ),
        ALREADY_EXISTS,
        "nickname",
    )
    # The row rolled back, and the member grant written before the nickname was taken back.
    assert await agent_ids(agents, cast) == before
    await assert_members_are_the_agents(agents, cast)
    assert await holder(platform, cast.org_owner, cast.org, handle) == str(cast.member)
    # The same handle in another organization is free.
    other_org = await platform.create_org(cast.outsider)
    elsewhere = await agents.create(cast.outsider, other_org, nickname=handle)
    assert await holder(platform, cast.outsider, other_org, handle) == elsewhere.meta.id


async def test_update_renames_and_removes_the_nickname_in_identity(agents, cast):
    platform = agents.platform
    agent_id = cast.agent.meta.id

    async def rename(caller: uuid.UUID, nickname: str) -> pb.Agent:
        reply = await agents.stub.UpdateAgent(
            pb.UpdateAgentRequest(id=agent_id, nickname=nickname), metadata=metadata(caller)
        )
        return reply.agent

    # A maintainer may edit the agent but not manage others' handles in the organization: the
    # nickname is set by the agent's own identity.
    assert (await rename(cast.maintainer, "rev")).nickname == "rev"
    assert await holder(platform, cast.member, cast.org, "rev") == agent_id
    assert (await rename(cast.maintainer, "rev2")).nickname == "rev2"
    assert await holder(platform, cast.member, cast.org, "rev") is None
    assert await holder(platform, cast.member, cast.org, "rev2") == agent_id
    # A user's handle is refused, and the agent keeps its own.
    await expect_error(
        agents.stub.UpdateAgent(
            pb.UpdateAgentRequest(
                id=agent_id, nickname=await platform.username(cast.maintainer), description="x"
            ),
            metadata=metadata(cast.maintainer),
        ),
        ALREADY_EXISTS,
        "nickname",
    )
    got = await agents.stub.GetAgent(pb.GetAgentRequest(id=agent_id), metadata=metadata(cast.maintainer))
    assert (got.agent.nickname, got.agent.description) == ("rev2", "")
    assert await holder(platform, cast.member, cast.org, "rev2") == agent_id
    assert (await rename(cast.agent_owner, "")).nickname == ""
    assert await holder(platform, cast.member, cast.org, "rev2") is None
    assert (await rename(cast.agent_owner, "")).nickname == ""  # none to remove: still fine
    # The freed handle can be taken by another agent.
    other = await agents.create(cast.org_owner, cast.org, nickname="rev2")
    assert await holder(platform, cast.member, cast.org, "rev2") == other.meta.id


async def test_delete_removes_the_nickname_and_the_membership(agents, cast):
    platform = agents.platform
    doomed = await agents.create(cast.org_owner, cast.org, nickname="doomed")
    await agents.stub.DeleteAgent(pb.DeleteAgentRequest(id=doomed.meta.id), metadata=metadata(cast.org_owner))
    assert await holder(platform, cast.member, cast.org, "doomed") is None
    assert not await platform.check(uuid.UUID(doomed.meta.id), "member", cast.org)
    await assert_members_are_the_agents(agents, cast)
    # The identity record stays (sheet §3.2); the handle is free again.
    assert await identity_type(platform, doomed.meta.id) == identity_pb2.IDENTITY_TYPE_AGENT
    again = await agents.create(cast.org_owner, cast.org, nickname="doomed")
    assert await holder(platform, cast.member, cast.org, "doomed") == again.meta.id
    # Without a nickname there is only the membership to end.
    await agents.stub.DeleteAgent(
        pb.DeleteAgentRequest(id=cast.agent.meta.id), metadata=metadata(cast.org_owner)
    )
    assert not await platform.check(uuid.UUID(cast.agent.meta.id), "member", cast.org)


@pytest.mark.fresh_platform
async def test_with_users_away_nothing_is_created_or_renamed(agents, cast):
    platform = agents.platform
    named = await agents.create(cast.org_owner, cast.org, nickname="named")
    before = await agent_ids(agents, cast)
    await platform.stop_users()
    try:
        error = await expect_error(
            agents.stub.CreateAgent(
                agent_request(cast.org, nickname="fresh"), metadata=metadata(cast.org_owner)
            ),
            UNAVAILABLE,
        )
        assert dependency(error) == "users"
        assert await agent_ids(agents, cast) == before
        await assert_members_are_the_agents(agents, cast)
        # The nickname is not changed in the row either; availability needs no Identity.
        error = await expect_error(
            agents.stub.UpdateAgent(
                pb.UpdateAgentRequest(id=named.meta.id, nickname="renamed"), metadata=metadata(cast.org_owner)
            ),
            UNAVAILABLE,
        )
        assert dependency(error) == "users"
        private = pb.AGENT_AVAILABILITY_PRIVATE
        changed = await agents.stub.UpdateAgent(
            pb.UpdateAgentRequest(id=named.meta.id, availability=private), metadata=metadata(cast.org_owner)
        )
        assert (changed.agent.nickname, changed.agent.availability) == ("named", private)
        # Nor is it deleted: its handle could not be removed.
        error = await expect_error(
            agents.stub.DeleteAgent(
                pb.DeleteAgentRequest(id=named.meta.id), metadata=metadata(cast.org_owner)
            ),
            UNAVAILABLE,
        )
        assert dependency(error) == "users"
    finally:
        await platform.start_users()
    await reconnected(agents, platform.users.running.address)
    assert await agent_ids(agents, cast) == before
    assert await holder(platform, cast.member, cast.org, "named") == named.meta.id
    assert await holder(platform, cast.member, cast.org, "fresh") is None
    await assert_members_are_the_agents(agents, cast)
    # Back again: the same calls go through.
    fresh = await agents.create(cast.org_owner, cast.org, nickname="fresh")
    assert await holder(platform, cast.member, cast.org, "fresh") == fresh.meta.id


@pytest.mark.fresh_platform
async def test_with_organizations_away_a_delete_is_undone(agents, cast):
    platform = agents.platform
    agent_id = cast.agent.meta.id
    await platform.stop_organizations()
    try:
        # The creator's owner role decides `can_delete` without Organizations; ending the
        # membership needs it, so the delete rolls back.
        error = await expect_error(
            agents.stub.DeleteAgent(pb.DeleteAgentRequest(id=agent_id), metadata=metadata(cast.org_owner)),
            UNAVAILABLE,
        )
        assert dependency(error) == "organizations"
    finally:
        await platform.start_organizations()
    await reconnected(agents, platform.organizations_service.address)
    assert agent_id in await agent_ids(agents, cast)
    assert await platform.check(uuid.UUID(agent_id), "member", cast.org)
    await agents.stub.DeleteAgent(pb.DeleteAgentRequest(id=agent_id), metadata=metadata(cast.org_owner))
    assert not await platform.check(uuid.UUID(agent_id), "member", cast.org)


async def test_a_repeated_create_with_an_idempotency_key_makes_one_identity(agents, cast):
    platform = agents.platform
    owner = metadata(cast.org_owner, idempotency_key="identity-once")
    request = agent_request(cast.org, name="Once", nickname="once")
    first = await agents.stub.CreateAgent(request, metadata=owner)
    again = await agents.stub.CreateAgent(request, metadata=owner)
    assert again.agent == first.agent
    assert await holder(platform, cast.member, cast.org, "once") == first.agent.meta.id
    await assert_members_are_the_agents(agents, cast)
    assert len(await agent_ids(agents, cast)) == 2  # the cast's agent, and this one
    # A refused call keeps no key: retried after the handle is free, it creates the agent.
    retry = metadata(cast.org_owner, idempotency_key="identity-retry")
    taken = agent_request(cast.org, name="Later", nickname="once")
    await expect_error(agents.stub.CreateAgent(taken, metadata=retry), ALREADY_EXISTS)
    await agents.stub.UpdateAgent(
        pb.UpdateAgentRequest(id=first.agent.meta.id, nickname=""), metadata=metadata(cast.org_owner)
    )
    later = await agents.stub.CreateAgent(taken, metadata=retry)
    assert await holder(platform, cast.member, cast.org, "once") == later.agent.meta.id
    await assert_members_are_the_agents(agents, cast)


@pytest.mark.fresh_platform
async def test_a_delete_that_cannot_end_the_membership_gives_the_nickname_back(agents, cast, nats):
    platform = agents.platform
    agent_id = cast.agent.meta.id
    # Identity checks the agent's membership when the agent names itself, and keeps the answer
    # for a few seconds unless a grant event drops it: the creation's has gone by first.
    await read_events(
        nats.url,
        "agyn.events.organizations.>",
        lambda got: any(event["data"].get("identity_id") == agent_id for event in got),
        settle=0.2,
    )
    await agents.stub.UpdateAgent(
        pb.UpdateAgentRequest(id=agent_id, nickname="kept"), metadata=metadata(cast.org_owner)
    )
    await platform.stop_organizations()
    try:
        error = await expect_error(
            agents.stub.DeleteAgent(pb.DeleteAgentRequest(id=agent_id), metadata=metadata(cast.org_owner)),
            UNAVAILABLE,
        )
        # Identity, still knowing the agent a member, removed the handle; ending the membership
        # failed, and the handle was set again. (Had Identity forgotten, it would have refused
        # to remove the handle: "users". The outcome is the same.)
        assert dependency(error) in ("organizations", "users")
    finally:
        await platform.start_organizations()
    await reconnected(agents, platform.organizations_service.address)
    assert agent_id in await agent_ids(agents, cast)
    assert await holder(platform, cast.member, cast.org, "kept") == agent_id
    assert await platform.check(uuid.UUID(agent_id), "member", cast.org)
