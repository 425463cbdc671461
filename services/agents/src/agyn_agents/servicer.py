"""AgentsService (agents sheet §3, §4; DESIGN §6): each RPC handed to its handler.

Methods not written here yet answer UNIMPLEMENTED from the generated base class.
"""

from __future__ import annotations

import grpc
from agyn_common.db import Database
from agyn_common.org_access import OrganizationAccess
from agyn_common.outbox import Outbox
from agynio.api.agents.v1 import agents_pb2 as pb
from agynio.api.agents.v1 import agents_pb2_grpc

from agyn_agents.events import AgentEvents
from agyn_agents.permissions import AgentPermissions
from agyn_agents.rpc.agents import AgentHandlers
from agyn_agents.rpc.roles import RoleHandlers
from agyn_agents.rpc.volumes import VolumeHandlers


class AgentsServicer(agents_pb2_grpc.AgentsServiceServicer):
    def __init__(self, database: Database, outbox: Outbox, organizations: OrganizationAccess) -> None:
        permissions = AgentPermissions(organizations)
        events = AgentEvents(outbox)
        self._agents = AgentHandlers(database, permissions, events)
        self._roles = RoleHandlers(database, permissions, events)
        self._volumes = VolumeHandlers(database, permissions, events)

    async def CreateAgent(
        self, request: pb.CreateAgentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateAgentResponse:
        return await self._agents.create(request)

    async def GetAgent(
        self, request: pb.GetAgentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetAgentResponse:
        return await self._agents.get(request)

    async def ResolveAgentIdentity(
        self, request: pb.ResolveAgentIdentityRequest, context: grpc.aio.ServicerContext
    ) -> pb.ResolveAgentIdentityResponse:
        return await self._agents.resolve_identity(request)

    async def UpdateAgent(
        self, request: pb.UpdateAgentRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateAgentResponse:
        return await self._agents.update(request)

    async def DeleteAgent(
        self, request: pb.DeleteAgentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteAgentResponse:
        return await self._agents.delete(request)

    async def ListAgents(
        self, request: pb.ListAgentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAgentsResponse:
        return await self._agents.list(request)

    async def SetAgentRole(
        self, request: pb.SetAgentRoleRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetAgentRoleResponse:
        return await self._roles.set(request)

    async def RemoveAgentRole(
        self, request: pb.RemoveAgentRoleRequest, context: grpc.aio.ServicerContext
    ) -> pb.RemoveAgentRoleResponse:
        return await self._roles.remove(request)

    async def ListAgentRoles(
        self, request: pb.ListAgentRolesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAgentRolesResponse:
        return await self._roles.of_agent(request)

    async def ListMyAgentRoles(
        self, request: pb.ListMyAgentRolesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMyAgentRolesResponse:
        return await self._roles.mine(request)

    async def CreateVolume(
        self, request: pb.CreateVolumeRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateVolumeResponse:
        return await self._volumes.create(request)

    async def GetVolume(
        self, request: pb.GetVolumeRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetVolumeResponse:
        return await self._volumes.get(request)

    async def UpdateVolume(
        self, request: pb.UpdateVolumeRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateVolumeResponse:
        return await self._volumes.update(request)

    async def DeleteVolume(
        self, request: pb.DeleteVolumeRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteVolumeResponse:
        return await self._volumes.delete(request)

    async def ListVolumes(
        self, request: pb.ListVolumesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListVolumesResponse:
        return await self._volumes.list(request)
