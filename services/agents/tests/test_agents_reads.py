"""GetAgent, ListAgents, ResolveAgentIdentity: who sees what, masking, pagination, platform callers."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_inprocess.agents import MODEL, pb
from agyn_testkit.calls import expect_error, metadata

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED


def is_full(agent: pb.Agent) -> bool:
    return agent.model == MODEL and agent.init_image != "" and agent.HasField("idle_timeout")


def is_masked(agent: pb.Agent) -> bool:
    """Metadata only (sheet §3.2, §8 #5)."""
    return (
        agent.model == ""
        and agent.configuration == ""
        and agent.image == ""
        and not agent.HasField("resources")
        and agent.init_image == ""
        and not agent.HasField("idle_timeout")
        and list(agent.capabilities) == []
        and agent.name != ""
        and agent.organization_id != ""
        and agent.availability != pb.AGENT_AVAILABILITY_UNSPECIFIED
    )


async def get(agents, identity, agent_id, **extra):
    reply = await agents.stub.GetAgent(pb.GetAgentRequest(id=agent_id), metadata=metadata(identity, **extra))
    return reply.agent


async def test_get_shows_configuration_to_those_who_may_read_it(agents, cast):
    agent_id = cast.agent.meta.id
    for caller in (cast.org_owner, cast.agent_owner, cast.maintainer):
        assert is_full(await get(agents, caller, agent_id))
    for caller in (cast.participant, cast.member):
        seen = await get(agents, caller, agent_id)
        assert is_masked(seen) and seen.meta == cast.agent.meta and seen.name == cast.agent.name
    await expect_error(
        agents.stub.GetAgent(pb.GetAgentRequest(id=agent_id), metadata=metadata(cast.outsider)),
        DENIED,
        "member",
    )
    # The agent reading itself (agynd), and platform callers without an identity.
    assert is_full(await get(agents, uuid.UUID(agent_id), agent_id))
    for caller in ("agents-orchestrator", "runners", "chat", "notifications"):
        assert is_full(await get(agents, None, agent_id, caller=caller))


async def test_get_errors(agents, cast):
    for bad in ("", "nope"):
        await expect_error(
            agents.stub.GetAgent(pb.GetAgentRequest(id=bad), metadata=metadata(cast.member)), INVALID
        )
    await expect_error(
        agents.stub.GetAgent(pb.GetAgentRequest(id=str(uuid.uuid4())), metadata=metadata(cast.member)),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_resolve_agent_identity_is_for_tracing(agents, cast):
    as_tracing = metadata(caller="tracing")
    reply = await agents.stub.ResolveAgentIdentity(
        pb.ResolveAgentIdentityRequest(identity_id=cast.agent.meta.id), metadata=as_tracing
    )
    assert (reply.agent_id, reply.organization_id) == (cast.agent.meta.id, cast.org)
    await expect_error(
        agents.stub.ResolveAgentIdentity(
            pb.ResolveAgentIdentityRequest(identity_id=str(cast.member)), metadata=as_tracing
        ),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_error(
        agents.stub.ResolveAgentIdentity(
            pb.ResolveAgentIdentityRequest(identity_id="x"), metadata=as_tracing
        ),
        INVALID,
    )
    for call_metadata in (metadata(cast.org_owner), metadata(caller="agents-orchestrator")):
        await expect_error(
            agents.stub.ResolveAgentIdentity(
                pb.ResolveAgentIdentityRequest(identity_id=cast.agent.meta.id), metadata=call_metadata
            ),
            DENIED,
        )


async def list_all(agents, identity, org, page_size, **extra):
    """Every page, in order: (agents, the number of calls it took)."""
    seen, token, calls = [], "", 0
    while True:
        reply = await agents.stub.ListAgents(
            pb.ListAgentsRequest(organization_id=org, page_size=page_size, page_token=token),
            metadata=metadata(identity, **extra),
        )
        seen.extend(reply.agents)
        calls += 1
        token = reply.next_page_token
        if not token:
            return seen, calls


async def test_list_pages_in_creation_order_and_masks_per_agent(agents, cast):
    private = await agents.create(
        cast.org_owner, cast.org, name="Second", availability=pb.AGENT_AVAILABILITY_PRIVATE
    )
    third = await agents.create(cast.org_owner, cast.org, name="Third")
    await agents.set_role(cast.org_owner, third.meta.id, cast.member, pb.AGENT_ROLE_MAINTAINER)
    other_org = await agents.platform.create_org(cast.outsider)
    await agents.create(cast.outsider, other_org, name="Elsewhere")
    ids = [cast.agent.meta.id, private.meta.id, third.meta.id]

    for size, calls in ((1, 3), (2, 2), (3, 1), (0, 1), (1000, 1)):
        listed, made = await list_all(agents, cast.member, cast.org, size)
        assert [a.meta.id for a in listed] == ids and made == calls, size
    # The member reads the configuration of the agent it maintains only; private agents are listed too.
    listed, _ = await list_all(agents, cast.member, cast.org, 50)
    assert [is_full(a) for a in listed] == [False, False, True]
    assert all(is_masked(a) for a in listed[:2])
    listed, _ = await list_all(agents, cast.maintainer, cast.org, 50)
    assert [is_full(a) for a in listed] == [True, False, False]
    listed, _ = await list_all(agents, cast.org_owner, cast.org, 50)
    assert all(is_full(a) for a in listed)
    await expect_error(
        agents.stub.ListAgents(
            pb.ListAgentsRequest(organization_id=cast.org), metadata=metadata(cast.outsider)
        ),
        DENIED,
    )


@pytest.mark.fresh_platform  # lists the agents of every organization
async def test_platform_callers_list_every_organization(agents, cast):
    other_org = await agents.platform.create_org(cast.outsider)
    elsewhere = await agents.create(cast.outsider, other_org, name="Elsewhere")
    listed, calls = await list_all(agents, None, "", 1, caller="agents-orchestrator")
    assert [a.meta.id for a in listed] == [cast.agent.meta.id, elsewhere.meta.id] and calls == 2
    assert all(is_full(a) for a in listed)
    listed, _ = await list_all(agents, None, other_org, 10, caller="agents-orchestrator")
    assert [a.meta.id for a in listed] == [elsewhere.meta.id]


@pytest.mark.parametrize(
    ("request_fields", "field"),
    [
        ({"organization_id": ""}, "organization_id"),
        ({"organization_id": "acme"}, "organization_id"),
        ({"page_token": "!!"}, "page_token"),
        ({"page_token": "bm90IGEgdG9rZW4"}, "page_token"),
    ],
)
async def test_list_errors(agents, cast, request_fields, field):
    request = pb.ListAgentsRequest(**{"organization_id": cast.org, **request_fields})
    error = await expect_error(agents.stub.ListAgents(request, metadata=metadata(cast.member)), INVALID)
    assert error.details().startswith(field)


async def test_a_page_token_belongs_to_its_organization(agents, cast):
    await agents.create(cast.org_owner, cast.org, name="Second")
    first = await agents.stub.ListAgents(
        pb.ListAgentsRequest(organization_id=cast.org, page_size=1), metadata=metadata(cast.member)
    )
    other_org = await agents.platform.create_org(cast.member)
    await expect_error(
        agents.stub.ListAgents(
            pb.ListAgentsRequest(organization_id=other_org, page_token=first.next_page_token),
            metadata=metadata(cast.member),
        ),
        INVALID,
        "page_token",
    )
