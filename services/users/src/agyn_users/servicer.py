"""The proto servicers of the deployable: one method per RPC, each handled in `rpc/`."""

from __future__ import annotations

from agynio.api.identity.v1 import identity_pb2, identity_pb2_grpc
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from agynio.api.ziti_management.v1 import ziti_management_pb2 as zitimanagement_pb2
from agynio.api.ziti_management.v1 import ziti_management_pb2_grpc as zitimanagement_pb2_grpc
from grpc.aio import ServicerContext

from agyn_users.rpc.accounts import AccountHandlers
from agyn_users.rpc.api_tokens import ApiTokenHandlers
from agyn_users.rpc.devices import DeviceHandlers
from agyn_users.rpc.identities import IdentityHandlers
from agyn_users.rpc.nicknames import NicknameHandlers
from agyn_users.rpc.workload_credentials import WorkloadCredentialHandlers


class UsersServicer(users_pb2_grpc.UsersServiceServicer):
    """Accounts, the directory, API tokens and devices."""

    def __init__(
        self, accounts: AccountHandlers, api_tokens: ApiTokenHandlers, devices: DeviceHandlers
    ) -> None:
        self._accounts = accounts
        self._api_tokens = api_tokens
        self._devices = devices

    async def ResolveOrCreateUser(
        self, request: users_pb2.ResolveOrCreateUserRequest, context: ServicerContext
    ) -> users_pb2.ResolveOrCreateUserResponse:
        return await self._accounts.resolve_or_create_user(request)

    async def GetUserByOIDCSubject(
        self, request: users_pb2.GetUserByOIDCSubjectRequest, context: ServicerContext
    ) -> users_pb2.GetUserByOIDCSubjectResponse:
        return await self._accounts.get_user_by_oidc_subject(request)

    async def ResolveAPIToken(
        self, request: users_pb2.ResolveAPITokenRequest, context: ServicerContext
    ) -> users_pb2.ResolveAPITokenResponse:
        return await self._api_tokens.resolve_api_token(request)

    async def GetMe(
        self, request: users_pb2.GetMeRequest, context: ServicerContext
    ) -> users_pb2.GetMeResponse:
        return await self._accounts.get_me(request)

    async def UpdateMe(
        self, request: users_pb2.UpdateMeRequest, context: ServicerContext
    ) -> users_pb2.UpdateMeResponse:
        return await self._accounts.update_me(request)

    async def SearchUsers(
        self, request: users_pb2.SearchUsersRequest, context: ServicerContext
    ) -> users_pb2.SearchUsersResponse:
        return await self._accounts.search_users(request)

    async def BatchGetUsers(
        self, request: users_pb2.BatchGetUsersRequest, context: ServicerContext
    ) -> users_pb2.BatchGetUsersResponse:
        return await self._accounts.batch_get_users(request)

    async def GetUser(
        self, request: users_pb2.GetUserRequest, context: ServicerContext
    ) -> users_pb2.GetUserResponse:
        return await self._accounts.get_user(request)

    async def ListUsers(
        self, request: users_pb2.ListUsersRequest, context: ServicerContext
    ) -> users_pb2.ListUsersResponse:
        return await self._accounts.list_users(request)

    async def CreateUser(
        self, request: users_pb2.CreateUserRequest, context: ServicerContext
    ) -> users_pb2.CreateUserResponse:
        return await self._accounts.create_user(request)

    async def UpdateUser(
        self, request: users_pb2.UpdateUserRequest, context: ServicerContext
    ) -> users_pb2.UpdateUserResponse:
        return await self._accounts.update_user(request)

    async def DeleteUser(
        self, request: users_pb2.DeleteUserRequest, context: ServicerContext
    ) -> users_pb2.DeleteUserResponse:
        return await self._accounts.delete_user(request)

    async def CreateAPIToken(
        self, request: users_pb2.CreateAPITokenRequest, context: ServicerContext
    ) -> users_pb2.CreateAPITokenResponse:
        return await self._api_tokens.create_api_token(request)

    async def ListAPITokens(
        self, request: users_pb2.ListAPITokensRequest, context: ServicerContext
    ) -> users_pb2.ListAPITokensResponse:
        return await self._api_tokens.list_api_tokens(request)

    async def RevokeAPIToken(
        self, request: users_pb2.RevokeAPITokenRequest, context: ServicerContext
    ) -> users_pb2.RevokeAPITokenResponse:
        return await self._api_tokens.revoke_api_token(request)

    async def CreateDevice(
        self, request: users_pb2.CreateDeviceRequest, context: ServicerContext
    ) -> users_pb2.CreateDeviceResponse:
        return await self._devices.create_device(request)

    async def ListDevices(
        self, request: users_pb2.ListDevicesRequest, context: ServicerContext
    ) -> users_pb2.ListDevicesResponse:
        return await self._devices.list_devices(request)

    async def DeleteDevice(
        self, request: users_pb2.DeleteDeviceRequest, context: ServicerContext
    ) -> users_pb2.DeleteDeviceResponse:
        return await self._devices.delete_device(request)


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    """The identity registry and per-organization nicknames."""

    def __init__(self, identities: IdentityHandlers, nicknames: NicknameHandlers) -> None:
        self._identities = identities
        self._nicknames = nicknames

    async def RegisterIdentity(
        self, request: identity_pb2.RegisterIdentityRequest, context: ServicerContext
    ) -> identity_pb2.RegisterIdentityResponse:
        return await self._identities.register_identity(request)

    async def GetIdentityType(
        self, request: identity_pb2.GetIdentityTypeRequest, context: ServicerContext
    ) -> identity_pb2.GetIdentityTypeResponse:
        return await self._identities.get_identity_type(request)

    async def BatchGetIdentityTypes(
        self, request: identity_pb2.BatchGetIdentityTypesRequest, context: ServicerContext
    ) -> identity_pb2.BatchGetIdentityTypesResponse:
        return await self._identities.batch_get_identity_types(request)

    async def SetNickname(
        self, request: identity_pb2.SetNicknameRequest, context: ServicerContext
    ) -> identity_pb2.SetNicknameResponse:
        return await self._nicknames.set_nickname(request)

    async def RemoveNickname(
        self, request: identity_pb2.RemoveNicknameRequest, context: ServicerContext
    ) -> identity_pb2.RemoveNicknameResponse:
        return await self._nicknames.remove_nickname(request)

    async def ResolveNickname(
        self, request: identity_pb2.ResolveNicknameRequest, context: ServicerContext
    ) -> identity_pb2.ResolveNicknameResponse:
        return await self._nicknames.resolve_nickname(request)

    async def BatchGetNicknames(
        self, request: identity_pb2.BatchGetNicknamesRequest, context: ServicerContext
    ) -> identity_pb2.BatchGetNicknamesResponse:
        return await self._nicknames.batch_get_nicknames(request)


class ZitiManagementServicer(zitimanagement_pb2_grpc.ZitiManagementServiceServicer):
    """The credential issuer: workload credentials in place of OpenZiti identities."""

    def __init__(self, credentials: WorkloadCredentialHandlers) -> None:
        self._credentials = credentials

    async def CreateAgentIdentity(
        self, request: zitimanagement_pb2.CreateAgentIdentityRequest, context: ServicerContext
    ) -> zitimanagement_pb2.CreateAgentIdentityResponse:
        return await self._credentials.create_agent_identity(request)

    async def DeleteIdentity(
        self, request: zitimanagement_pb2.DeleteIdentityRequest, context: ServicerContext
    ) -> zitimanagement_pb2.DeleteIdentityResponse:
        return await self._credentials.delete_identity(request)

    async def CreateRunnerIdentity(
        self, request: zitimanagement_pb2.CreateRunnerIdentityRequest, context: ServicerContext
    ) -> zitimanagement_pb2.CreateRunnerIdentityResponse:
        return await self._credentials.create_runner_identity(request)

    async def DeleteRunnerIdentity(
        self, request: zitimanagement_pb2.DeleteRunnerIdentityRequest, context: ServicerContext
    ) -> zitimanagement_pb2.DeleteRunnerIdentityResponse:
        return await self._credentials.delete_runner_identity(request)

    async def ResolveIdentity(
        self, request: zitimanagement_pb2.ResolveIdentityRequest, context: ServicerContext
    ) -> zitimanagement_pb2.ResolveIdentityResponse:
        return await self._credentials.resolve_identity(request)
