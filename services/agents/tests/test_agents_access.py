"""Who may call what (sheet §4.3), that every method is served, and the relation table (§4.1)."""

from __future__ import annotations

import grpc
import pytest
from agyn_agents.access import ACCESS, AGENTS
from agyn_agents.permissions import (
    CAN_DELETE,
    CAN_EDIT_CONFIG,
    CAN_INITIATE,
    CAN_MANAGE_ROLES,
    CAN_READ_CONFIG,
    INTERNAL,
    PRIVATE,
    decided_by_role,
)
from agyn_inprocess.agents import agent_request, pb
from agyn_testkit.calls import expect_error, metadata

DENIED = grpc.StatusCode.PERMISSION_DENIED


async def test_every_method_is_served(agents, cast):
    """No method is left to the generated base class's UNIMPLEMENTED (an empty request is
    refused by the handler itself, or answered)."""
    unimplemented = []
    for method in pb.DESCRIPTOR.services_by_name["AgentsService"].methods:
        request = getattr(pb, method.input_type.name)()
        try:
            await getattr(agents.stub, method.name)(request, metadata=metadata(cast.org_owner))
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                unimplemented.append(method.name)
    assert unimplemented == []


@pytest.mark.parametrize(
    ("name", "request_for"),
    [
        ("CreateAgent", lambda cast: agent_request(cast.org)),
        ("UpdateAgent", lambda cast: pb.UpdateAgentRequest(id=cast.agent.meta.id, name="x")),
        ("DeleteAgent", lambda cast: pb.DeleteAgentRequest(id=cast.agent.meta.id)),
        (
            "SetAgentRole",
            lambda cast: pb.SetAgentRoleRequest(
                agent_id=cast.agent.meta.id, identity_id=str(cast.member), role=pb.AGENT_ROLE_OWNER
            ),
        ),
        (
            "RemoveAgentRole",
            lambda cast: pb.RemoveAgentRoleRequest(
                agent_id=cast.agent.meta.id, identity_id=str(cast.maintainer)
            ),
        ),
        ("ListMyAgentRoles", lambda cast: pb.ListMyAgentRolesRequest(organization_id=cast.org)),
    ],
)
async def test_writes_need_an_identity_and_the_gateway(agents, cast, name, request_for):
    call = getattr(agents.stub, name)
    request = request_for(cast)
    await expect_error(call(request, metadata=metadata()), grpc.StatusCode.UNAUTHENTICATED)
    for workload in ("agents-orchestrator", "runners", "chat", "tracing", "threads"):
        await expect_error(call(request, metadata=metadata(cast.org_owner, caller=workload)), DENIED)
    await expect_error(call(request, metadata=metadata(cast.org_owner, caller=None)), DENIED)


async def test_platform_readers_reach_only_their_reads(agents, cast):
    agent = pb.GetAgentRequest(id=cast.agent.meta.id)
    for workload in ("agents-orchestrator", "runners", "chat", "notifications", "threads"):
        await agents.stub.GetAgent(agent, metadata=metadata(caller=workload))
    for workload in ("tracing", "files"):
        await expect_error(agents.stub.GetAgent(agent, metadata=metadata(caller=workload)), DENIED)
    listing = pb.ListAgentsRequest()
    await agents.stub.ListAgents(listing, metadata=metadata(caller="agents-orchestrator"))
    for workload in ("runners", "chat", "notifications"):
        await expect_error(agents.stub.ListAgents(listing, metadata=metadata(caller=workload)), DENIED)
    # The gateway always carries an identity: ListAgents then needs an organization.
    await expect_error(
        agents.stub.ListAgents(listing, metadata=metadata(cast.org_owner)), grpc.StatusCode.INVALID_ARGUMENT
    )


def test_the_method_table_lists_every_method_and_creates_are_idempotent():
    service = pb.DESCRIPTOR.services_by_name["AgentsService"]
    served = {f"/{AGENTS}/{m.name}" for m in service.methods}
    assert {path for path in ACCESS.methods if path.startswith(f"/{AGENTS}/")} == served
    creates = {f"/{AGENTS}/{m.name}" for m in service.methods if m.name.startswith("Create")}
    assert ACCESS.idempotent == creates


# role held, availability → (can_initiate, can_read_config, can_edit_config, can_manage_roles, can_delete);
# None: the organization relation decides (member for can_initiate, owner for the rest).
RELATIONS = (CAN_INITIATE, CAN_READ_CONFIG, CAN_EDIT_CONFIG, CAN_MANAGE_ROLES, CAN_DELETE)


@pytest.mark.parametrize(
    ("role", "availability", "expected"),
    [
        ("owner", PRIVATE, (True, True, True, True, True)),
        ("maintainer", PRIVATE, (True, True, True, None, None)),
        ("participant", PRIVATE, (True, None, None, None, None)),
        (None, PRIVATE, (False, None, None, None, None)),
        (None, INTERNAL, (None, None, None, None, None)),
        ("participant", INTERNAL, (True, None, None, None, None)),
    ],
)
def test_relations_from_roles_and_availability(role, availability, expected):
    assert tuple(decided_by_role(relation, role, availability) for relation in RELATIONS) == expected
