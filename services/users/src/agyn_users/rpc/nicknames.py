"""Per-organization nicknames: an identity's handle in an organization (users sheet §3.5).

Besides the mesh's check of the calling service, these methods authorize the end user the
caller forwards in `x-identity-id` (sheet §8.13), asking Organizations through
`OrganizationAccess`.
"""

from __future__ import annotations

import uuid

from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import invalid_argument, not_found, permission_denied
from agyn_common.org_access import OrganizationAccess
from agyn_common.validation import normalize_nickname, parse_uuid, parse_uuid_list
from agynio.api.identity.v1 import identity_pb2
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_users import store
from agyn_users.convert import nickname_entries, resolved_nickname
from agyn_users.registry import identity_type
from agyn_users.rpc.identities import MAX_BATCH

# Who may manage whose handle (sheet §3.5): one's own needs membership, another's needs
# member management; reading needs membership or thread visibility (superset, §8.14).
MANAGE_OWN = ("member",)
MANAGE_OTHERS = ("can_manage_members", "can_add_member")
READ = ("member", "can_view_threads")


def _installation(
    request: identity_pb2.SetNicknameRequest | identity_pb2.RemoveNicknameRequest,
) -> uuid.UUID | None:
    return (
        parse_uuid(request.installation_id, "installation_id")
        if request.HasField("installation_id")
        else None
    )


async def _check_installation(
    connection: AsyncConnection, identity_id: uuid.UUID, installation_id: uuid.UUID | None
) -> None:
    """NOT_FOUND for an unknown identity; an installation id is required exactly for apps."""
    is_app = await identity_type(connection, identity_id) == identity_pb2.IDENTITY_TYPE_APP
    if is_app and installation_id is None:
        raise invalid_argument("installation_id", "is required for app identities")
    if not is_app and installation_id is not None:
        raise invalid_argument("installation_id", "is only allowed for app identities")


class NicknameHandlers:
    def __init__(self, database: Database, organizations: OrganizationAccess) -> None:
        self._db = database
        self._organizations = organizations

    async def _authorize_read(self, organization_id: uuid.UUID) -> None:
        caller = current_caller().require_identity()
        if not await self._organizations.check_any(caller, READ, organization_id):
            raise permission_denied("not allowed in this organization")

    async def _authorize_manage(self, identity_id: uuid.UUID, organization_id: uuid.UUID) -> None:
        caller = current_caller().require_identity()
        relations = MANAGE_OWN if caller == identity_id else MANAGE_OTHERS
        if not await self._organizations.check_any(caller, relations, organization_id):
            raise permission_denied("not allowed to manage this nickname")

    async def set_nickname(
        self, request: identity_pb2.SetNicknameRequest
    ) -> identity_pb2.SetNicknameResponse:
        current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        identity_id = parse_uuid(request.identity_id, "identity_id")
        nickname = normalize_nickname(request.nickname)
        installation_id = _installation(request)
        await self._authorize_manage(identity_id, organization_id)
        async with self._db.transaction() as connection:
            await _check_installation(connection, identity_id, installation_id)
            await store.set_nickname(connection, organization_id, identity_id, installation_id, nickname)
        return identity_pb2.SetNicknameResponse()

    async def remove_nickname(
        self, request: identity_pb2.RemoveNicknameRequest
    ) -> identity_pb2.RemoveNicknameResponse:
        current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        identity_id = parse_uuid(request.identity_id, "identity_id")
        installation_id = _installation(request)
        await self._authorize_manage(identity_id, organization_id)
        async with self._db.transaction() as connection:
            await _check_installation(connection, identity_id, installation_id)
            removed = await store.remove_nickname(connection, organization_id, identity_id, installation_id)
        if not removed:
            raise not_found("nickname not found")
        return identity_pb2.RemoveNicknameResponse()

    async def resolve_nickname(
        self, request: identity_pb2.ResolveNicknameRequest
    ) -> identity_pb2.ResolveNicknameResponse:
        current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        nickname = request.nickname.strip()
        nickname = normalize_nickname(nickname[1:] if nickname.startswith("@") else nickname)
        await self._authorize_read(organization_id)
        async with self._db.transaction() as connection:
            row = await store.resolve_nickname(connection, organization_id, nickname)
        return resolved_nickname(row)

    async def batch_get_nicknames(
        self, request: identity_pb2.BatchGetNicknamesRequest
    ) -> identity_pb2.BatchGetNicknamesResponse:
        current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        await self._authorize_read(organization_id)
        identity_ids = parse_uuid_list(request.identity_ids, "identity_ids", max_items=MAX_BATCH)
        if not identity_ids:
            return identity_pb2.BatchGetNicknamesResponse()
        async with self._db.transaction() as connection:
            handles = await store.nicknames_of(connection, organization_id, identity_ids)
        return identity_pb2.BatchGetNicknamesResponse(entries=nickname_entries(identity_ids, handles))
