"""CreateAgent, UpdateAgent, DeleteAgent: validation, permissions per kind of caller, storage."""

from __future__ import annotations

import uuid

import grpc
import pytest
import sqlalchemy as sa
from agyn_agents.models import mcps
from agyn_inprocess.agents import MODEL, agent_request, pb
from agyn_testkit.calls import expect_error, metadata

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND


async def test_create_stores_every_field_and_makes_the_creator_owner(agents, cast):
    created = await agents.create(
        cast.org_owner,
        cast.org,
        name="Builder",
        role="builds things",
        description="d",
        configuration='{"a": 1}',
        image="img:1",
        resources=pb.ComputeResources(requests_cpu="1", limits_memory="1Gi"),
        nickname="builder",
        idle_timeout="1h30m",
        capabilities=["b", "a"],
        availability=pb.AGENT_AVAILABILITY_PRIVATE,
    )
    assert (created.name, created.role, created.description, created.configuration) == (
        "Builder",
        "builds things",
        "d",
        '{"a": 1}',
    )
    assert (created.model, created.image, created.init_image) == (
        MODEL,
        "img:1",
        "ghcr.io/agynio/agent-init:1",
    )
    assert created.resources == pb.ComputeResources(requests_cpu="1", limits_memory="1Gi")
    assert (created.nickname, created.idle_timeout, list(created.capabilities)) == (
        "builder",
        "1h30m",
        ["b", "a"],
    )
    assert created.availability == pb.AGENT_AVAILABILITY_PRIVATE
    assert created.organization_id == cast.org
    uuid.UUID(created.meta.id)
    assert created.meta.created_at == created.meta.updated_at
    roles = await agents.stub.ListAgentRoles(
        pb.ListAgentRolesRequest(agent_id=created.meta.id), metadata=metadata(cast.org_owner)
    )
    assert [(a.identity_id, a.role) for a in roles.assignments] == [
        (str(cast.org_owner), pb.AGENT_ROLE_OWNER)
    ]


async def test_create_defaults(agents, cast):
    assert cast.agent.configuration == "{}"  # "" is the documented empty object
    assert cast.agent.idle_timeout == "5m" and cast.agent.HasField("idle_timeout")
    assert cast.agent.nickname == ""


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"organization_id": ""}, "organization_id"),
        ({"organization_id": "acme"}, "organization_id"),
        ({"name": ""}, "name"),
        ({"name": "n" * 65}, "name"),
        ({"role": "r" * 65}, "role"),
        ({"model": ""}, "model"),
        ({"model": "gpt"}, "model"),
        ({"init_image": ""}, "init_image"),
        ({"image": "i" * 1025}, "image"),
        ({"description": "d" * 4097}, "description"),
        ({"availability": pb.AGENT_AVAILABILITY_UNSPECIFIED}, "availability"),
        ({"availability": 7}, "availability"),
        ({"idle_timeout": ""}, "idle_timeout"),
        ({"idle_timeout": "5"}, "idle_timeout"),
        ({"idle_timeout": "0s"}, "idle_timeout"),
        ({"idle_timeout": "-5m"}, "idle_timeout"),
        ({"idle_timeout": "5d"}, "idle_timeout"),
        ({"nickname": "Bad Name"}, "nickname"),
        ({"nickname": "n" * 33}, "nickname"),
        ({"capabilities": [""]}, "capabilities[0]"),
        ({"capabilities": ["c"] * 65}, "capabilities"),
        ({"resources": pb.ComputeResources(limits_cpu="1" * 65)}, "resources.limits_cpu"),
        ({"name": "a\x00b"}, "name"),
    ],
)
async def test_create_refuses_bad_fields(agents, cast, fields, field):
    error = await expect_error(
        agents.stub.CreateAgent(agent_request(cast.org, **fields), metadata=metadata(cast.org_owner)), INVALID
    )
    assert error.details().startswith(field)


@pytest.mark.parametrize("duration", ["1.5h", "300ms", "1h2m3s", "10us", "2µs", "+5m"])
async def test_create_accepts_go_durations(agents, cast, duration):
    created = await agents.create(cast.org_owner, cast.org, idle_timeout=duration)
    assert created.idle_timeout == duration


async def test_only_organization_owners_create(agents, cast):
    for caller in (cast.agent_owner, cast.maintainer, cast.participant, cast.member, cast.outsider):
        await expect_error(
            agents.stub.CreateAgent(agent_request(cast.org), metadata=metadata(caller)), DENIED, "owner"
        )
    other_org = await agents.platform.create_org(cast.outsider)
    await expect_error(
        agents.stub.CreateAgent(agent_request(other_org), metadata=metadata(cast.org_owner)), DENIED
    )


async def test_nicknames_are_unique_in_an_organization(agents, cast):
    await agents.create(cast.org_owner, cast.org, nickname="rev")
    await expect_error(
        agents.stub.CreateAgent(agent_request(cast.org, nickname="rev"), metadata=metadata(cast.org_owner)),
        grpc.StatusCode.ALREADY_EXISTS,
    )
    other_org = await agents.platform.create_org(cast.outsider)
    await agents.create(cast.outsider, other_org, nickname="rev")
    await expect_error(
        agents.stub.UpdateAgent(
            pb.UpdateAgentRequest(id=cast.agent.meta.id, nickname="rev"), metadata=metadata(cast.org_owner)
        ),
        grpc.StatusCode.ALREADY_EXISTS,
    )


async def update(agents, caller, **fields):
    reply = await agents.stub.UpdateAgent(pb.UpdateAgentRequest(**fields), metadata=metadata(caller))
    return reply.agent


async def test_update_changes_only_what_is_set(agents, cast):
    agent_id = cast.agent.meta.id
    updated = await update(
        agents,
        cast.maintainer,
        id=agent_id,
        description="new",
        resources=pb.ComputeResources(limits_cpu="2"),
        capabilities=["x"],
        idle_timeout="10m",
    )
    assert (updated.description, updated.name, updated.idle_timeout) == ("new", "Reviewer", "10m")
    assert updated.resources == pb.ComputeResources(limits_cpu="2")  # replaced as a whole
    assert list(updated.capabilities) == ["x"]
    assert updated.meta.updated_at.ToDatetime() > cast.agent.meta.updated_at.ToDatetime()
    # An empty list is "not sent" on the wire (sheet §8 #6): the capabilities stay.
    again = await update(agents, cast.maintainer, id=agent_id, name="Renamed", capabilities=[])
    assert (again.name, list(again.capabilities)) == ("Renamed", ["x"])
    # Equal values still count as an update.
    same = await update(agents, cast.maintainer, id=agent_id, name="Renamed")
    assert same.meta.updated_at.ToDatetime() > again.meta.updated_at.ToDatetime()
    cleared = await update(agents, cast.org_owner, id=agent_id, nickname="rev")
    assert cleared.nickname == "rev"
    assert (await update(agents, cast.org_owner, id=agent_id, nickname="")).nickname == ""
    assert (await update(agents, cast.org_owner, id=agent_id, configuration="")).configuration == "{}"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id": ""}, "id"),
        ({"id": "x", "name": "n"}, "id"),
        ({}, "id"),  # nothing to change
        ({"capabilities": []}, "id"),
        ({"name": ""}, "name"),
        ({"model": "m"}, "model"),
        ({"init_image": ""}, "init_image"),
        ({"idle_timeout": "soon"}, "idle_timeout"),
        ({"availability": pb.AGENT_AVAILABILITY_UNSPECIFIED}, "availability"),
        ({"nickname": "UP"}, "nickname"),
    ],
)
async def test_update_refuses_bad_fields(agents, cast, fields, field):
    request = {"id": cast.agent.meta.id, **fields}
    error = await expect_error(
        agents.stub.UpdateAgent(pb.UpdateAgentRequest(**request), metadata=metadata(cast.org_owner)), INVALID
    )
    assert error.details().startswith(field)


async def test_update_permissions(agents, cast):
    agent_id = cast.agent.meta.id
    # Configuration: agent owners, maintainers and organization owners.
    for caller in (cast.org_owner, cast.agent_owner, cast.maintainer):
        await update(agents, caller, id=agent_id, description=str(caller))
    for caller in (cast.participant, cast.member, cast.outsider):
        await expect_error(
            agents.stub.UpdateAgent(
                pb.UpdateAgentRequest(id=agent_id, description="x"), metadata=metadata(caller)
            ),
            DENIED,
            "can_edit_config",
        )
    # Availability: the delete-level right, also when sent with other fields.
    private = pb.AGENT_AVAILABILITY_PRIVATE
    for caller in (cast.maintainer, cast.participant, cast.member, cast.outsider):
        await expect_error(
            agents.stub.UpdateAgent(
                pb.UpdateAgentRequest(id=agent_id, availability=private, description="y"),
                metadata=metadata(caller),
            ),
            DENIED,
        )
    assert (await update(agents, cast.agent_owner, id=agent_id, availability=private)).availability == private
    internal = pb.AGENT_AVAILABILITY_INTERNAL
    assert (await update(agents, cast.org_owner, id=agent_id, availability=internal)).availability == internal
    await expect_error(
        agents.stub.UpdateAgent(
            pb.UpdateAgentRequest(id=str(uuid.uuid4()), name="x"), metadata=metadata(cast.org_owner)
        ),
        NOT_FOUND,
    )


async def test_delete_permissions_and_effect(agents, cast):
    agent_id = cast.agent.meta.id
    for caller in (cast.maintainer, cast.participant, cast.member, cast.outsider):
        await expect_error(
            agents.stub.DeleteAgent(pb.DeleteAgentRequest(id=agent_id), metadata=metadata(caller)),
            DENIED,
            "can_delete",
        )
    await agents.stub.DeleteAgent(pb.DeleteAgentRequest(id=agent_id), metadata=metadata(cast.agent_owner))
    await expect_error(
        agents.stub.GetAgent(pb.GetAgentRequest(id=agent_id), metadata=metadata(cast.org_owner)), NOT_FOUND
    )
    # Repeating is NOT_FOUND; the roles went with the agent.
    await expect_error(
        agents.stub.DeleteAgent(pb.DeleteAgentRequest(id=agent_id), metadata=metadata(cast.org_owner)),
        NOT_FOUND,
    )
    mine = await agents.stub.ListMyAgentRoles(
        pb.ListMyAgentRolesRequest(organization_id=cast.org), metadata=metadata(cast.maintainer)
    )
    assert list(mine.assignments) == []
    second = await agents.create(cast.org_owner, cast.org)
    await agents.stub.DeleteAgent(pb.DeleteAgentRequest(id=second.meta.id), metadata=metadata(cast.org_owner))
    await expect_error(
        agents.stub.DeleteAgent(pb.DeleteAgentRequest(id="nope"), metadata=metadata(cast.org_owner)), INVALID
    )


async def test_an_agent_with_sub_resources_is_not_deleted(agents, cast):
    # Sub-resource RPCs come later; a row written directly stands in for one.
    async with agents.service.runtime.db.transaction() as connection:
        await connection.execute(
            sa.insert(mcps).values(id=uuid.uuid4(), agent_id=uuid.UUID(cast.agent.meta.id), name="fs")
        )
    await expect_error(
        agents.stub.DeleteAgent(
            pb.DeleteAgentRequest(id=cast.agent.meta.id), metadata=metadata(cast.org_owner)
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "sub-resources",
    )


async def test_create_honours_idempotency_keys(agents, cast):
    owner = metadata(cast.org_owner, idempotency_key="k1")
    first = await agents.stub.CreateAgent(agent_request(cast.org, name="Once"), metadata=owner)
    again = await agents.stub.CreateAgent(agent_request(cast.org, name="Once"), metadata=owner)
    assert again.agent == first.agent
    await expect_error(
        agents.stub.CreateAgent(agent_request(cast.org, name="Other"), metadata=owner),
        grpc.StatusCode.FAILED_PRECONDITION,
    )
    volume = pb.CreateVolumeRequest(organization_id=cast.org, mount_path="/v")
    made = await agents.stub.CreateVolume(volume, metadata=owner)  # keys are per method
    assert made.volume.mount_path == "/v"
    listed = await agents.stub.ListAgents(
        pb.ListAgentsRequest(organization_id=cast.org), metadata=metadata(cast.org_owner)
    )
    assert [a.name for a in listed.agents] == ["Reviewer", "Once"]
