"""Per-agent roles: set, remove, list (sheet §3.3). An identity holds at most one role on an
agent; organization owners hold the owner-level relations without one and are not listed."""

from __future__ import annotations

from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import invalid_argument, not_found
from agyn_common.validation import parse_uuid
from agynio.api.agents.v1 import agents_pb2 as pb

from agyn_agents import convert, store
from agyn_agents.events import AgentEvents
from agyn_agents.permissions import CAN_MANAGE_ROLES, AgentPermissions


class RoleHandlers:
    def __init__(self, database: Database, permissions: AgentPermissions, events: AgentEvents) -> None:
        self._db = database
        self._permissions = permissions
        self._events = events

    async def set(self, request: pb.SetAgentRoleRequest) -> pb.SetAgentRoleResponse:
        caller = current_caller().require_identity()
        agent_id = parse_uuid(request.agent_id.strip(), "agent_id")
        identity_id = parse_uuid(request.identity_id.strip(), "identity_id")
        if request.role not in convert.ROLES:
            raise invalid_argument(
                "role", "must be AGENT_ROLE_OWNER, AGENT_ROLE_MAINTAINER or AGENT_ROLE_PARTICIPANT"
            )
        role = convert.ROLES[request.role]
        async with self._db.transaction() as connection:
            agent = await store.load_agent(connection, agent_id, lock=True)
            await self._permissions.require(connection, caller, agent, CAN_MANAGE_ROLES)
            # Roles never reach outside the agent's organization (sheet §3.3, §8 #8).
            if not await self._permissions.in_organization(identity_id, agent.organization_id):
                raise invalid_argument("identity_id", "identity is not a member of the agent organization")
            if await store.role_of(connection, agent_id, identity_id) != role:  # the same role: nothing to do
                await store.set_role(connection, agent_id, identity_id, role)
                await self._events.role_changed(connection, agent, identity_id, role)
        return pb.SetAgentRoleResponse(
            assignment=pb.AgentRoleAssignment(
                agent_id=str(agent_id), identity_id=str(identity_id), role=request.role
            )
        )

    async def remove(self, request: pb.RemoveAgentRoleRequest) -> pb.RemoveAgentRoleResponse:
        caller = current_caller().require_identity()
        agent_id = parse_uuid(request.agent_id.strip(), "agent_id")
        identity_id = parse_uuid(request.identity_id.strip(), "identity_id")
        async with self._db.transaction() as connection:
            agent = await store.load_agent(connection, agent_id, lock=True)
            await self._permissions.require(connection, caller, agent, CAN_MANAGE_ROLES)
            if not await store.remove_role(connection, agent_id, identity_id):
                raise not_found("role assignment not found")
            await self._events.role_changed(connection, agent, identity_id, None)
        return pb.RemoveAgentRoleResponse()

    async def of_agent(self, request: pb.ListAgentRolesRequest) -> pb.ListAgentRolesResponse:
        caller = current_caller().identity_id  # none: a platform reader (sheet §4.3)
        agent_id = parse_uuid(request.agent_id.strip(), "agent_id")
        async with self._db.transaction() as connection:
            agent = await store.load_agent(connection, agent_id)
            if caller is not None:
                await self._permissions.require(connection, caller, agent, CAN_MANAGE_ROLES)
            rows = await store.roles_of_agent(connection, agent_id)
        return pb.ListAgentRolesResponse(assignments=[convert.assignment_message(row) for row in rows])

    async def mine(self, request: pb.ListMyAgentRolesRequest) -> pb.ListMyAgentRolesResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id.strip(), "organization_id")
        async with self._db.transaction() as connection:
            rows = await store.roles_of_identity(connection, caller, organization_id)
        return pb.ListMyAgentRolesResponse(assignments=[convert.assignment_message(row) for row in rows])
