"""The proto servicers of the organizations deployable: one method per RPC, handled in rpc/."""

from __future__ import annotations

import grpc
from agynio.api.organizations.v1 import access_pb2, access_pb2_grpc, organizations_pb2, organizations_pb2_grpc

from agyn_organizations.rpc.memberships import MembershipHandlers
from agyn_organizations.rpc.organization_access import OrganizationAccessHandlers
from agyn_organizations.rpc.organizations import OrganizationHandlers


class OrganizationsServicer(organizations_pb2_grpc.OrganizationsServiceServicer):
    def __init__(self, organizations: OrganizationHandlers, memberships: MembershipHandlers) -> None:
        self._organizations = organizations
        self._memberships = memberships

    async def CreateOrganization(
        self, request: organizations_pb2.CreateOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.CreateOrganizationResponse:
        return await self._organizations.create_organization(request)

    async def GetOrganization(
        self, request: organizations_pb2.GetOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.GetOrganizationResponse:
        return await self._organizations.get_organization(request)

    async def UpdateOrganization(
        self, request: organizations_pb2.UpdateOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.UpdateOrganizationResponse:
        return await self._organizations.update_organization(request)

    async def DeleteOrganization(
        self, request: organizations_pb2.DeleteOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.DeleteOrganizationResponse:
        return await self._organizations.delete_organization(request)

    async def ListOrganizations(
        self, request: organizations_pb2.ListOrganizationsRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.ListOrganizationsResponse:
        return await self._organizations.list_organizations(request)

    async def ListAccessibleOrganizations(
        self, request: organizations_pb2.ListAccessibleOrganizationsRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.ListAccessibleOrganizationsResponse:
        return await self._organizations.list_accessible_organizations(request)

    async def CreateMembership(
        self, request: organizations_pb2.CreateMembershipRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.CreateMembershipResponse:
        return await self._memberships.create_membership(request)

    async def AcceptMembership(
        self, request: organizations_pb2.AcceptMembershipRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.AcceptMembershipResponse:
        return await self._memberships.accept_membership(request)

    async def DeclineMembership(
        self, request: organizations_pb2.DeclineMembershipRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.DeclineMembershipResponse:
        return await self._memberships.decline_membership(request)

    async def RemoveMembership(
        self, request: organizations_pb2.RemoveMembershipRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.RemoveMembershipResponse:
        return await self._memberships.remove_membership(request)

    async def UpdateMembershipRole(
        self, request: organizations_pb2.UpdateMembershipRoleRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.UpdateMembershipRoleResponse:
        return await self._memberships.update_membership_role(request)

    async def ListMembers(
        self, request: organizations_pb2.ListMembersRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.ListMembersResponse:
        return await self._memberships.list_members(request)

    async def ListMyMemberships(
        self, request: organizations_pb2.ListMyMembershipsRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.ListMyMembershipsResponse:
        return await self._memberships.list_my_memberships(request)

    async def SetMyOrgNickname(
        self, request: organizations_pb2.SetMyOrgNicknameRequest, context: grpc.aio.ServicerContext
    ) -> organizations_pb2.SetMyOrgNicknameResponse:
        return await self._memberships.set_my_org_nickname(request)


class OrganizationAccessServicer(access_pb2_grpc.OrganizationAccessServiceServicer):
    def __init__(self, access: OrganizationAccessHandlers) -> None:
        self._access = access

    async def CheckOrganizationRelation(
        self, request: access_pb2.CheckOrganizationRelationRequest, context: grpc.aio.ServicerContext
    ) -> access_pb2.CheckOrganizationRelationResponse:
        return await self._access.check_relation(request)

    async def BatchCheckOrganizationRelations(
        self, request: access_pb2.BatchCheckOrganizationRelationsRequest, context: grpc.aio.ServicerContext
    ) -> access_pb2.BatchCheckOrganizationRelationsResponse:
        return await self._access.batch_check_relations(request)

    async def ListOrganizationsForRelation(
        self, request: access_pb2.ListOrganizationsForRelationRequest, context: grpc.aio.ServicerContext
    ) -> access_pb2.ListOrganizationsForRelationResponse:
        return await self._access.list_organizations_for_relation(request)

    async def WriteOrganizationGrants(
        self, request: access_pb2.WriteOrganizationGrantsRequest, context: grpc.aio.ServicerContext
    ) -> access_pb2.WriteOrganizationGrantsResponse:
        return await self._access.write_grants(request)
