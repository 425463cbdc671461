"""AgentsService (agents sheet §3, §4; DESIGN §6): each of its 48 RPCs handed to its handler.

The seven kinds of sub-resource share one handler class (`rpc/children.py`), one instance
per kind from the table in `rpc/kinds.py`; their replies are typed here, where the RPC is.
"""

from __future__ import annotations

import grpc
from agyn_common.db import Database
from agyn_common.org_access import OrganizationAccess
from agyn_common.outbox import Outbox
from agynio.api.agents.v1 import access_pb2 as access_pb
from agynio.api.agents.v1 import access_pb2_grpc, agents_pb2_grpc
from agynio.api.agents.v1 import agents_pb2 as pb

from agyn_agents.events import AgentEvents
from agyn_agents.identity import AgentIdentities
from agyn_agents.permissions import AgentPermissions
from agyn_agents.rpc.access import AgentAccessHandlers
from agyn_agents.rpc.agents import AgentHandlers
from agyn_agents.rpc.children import ChildHandlers
from agyn_agents.rpc.kinds import KINDS
from agyn_agents.rpc.roles import RoleHandlers
from agyn_agents.rpc.volumes import VolumeHandlers


class AgentsServicer(agents_pb2_grpc.AgentsServiceServicer):
    def __init__(
        self,
        database: Database,
        outbox: Outbox,
        organizations: OrganizationAccess,
        identities: AgentIdentities,
    ) -> None:
        permissions = AgentPermissions(organizations)
        events = AgentEvents(outbox)
        self._agents = AgentHandlers(database, permissions, events, identities)
        self._roles = RoleHandlers(database, permissions, events)
        self._volumes = VolumeHandlers(database, permissions, events)
        (
            self._mcps,
            self._skills,
            self._hooks,
            self._envs,
            self._init_scripts,
            self._volume_attachments,
            self._image_pull_secret_attachments,
        ) = (ChildHandlers(kind, database, permissions, events) for kind in KINDS.values())

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

    async def CreateMcp(
        self, request: pb.CreateMcpRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateMcpResponse:
        response: pb.CreateMcpResponse = await self._mcps.create(request)
        return response

    async def GetMcp(self, request: pb.GetMcpRequest, context: grpc.aio.ServicerContext) -> pb.GetMcpResponse:
        response: pb.GetMcpResponse = await self._mcps.get(request)
        return response

    async def UpdateMcp(
        self, request: pb.UpdateMcpRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateMcpResponse:
        response: pb.UpdateMcpResponse = await self._mcps.update(request)
        return response

    async def DeleteMcp(
        self, request: pb.DeleteMcpRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteMcpResponse:
        response: pb.DeleteMcpResponse = await self._mcps.delete(request)
        return response

    async def ListMcps(
        self, request: pb.ListMcpsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMcpsResponse:
        response: pb.ListMcpsResponse = await self._mcps.list(request)
        return response

    async def CreateSkill(
        self, request: pb.CreateSkillRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateSkillResponse:
        response: pb.CreateSkillResponse = await self._skills.create(request)
        return response

    async def GetSkill(
        self, request: pb.GetSkillRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSkillResponse:
        response: pb.GetSkillResponse = await self._skills.get(request)
        return response

    async def UpdateSkill(
        self, request: pb.UpdateSkillRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateSkillResponse:
        response: pb.UpdateSkillResponse = await self._skills.update(request)
        return response

    async def DeleteSkill(
        self, request: pb.DeleteSkillRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteSkillResponse:
        response: pb.DeleteSkillResponse = await self._skills.delete(request)
        return response

    async def ListSkills(
        self, request: pb.ListSkillsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSkillsResponse:
        response: pb.ListSkillsResponse = await self._skills.list(request)
        return response

    async def CreateHook(
        self, request: pb.CreateHookRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateHookResponse:
        response: pb.CreateHookResponse = await self._hooks.create(request)
        return response

    async def GetHook(
        self, request: pb.GetHookRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetHookResponse:
        response: pb.GetHookResponse = await self._hooks.get(request)
        return response

    async def UpdateHook(
        self, request: pb.UpdateHookRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateHookResponse:
        response: pb.UpdateHookResponse = await self._hooks.update(request)
        return response

    async def DeleteHook(
        self, request: pb.DeleteHookRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteHookResponse:
        response: pb.DeleteHookResponse = await self._hooks.delete(request)
        return response

    async def ListHooks(
        self, request: pb.ListHooksRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListHooksResponse:
        response: pb.ListHooksResponse = await self._hooks.list(request)
        return response

    async def CreateVolumeAttachment(
        self, request: pb.CreateVolumeAttachmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateVolumeAttachmentResponse:
        response: pb.CreateVolumeAttachmentResponse = await self._volume_attachments.create(request)
        return response

    async def GetVolumeAttachment(
        self, request: pb.GetVolumeAttachmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetVolumeAttachmentResponse:
        response: pb.GetVolumeAttachmentResponse = await self._volume_attachments.get(request)
        return response

    async def DeleteVolumeAttachment(
        self, request: pb.DeleteVolumeAttachmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteVolumeAttachmentResponse:
        response: pb.DeleteVolumeAttachmentResponse = await self._volume_attachments.delete(request)
        return response

    async def ListVolumeAttachments(
        self, request: pb.ListVolumeAttachmentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListVolumeAttachmentsResponse:
        response: pb.ListVolumeAttachmentsResponse = await self._volume_attachments.list(request)
        return response

    async def CreateEnv(
        self, request: pb.CreateEnvRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateEnvResponse:
        response: pb.CreateEnvResponse = await self._envs.create(request)
        return response

    async def GetEnv(self, request: pb.GetEnvRequest, context: grpc.aio.ServicerContext) -> pb.GetEnvResponse:
        response: pb.GetEnvResponse = await self._envs.get(request)
        return response

    async def UpdateEnv(
        self, request: pb.UpdateEnvRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateEnvResponse:
        response: pb.UpdateEnvResponse = await self._envs.update(request)
        return response

    async def DeleteEnv(
        self, request: pb.DeleteEnvRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteEnvResponse:
        response: pb.DeleteEnvResponse = await self._envs.delete(request)
        return response

    async def ListEnvs(
        self, request: pb.ListEnvsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListEnvsResponse:
        response: pb.ListEnvsResponse = await self._envs.list(request)
        return response

    async def CreateInitScript(
        self, request: pb.CreateInitScriptRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateInitScriptResponse:
        response: pb.CreateInitScriptResponse = await self._init_scripts.create(request)
        return response

    async def GetInitScript(
        self, request: pb.GetInitScriptRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetInitScriptResponse:
        response: pb.GetInitScriptResponse = await self._init_scripts.get(request)
        return response

    async def UpdateInitScript(
        self, request: pb.UpdateInitScriptRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateInitScriptResponse:
        response: pb.UpdateInitScriptResponse = await self._init_scripts.update(request)
        return response

    async def DeleteInitScript(
        self, request: pb.DeleteInitScriptRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteInitScriptResponse:
        response: pb.DeleteInitScriptResponse = await self._init_scripts.delete(request)
        return response

    async def ListInitScripts(
        self, request: pb.ListInitScriptsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListInitScriptsResponse:
        response: pb.ListInitScriptsResponse = await self._init_scripts.list(request)
        return response

    async def CreateImagePullSecretAttachment(
        self, request: pb.CreateImagePullSecretAttachmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateImagePullSecretAttachmentResponse:
        response: pb.CreateImagePullSecretAttachmentResponse = (
            await self._image_pull_secret_attachments.create(request)
        )
        return response

    async def GetImagePullSecretAttachment(
        self, request: pb.GetImagePullSecretAttachmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetImagePullSecretAttachmentResponse:
        response: pb.GetImagePullSecretAttachmentResponse = await self._image_pull_secret_attachments.get(
            request
        )
        return response

    async def DeleteImagePullSecretAttachment(
        self, request: pb.DeleteImagePullSecretAttachmentRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteImagePullSecretAttachmentResponse:
        response: pb.DeleteImagePullSecretAttachmentResponse = (
            await self._image_pull_secret_attachments.delete(request)
        )
        return response

    async def ListImagePullSecretAttachments(
        self, request: pb.ListImagePullSecretAttachmentsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListImagePullSecretAttachmentsResponse:
        response: pb.ListImagePullSecretAttachmentsResponse = await self._image_pull_secret_attachments.list(
            request
        )
        return response


class AgentAccessServicer(access_pb2_grpc.AgentAccessServiceServicer):
    """Agent relation checks for other services (our addition; rpc/access.py)."""

    def __init__(self, database: Database, organizations: OrganizationAccess) -> None:
        self._access = AgentAccessHandlers(database, AgentPermissions(organizations))

    async def CheckAgentRelation(
        self, request: access_pb.CheckAgentRelationRequest, context: grpc.aio.ServicerContext
    ) -> access_pb.CheckAgentRelationResponse:
        return await self._access.check_relation(request)

    async def BatchCheckAgentRelations(
        self, request: access_pb.BatchCheckAgentRelationsRequest, context: grpc.aio.ServicerContext
    ) -> access_pb.BatchCheckAgentRelationsResponse:
        return await self._access.batch_check_relations(request)
