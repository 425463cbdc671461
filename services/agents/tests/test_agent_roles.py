"""SetAgentRole, RemoveAgentRole, ListAgentRoles, ListMyAgentRoles (sheet §3.3)."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_inprocess.agents import pb
from agyn_testkit.calls import expect_error, metadata

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
OWNER, MAINTAINER, PARTICIPANT = pb.AGENT_ROLE_OWNER, pb.AGENT_ROLE_MAINTAINER, pb.AGENT_ROLE_PARTICIPANT


async def roles(agents, caller, agent_id):
    reply = await agents.stub.ListAgentRoles(
        pb.ListAgentRolesRequest(agent_id=agent_id), metadata=metadata(caller)
    )
    return [(a.agent_id, a.identity_id, a.role) for a in reply.assignments]


async def my_roles(agents, caller, org):
    reply = await agents.stub.ListMyAgentRoles(
        pb.ListMyAgentRolesRequest(organization_id=org), metadata=metadata(caller)
    )
    return [(a.agent_id, a.role) for a in reply.assignments]


async def test_roles_are_listed_by_identity(agents, cast):
    agent_id = cast.agent.meta.id
    expected = sorted(
        [
            (agent_id, str(cast.org_owner), OWNER),
            (agent_id, str(cast.agent_owner), OWNER),
            (agent_id, str(cast.maintainer), MAINTAINER),
            (agent_id, str(cast.participant), PARTICIPANT),
        ],
        key=lambda assignment: assignment[1],
    )
    assert await roles(agents, cast.agent_owner, agent_id) == expected
    assert await roles(agents, cast.org_owner, agent_id) == expected
    reply = await agents.stub.ListAgentRoles(
        pb.ListAgentRolesRequest(agent_id=agent_id), metadata=metadata(caller="agents-orchestrator")
    )
    assert len(reply.assignments) == 4


async def test_set_changes_the_one_role_and_repeating_is_harmless(agents, cast):
    agent_id = cast.agent.meta.id
    reply = await agents.stub.SetAgentRole(
        pb.SetAgentRoleRequest(agent_id=agent_id, identity_id=str(cast.member), role=PARTICIPANT),
        metadata=metadata(cast.agent_owner),
    )
    assert reply.assignment == pb.AgentRoleAssignment(
        agent_id=agent_id, identity_id=str(cast.member), role=PARTICIPANT
    )
    await agents.set_role(cast.agent_owner, agent_id, cast.member, PARTICIPANT)  # same role: a no-op
    await agents.set_role(cast.agent_owner, agent_id, cast.member, MAINTAINER)  # replaces, never adds
    assert await my_roles(agents, cast.member, cast.org) == [(agent_id, MAINTAINER)]
    # The maintainer now reads the configuration; demoting the last agent owner is allowed.
    await agents.set_role(cast.org_owner, agent_id, cast.agent_owner, PARTICIPANT)
    await agents.set_role(cast.org_owner, agent_id, cast.org_owner, PARTICIPANT)
    await expect_error(
        agents.stub.ListAgentRoles(
            pb.ListAgentRolesRequest(agent_id=agent_id), metadata=metadata(cast.agent_owner)
        ),
        DENIED,
    )
    assert len(await roles(agents, cast.org_owner, agent_id)) == 5  # organization owners keep control


async def test_only_those_who_manage_roles_may_change_or_list_them(agents, cast):
    agent_id = cast.agent.meta.id
    for caller in (cast.maintainer, cast.participant, cast.member, cast.outsider):
        await expect_error(
            agents.stub.SetAgentRole(
                pb.SetAgentRoleRequest(agent_id=agent_id, identity_id=str(caller), role=OWNER),
                metadata=metadata(caller),
            ),
            DENIED,
            "can_manage_roles",
        )
        await expect_error(
            agents.stub.RemoveAgentRole(
                pb.RemoveAgentRoleRequest(agent_id=agent_id, identity_id=str(cast.participant)),
                metadata=metadata(caller),
            ),
            DENIED,
        )
        await expect_error(
            agents.stub.ListAgentRoles(
                pb.ListAgentRolesRequest(agent_id=agent_id), metadata=metadata(caller)
            ),
            DENIED,
        )


async def test_roles_stay_inside_the_organization(agents, cast):
    await expect_error(
        agents.stub.SetAgentRole(
            pb.SetAgentRoleRequest(
                agent_id=cast.agent.meta.id, identity_id=str(cast.outsider), role=PARTICIPANT
            ),
            metadata=metadata(cast.org_owner),
        ),
        INVALID,
        "not a member of the agent organization",
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"agent_id": ""}, "agent_id"),
        ({"agent_id": "a"}, "agent_id"),
        ({"identity_id": ""}, "identity_id"),
        ({"identity_id": "i"}, "identity_id"),
        ({"role": pb.AGENT_ROLE_UNSPECIFIED}, "role"),
        ({"role": 9}, "role"),
    ],
)
async def test_set_refuses_bad_fields(agents, cast, fields, field):
    request = {"agent_id": cast.agent.meta.id, "identity_id": str(cast.member), "role": PARTICIPANT, **fields}
    error = await expect_error(
        agents.stub.SetAgentRole(pb.SetAgentRoleRequest(**request), metadata=metadata(cast.org_owner)),
        INVALID,
    )
    assert error.details().startswith(field)


async def test_remove(agents, cast):
    agent_id = cast.agent.meta.id
    await agents.stub.RemoveAgentRole(
        pb.RemoveAgentRoleRequest(agent_id=agent_id, identity_id=str(cast.maintainer)),
        metadata=metadata(cast.agent_owner),
    )
    assert str(cast.maintainer) not in {
        identity for _, identity, _ in await roles(agents, cast.org_owner, agent_id)
    }
    seen = await agents.stub.GetAgent(pb.GetAgentRequest(id=agent_id), metadata=metadata(cast.maintainer))
    assert seen.agent.model == ""  # no longer reads the configuration
    for identity in (cast.maintainer, cast.member):  # removed already; never had one
        await expect_error(
            agents.stub.RemoveAgentRole(
                pb.RemoveAgentRoleRequest(agent_id=agent_id, identity_id=str(identity)),
                metadata=metadata(cast.org_owner),
            ),
            NOT_FOUND,
            "role assignment",
        )
    for fields in ({"agent_id": "x"}, {"identity_id": ""}):
        request = {"agent_id": agent_id, "identity_id": str(cast.member), **fields}
        await expect_error(
            agents.stub.RemoveAgentRole(
                pb.RemoveAgentRoleRequest(**request), metadata=metadata(cast.org_owner)
            ),
            INVALID,
        )


async def test_unknown_agents_are_not_found(agents, cast):
    unknown = str(uuid.uuid4())
    await expect_error(
        agents.stub.SetAgentRole(
            pb.SetAgentRoleRequest(agent_id=unknown, identity_id=str(cast.member), role=OWNER),
            metadata=metadata(cast.org_owner),
        ),
        NOT_FOUND,
    )
    await expect_error(
        agents.stub.RemoveAgentRole(
            pb.RemoveAgentRoleRequest(agent_id=unknown, identity_id=str(cast.member)),
            metadata=metadata(cast.org_owner),
        ),
        NOT_FOUND,
    )
    await expect_error(
        agents.stub.ListAgentRoles(
            pb.ListAgentRolesRequest(agent_id=unknown), metadata=metadata(cast.org_owner)
        ),
        NOT_FOUND,
    )
    await expect_error(
        agents.stub.ListAgentRoles(pb.ListAgentRolesRequest(agent_id=""), metadata=metadata(cast.org_owner)),
        INVALID,
    )


async def test_my_roles_are_mine_and_in_one_organization(agents, cast):
    second = await agents.create(cast.org_owner, cast.org, name="Second")
    await agents.set_role(cast.org_owner, second.meta.id, cast.participant, OWNER)
    other_org = await agents.platform.create_org(cast.outsider)
    await agents.platform.join(cast.outsider, other_org, cast.participant)
    elsewhere = await agents.create(cast.outsider, other_org)
    await agents.set_role(cast.outsider, elsewhere.meta.id, cast.participant, MAINTAINER)
    assert await my_roles(agents, cast.participant, cast.org) == sorted(
        [(cast.agent.meta.id, PARTICIPANT), (second.meta.id, OWNER)]
    )
    assert await my_roles(agents, cast.participant, other_org) == [(elsewhere.meta.id, MAINTAINER)]
    assert await my_roles(agents, cast.member, cast.org) == []
    assert await my_roles(agents, cast.outsider, cast.org) == []  # nothing of theirs there
    for org in ("", "acme"):
        await expect_error(
            agents.stub.ListMyAgentRoles(
                pb.ListMyAgentRolesRequest(organization_id=org), metadata=metadata(cast.member)
            ),
            INVALID,
            "organization_id",
        )
