"""IdentityService: the identity registry and per-organization nicknames (users sheet §3.5).

Internal only: the mesh decides which services may call each method (`access.py`). The
nickname methods also authorize the end user the caller forwards in `x-identity-id`
(sheet §8.13), asking Organizations through `OrganizationAccess`.
"""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import sqlalchemy as sa
from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import already_exists, invalid_argument, not_found, permission_denied
from agyn_common.org_access import OrganizationAccess
from agyn_common.validation import normalize_nickname, parse_uuid, parse_uuid_list
from agynio.api.identity.v1 import identity_pb2, identity_pb2_grpc
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_users.accounts import violated_index
from agyn_users.models import identities, org_nicknames
from agyn_users.registry import identity_types, register_identity

# The reference leaves the batch RPCs unbounded; 1000 keeps one request one query (sheet §8.17).
MAX_BATCH = 1000
REGISTRABLE_TYPES = frozenset(
    {
        identity_pb2.IDENTITY_TYPE_AGENT,
        identity_pb2.IDENTITY_TYPE_RUNNER,
        identity_pb2.IDENTITY_TYPE_USER,
        identity_pb2.IDENTITY_TYPE_APP,
    }
)
NICKNAME_INDEX = "org_nicknames_org_nickname_idx"

# Who may manage whose handle (sheet §3.5): one's own needs membership, another's needs
# member management; reading needs membership or thread visibility (superset, §8.14).
MANAGE_OWN = ("member",)
MANAGE_OTHERS = ("can_manage_members", "can_add_member")
READ = ("member", "can_view_threads")


class IdentityServicer(identity_pb2_grpc.IdentityServiceServicer):
    def __init__(self, db: Database, relations: OrganizationAccess) -> None:
        self._db = db
        self._relations = relations

    # --- the registry -------------------------------------------------------------------

    async def RegisterIdentity(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        identity_id = parse_uuid(request.identity_id, "identity_id")
        if request.identity_type not in REGISTRABLE_TYPES:
            raise invalid_argument(
                "identity_type", f"must be agent, runner, user or app, got {request.identity_type}"
            )
        async with self._db.transaction() as connection:
            if not await register_identity(connection, identity_id, request.identity_type):
                raise already_exists("identity already registered")
        return identity_pb2.RegisterIdentityResponse()

    async def GetIdentityType(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        identity_id = parse_uuid(request.identity_id, "identity_id")
        async with self._db.transaction() as connection:
            types = await identity_types(connection, [identity_id])
        if identity_id not in types:
            raise not_found("identity not found")
        return identity_pb2.GetIdentityTypeResponse(identity_type=types[identity_id])

    async def BatchGetIdentityTypes(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        ids = parse_uuid_list(request.identity_ids, "identity_ids", max_items=MAX_BATCH)
        async with self._db.transaction() as connection:
            types = await identity_types(connection, ids)
        return identity_pb2.BatchGetIdentityTypesResponse(
            entries=[
                identity_pb2.IdentityTypeEntry(identity_id=str(identity_id), identity_type=types[identity_id])
                for identity_id in ids
                if identity_id in types
            ]
        )

    # --- nicknames ----------------------------------------------------------------------

    async def _authorize(
        self, context: grpc.aio.ServicerContext, relations: tuple[str, ...], organization_id: uuid.UUID
    ) -> None:
        caller = current_caller().require_identity()
        if not await self._relations.check_any(caller, relations, organization_id):
            raise permission_denied("not allowed in this organization")

    async def _authorize_manage(
        self, context: grpc.aio.ServicerContext, identity_id: uuid.UUID, organization_id: uuid.UUID
    ) -> None:
        caller = current_caller().require_identity()
        relations = MANAGE_OWN if caller == identity_id else MANAGE_OTHERS
        if not await self._relations.check_any(caller, relations, organization_id):
            raise permission_denied("not allowed to manage this nickname")

    @staticmethod
    def _installation(request: Any, field: str) -> uuid.UUID | None:
        return parse_uuid(request.installation_id, field) if request.HasField("installation_id") else None

    @staticmethod
    async def _target_is_app(
        connection: AsyncConnection, identity_id: uuid.UUID, installation_id: uuid.UUID | None
    ) -> bool:
        """NOT_FOUND for an unknown identity; an installation id is required exactly for apps."""
        types = await identity_types(connection, [identity_id])
        if identity_id not in types:
            raise not_found("identity not found")
        is_app = types[identity_id] == identity_pb2.IDENTITY_TYPE_APP
        if is_app and installation_id is None:
            raise invalid_argument("installation_id", "is required for app identities")
        if not is_app and installation_id is not None:
            raise invalid_argument("installation_id", "is only allowed for app identities")
        return is_app

    async def SetNickname(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        identity_id = parse_uuid(request.identity_id, "identity_id")
        nickname = normalize_nickname(request.nickname)
        installation_id = self._installation(request, "installation_id")
        await self._authorize_manage(context, identity_id, organization_id)
        async with self._db.transaction() as connection:
            is_app = await self._target_is_app(connection, identity_id, installation_id)
            insert = postgresql.insert(org_nicknames).values(
                organization_id=organization_id,
                identity_id=identity_id,
                installation_id=installation_id,
                nickname=nickname,
            )
            if is_app:  # one handle per installation; a new owner of the installation takes it over
                upsert = insert.on_conflict_do_update(
                    index_elements=["organization_id", "installation_id"],
                    index_where=org_nicknames.c.installation_id.is_not(None),
                    set_={"nickname": insert.excluded.nickname, "identity_id": insert.excluded.identity_id},
                )
            else:  # one handle per identity
                upsert = insert.on_conflict_do_update(
                    index_elements=["organization_id", "identity_id"],
                    index_where=org_nicknames.c.installation_id.is_(None),
                    set_={"nickname": insert.excluded.nickname},
                )
            try:
                async with connection.begin_nested():
                    await connection.execute(upsert)
            except IntegrityError as error:
                if violated_index(error) == NICKNAME_INDEX:
                    raise already_exists(f"nickname {nickname!r} is taken in this organization") from None
                raise
        return identity_pb2.SetNicknameResponse()

    async def RemoveNickname(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        identity_id = parse_uuid(request.identity_id, "identity_id")
        installation_id = self._installation(request, "installation_id")
        await self._authorize_manage(context, identity_id, organization_id)
        async with self._db.transaction() as connection:
            await self._target_is_app(connection, identity_id, installation_id)
            installation_matches = (
                org_nicknames.c.installation_id.is_(None)
                if installation_id is None
                else org_nicknames.c.installation_id == installation_id
            )
            result = await connection.execute(
                org_nicknames.delete().where(
                    org_nicknames.c.organization_id == organization_id,
                    org_nicknames.c.identity_id == identity_id,
                    installation_matches,
                )
            )
        if not result.rowcount:
            raise not_found("nickname not found")
        return identity_pb2.RemoveNicknameResponse()

    async def ResolveNickname(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        nickname = request.nickname.strip()
        nickname = normalize_nickname(nickname[1:] if nickname.startswith("@") else nickname)
        await self._authorize(context, READ, organization_id)
        async with self._db.transaction() as connection:
            row = (
                await connection.execute(
                    sa.select(
                        org_nicknames.c.identity_id,
                        org_nicknames.c.installation_id,
                        identities.c.identity_type,
                    )
                    .join(identities, identities.c.identity_id == org_nicknames.c.identity_id)
                    .where(
                        org_nicknames.c.organization_id == organization_id,
                        org_nicknames.c.nickname == nickname,
                    )
                )
            ).first()
        if row is None:
            raise not_found("nickname not found")
        reply = identity_pb2.ResolveNicknameResponse(
            identity_id=str(row.identity_id), identity_type=row.identity_type
        )
        if row.installation_id is not None:
            reply.installation_id = str(row.installation_id)
        return reply

    async def BatchGetNicknames(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        await self._authorize(context, READ, organization_id)
        ids = parse_uuid_list(request.identity_ids, "identity_ids", max_items=MAX_BATCH)
        if not ids:
            return identity_pb2.BatchGetNicknamesResponse()
        # One handle per identity: an app with several installations shows its
        # installation-less handle first, else its oldest (sheet §8.16).
        query = (
            sa.select(org_nicknames.c.identity_id, org_nicknames.c.nickname)
            .where(
                org_nicknames.c.organization_id == organization_id, org_nicknames.c.identity_id.in_(set(ids))
            )
            .order_by(
                org_nicknames.c.identity_id,
                org_nicknames.c.installation_id.is_not(None),
                org_nicknames.c.created_at,
                org_nicknames.c.id,
            )
            .distinct(org_nicknames.c.identity_id)
        )
        async with self._db.transaction() as connection:
            handles = {row.identity_id: row.nickname for row in await connection.execute(query)}
        return identity_pb2.BatchGetNicknamesResponse(
            entries=[
                identity_pb2.NicknameEntry(identity_id=str(identity_id), nickname=handles[identity_id])
                for identity_id in ids
                if identity_id in handles
            ]
        )
