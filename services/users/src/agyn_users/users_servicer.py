"""UsersService: accounts, the directory, API tokens and devices (users sheet §3).

Checks run in the sheet's order and the first failure wins: caller identity, then the
cluster-admin gate (before field validation), then the fields, then the store.
"""

from __future__ import annotations

import uuid
from typing import Any

import grpc
import sqlalchemy as sa
from agyn_common.caller import current_caller
from agyn_common.errors import (
    already_exists,
    invalid_argument,
    not_found,
    permission_denied,
    resource_exhausted,
    unauthenticated,
)
from agyn_common.pagination import clamp_page_size, decode_uuid_page_token, split_page
from agyn_common.ratelimit import RateLimiter
from agyn_common.server import Runtime
from agyn_common.timestamps import parse_future_timestamp
from agyn_common.validation import check_length, parse_uuid, parse_uuid_list
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_users import usernames
from agyn_users.accounts import USERNAME_INDEX, SubjectTaken, create_account, find_by_subject, violated_index
from agyn_users.admins import is_cluster_admin, set_cluster_admin
from agyn_users.api_tokens import MAX_TOKENS_PER_USER, insert_api_token, unexpired
from agyn_users.convert import device_message, token_message, user_message
from agyn_users.credentials import (
    DEVICE_CREDENTIAL_PREFIX,
    new_secret,
    secret_hash,
)
from agyn_users.events import UserEvents
from agyn_users.limits import MAX_EMAIL, MAX_NAME, MAX_URL
from agyn_users.models import org_nicknames, user_api_tokens, user_devices, users
from agyn_users.settings import UsersSettings

MAX_BATCH = 100
SEARCH_DEFAULT_LIMIT = 10
SEARCH_MAX_LIMIT = 20
# ListAPITokens has no paging in the contract, so the number a user may hold is bounded.
ROLES = {users_pb2.CLUSTER_ROLE_UNSPECIFIED, users_pb2.CLUSTER_ROLE_ADMIN}
SERVICE = "agynio.api.users.v1.UsersService"


def _role(admin: bool) -> users_pb2.ClusterRole:
    return users_pb2.CLUSTER_ROLE_ADMIN if admin else users_pb2.CLUSTER_ROLE_UNSPECIFIED


def _check_role(value: int) -> None:
    if value not in ROLES:
        raise invalid_argument("cluster_role", f"unknown value {value}")


def _escape_like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class UsersServicer(users_pb2_grpc.UsersServiceServicer):
    def __init__(self, runtime: Runtime[UsersSettings], *, search_limiter: RateLimiter | None = None) -> None:
        self._db = runtime.db
        self._events = UserEvents(runtime.outbox)
        # Directory search is the one enumeration surface: 10 req/s, burst 20 per caller (sheet §8.4).
        self._search_limiter = search_limiter or RateLimiter(rate=10, burst=20)

    # --- shared steps -------------------------------------------------------------------

    async def _require_admin(
        self, connection: AsyncConnection, context: grpc.aio.ServicerContext
    ) -> uuid.UUID:
        caller = current_caller().require_identity()
        if not await is_cluster_admin(connection, caller):
            raise permission_denied("cluster admin required")
        return caller

    @staticmethod
    async def _load_user(connection: AsyncConnection, identity_id: uuid.UUID, *, lock: bool = False) -> Any:
        query = sa.select(users).where(users.c.identity_id == identity_id)
        if lock:
            query = query.with_for_update()
        row = (await connection.execute(query)).first()
        if row is None:
            raise not_found("user not found")
        return row

    @staticmethod
    async def _require_user_row(connection: AsyncConnection, identity_id: uuid.UUID, what: str) -> None:
        exists = await connection.execute(sa.select(sa.literal(1)).where(users.c.identity_id == identity_id))
        if exists.first() is None:
            raise permission_denied(f"only users can {what}")

    async def _update_user(
        self, connection: AsyncConnection, identity_id: uuid.UUID, values: dict[str, Any]
    ) -> Any:
        """Write profile fields (bumping updated_at) and emit user.updated; NOT_FOUND/ALREADY_EXISTS."""
        if not values:
            return await self._load_user(connection, identity_id)
        try:
            async with connection.begin_nested():
                row = (
                    await connection.execute(
                        users.update()
                        .where(users.c.identity_id == identity_id)
                        .values(**values, updated_at=sa.func.now())
                        .returning(*users.c)
                    )
                ).first()
        except IntegrityError as error:
            if violated_index(error) == USERNAME_INDEX:
                raise already_exists("username already taken") from None
            raise
        if row is None:
            raise not_found("user not found")
        await self._events.user_updated(connection, identity_id, list(values))
        return row

    async def _change_role(self, connection: AsyncConnection, identity_id: uuid.UUID, admin: bool) -> None:
        if await set_cluster_admin(connection, identity_id, admin):
            await self._events.cluster_role_changed(connection, identity_id, admin)

    # --- authentication path (internal) -------------------------------------------------

    async def ResolveOrCreateUser(
        self, request: users_pb2.ResolveOrCreateUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.ResolveOrCreateUserResponse:
        if not request.oidc_subject:
            raise invalid_argument("oidc_subject", "must not be empty")
        sources = [request.preferred_username] if request.HasField("preferred_username") else []
        sources += [usernames.email_local_part(request.email), request.name]
        async with self._db.transaction() as connection:
            existing = await find_by_subject(connection, request.oidc_subject)
            if existing is not None:
                return users_pb2.ResolveOrCreateUserResponse(user=user_message(existing), created=False)
            try:
                row = await create_account(
                    connection,
                    self._events,
                    oidc_subject=request.oidc_subject,
                    name=request.name,
                    email=request.email,
                    photo_url=request.photo_url,
                    username_sources=sources,
                )
            except SubjectTaken:
                row = None  # a concurrent first sign-in committed first
            if row is not None:
                return users_pb2.ResolveOrCreateUserResponse(user=user_message(row), created=True)
        async with self._db.transaction() as connection:
            winner = await find_by_subject(connection, request.oidc_subject)
        return users_pb2.ResolveOrCreateUserResponse(user=user_message(winner), created=False)

    async def GetUserByOIDCSubject(
        self, request: users_pb2.GetUserByOIDCSubjectRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.GetUserByOIDCSubjectResponse:
        caller = current_caller()
        async with self._db.transaction() as connection:
            # The Gateway calls without an identity; anyone else must be a cluster admin (sheet §8.1).
            if caller.identity_id is not None and not await is_cluster_admin(connection, caller.identity_id):
                raise permission_denied("cluster admin required")
            if not request.oidc_subject:
                raise invalid_argument("oidc_subject", "must not be empty")
            row = await find_by_subject(connection, request.oidc_subject)
        if row is None:
            raise not_found("user not found")
        return users_pb2.GetUserByOIDCSubjectResponse(user=user_message(row))

    async def ResolveAPIToken(
        self, request: users_pb2.ResolveAPITokenRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.ResolveAPITokenResponse:
        if not request.token_hash:
            raise invalid_argument("token_hash", "must not be empty")
        async with self._db.transaction() as connection:
            row = (
                await connection.execute(
                    user_api_tokens.update()
                    .where(user_api_tokens.c.token_hash == request.token_hash, unexpired())
                    .values(last_used_at=sa.func.now())
                    .returning(*user_api_tokens.c)
                )
            ).first()
            if row is None:
                expired = await connection.execute(
                    sa.select(sa.literal(1)).where(user_api_tokens.c.token_hash == request.token_hash)
                )
                if expired.first() is None:
                    raise not_found("api token not found")
                raise unauthenticated("api token expired")
        return users_pb2.ResolveAPITokenResponse(identity_id=str(row.identity_id), token=token_message(row))

    # --- self-service -------------------------------------------------------------------

    async def GetMe(
        self, request: users_pb2.GetMeRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.GetMeResponse:
        caller = current_caller().require_identity()
        async with self._db.transaction() as connection:
            row = await self._load_user(connection, caller)
            admin = await is_cluster_admin(connection, caller)
        return users_pb2.GetMeResponse(user=user_message(row), cluster_role=_role(admin))

    async def UpdateMe(
        self, request: users_pb2.UpdateMeRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.UpdateMeResponse:
        caller = current_caller().require_identity()
        if not request.HasField("name") and not request.HasField("username"):
            raise invalid_argument("name", "at least one field must be provided")
        values: dict[str, Any] = {}
        if request.HasField("name"):
            values["name"] = check_length(request.name, "name", max_chars=MAX_NAME)
        if request.HasField("username"):
            values["username"] = usernames.validate(request.username)
        async with self._db.transaction() as connection:
            row = await self._update_user(connection, caller, values)
            admin = await is_cluster_admin(connection, caller)
        return users_pb2.UpdateMeResponse(user=user_message(row), cluster_role=_role(admin))

    async def SearchUsers(
        self, request: users_pb2.SearchUsersRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.SearchUsersResponse:
        caller = current_caller().require_identity()
        prefix = request.prefix.lower()
        if not prefix:
            raise invalid_argument("prefix", "must not be empty")
        if len(prefix) > usernames.MAX_LENGTH or not usernames.VALID.match(prefix):
            raise invalid_argument("prefix", "must be at most 32 characters of a-z, 0-9, '_' and '-'")
        if request.limit < 0 or request.limit > SEARCH_MAX_LIMIT:
            raise invalid_argument("limit", f"must be between 0 and {SEARCH_MAX_LIMIT}")
        if not self._search_limiter.allow(str(caller)):
            raise resource_exhausted("too many searches; slow down")
        limit = request.limit or SEARCH_DEFAULT_LIMIT
        username_bytes = users.c.username.collate("C")
        async with self._db.transaction() as connection:
            rows = await connection.execute(
                sa.select(users.c.identity_id, users.c.username, users.c.name, users.c.photo_url)
                .where(users.c.username.like(_escape_like(prefix) + "%", escape="\\"), users.c.username != "")
                .order_by((users.c.username == prefix).desc(), username_bytes)
                .limit(limit)
            )
            entries = [
                users_pb2.UserDirectoryEntry(
                    identity_id=str(row.identity_id),
                    username=row.username,
                    name=row.name,
                    photo_url=row.photo_url,
                )
                for row in rows
            ]
        return users_pb2.SearchUsersResponse(users=entries)

    async def BatchGetUsers(
        self, request: users_pb2.BatchGetUsersRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.BatchGetUsersResponse:
        identity_ids = parse_uuid_list(request.identity_ids, "identity_ids", max_items=MAX_BATCH)
        if not identity_ids:
            return users_pb2.BatchGetUsersResponse()
        async with self._db.transaction() as connection:
            rows = await connection.execute(
                sa.select(users)
                .where(users.c.identity_id.in_(set(identity_ids)))
                .order_by(users.c.identity_id)
            )
            return users_pb2.BatchGetUsersResponse(users=[user_message(row) for row in rows])

    # --- administration (cluster admins) ------------------------------------------------

    async def GetUser(
        self, request: users_pb2.GetUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.GetUserResponse:
        async with self._db.transaction() as connection:
            await self._require_admin(connection, context)
            identity_id = parse_uuid(request.identity_id, "identity_id")
            row = await self._load_user(connection, identity_id)
            admin = await is_cluster_admin(connection, identity_id)
        return users_pb2.GetUserResponse(user=user_message(row), cluster_role=_role(admin))

    async def ListUsers(
        self, request: users_pb2.ListUsersRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.ListUsersResponse:
        async with self._db.transaction() as connection:
            await self._require_admin(connection, context)
            after = decode_uuid_page_token(request.page_token)
            page_size = clamp_page_size(request.page_size)
            query = sa.select(users).order_by(users.c.identity_id).limit(page_size + 1)
            if after is not None:
                query = query.where(users.c.identity_id > after)
            rows = (await connection.execute(query)).all()
        page, next_token = split_page(rows, page_size, key="identity_id")
        return users_pb2.ListUsersResponse(
            users=[user_message(row) for row in page], next_page_token=next_token
        )

    async def CreateUser(
        self, request: users_pb2.CreateUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.CreateUserResponse:
        async with self._db.transaction() as connection:
            await self._require_admin(connection, context)
            if not request.oidc_subject:
                raise invalid_argument("oidc_subject", "must not be empty")
            _check_role(request.cluster_role)
            check_length(request.oidc_subject, "oidc_subject", max_chars=MAX_URL)
            check_length(request.name, "name", max_chars=MAX_NAME)
            check_length(request.nickname, "nickname", max_chars=MAX_NAME)
            check_length(request.photo_url, "photo_url", max_chars=MAX_URL)
            username = usernames.validate(request.username) if request.HasField("username") else None

            async def create() -> users_pb2.CreateUserResponse:
                try:
                    row = await create_account(
                        connection,
                        self._events,
                        oidc_subject=request.oidc_subject,
                        name=request.name,
                        nickname=request.nickname,
                        photo_url=request.photo_url,
                        username=username,
                        username_sources=[request.name],
                    )
                except SubjectTaken:
                    raise already_exists("a user with this oidc_subject already exists") from None
                if request.cluster_role == users_pb2.CLUSTER_ROLE_ADMIN:
                    await self._change_role(connection, row.identity_id, True)
                return users_pb2.CreateUserResponse(user=user_message(row))

            return await create()

    async def UpdateUser(
        self, request: users_pb2.UpdateUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.UpdateUserResponse:
        async with self._db.transaction() as connection:
            await self._require_admin(connection, context)
            identity_id = parse_uuid(request.identity_id, "identity_id")
            if request.HasField("cluster_role"):
                _check_role(request.cluster_role)
            limits = {"name": MAX_NAME, "email": MAX_EMAIL, "photo_url": MAX_URL, "nickname": MAX_NAME}
            values: dict[str, Any] = {
                field: check_length(getattr(request, field), field, max_chars=limit)
                for field, limit in limits.items()
                if request.HasField(field)
            }
            if request.HasField("username"):
                values["username"] = usernames.validate(request.username)
            if not values and not request.HasField("cluster_role"):
                raise invalid_argument("identity_id", "at least one field must be provided")
            # The profile write and the role change commit together (upstream they could diverge).
            row = await self._update_user(connection, identity_id, values)
            if request.HasField("cluster_role"):
                await self._change_role(
                    connection, identity_id, request.cluster_role == users_pb2.CLUSTER_ROLE_ADMIN
                )
        return users_pb2.UpdateUserResponse(user=user_message(row))

    async def DeleteUser(
        self, request: users_pb2.DeleteUserRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.DeleteUserResponse:
        async with self._db.transaction() as connection:
            await self._require_admin(connection, context)
            identity_id = parse_uuid(request.identity_id, "identity_id")
            await self._load_user(connection, identity_id, lock=True)
            # Tokens and devices go by cascade, so the user's tokens stop resolving at once.
            await connection.execute(users.delete().where(users.c.identity_id == identity_id))
            was_admin = await set_cluster_admin(connection, identity_id, False)
            # The identity record stays (others may still render it); its org handles are freed.
            await connection.execute(org_nicknames.delete().where(org_nicknames.c.identity_id == identity_id))
            if was_admin:
                await self._events.cluster_role_changed(connection, identity_id, False)
            await self._events.user_deleted(connection, identity_id)
        return users_pb2.DeleteUserResponse()

    # --- API tokens ---------------------------------------------------------------------

    async def CreateAPIToken(
        self, request: users_pb2.CreateAPITokenRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.CreateAPITokenResponse:
        owner = current_caller().require_identity()
        check_length(request.name, "name", max_chars=MAX_NAME, required=True)
        expires_at = None
        if request.HasField("expires_at"):
            expires_at = parse_future_timestamp(request.expires_at, "expires_at")
        async with self._db.transaction() as connection:
            await self._require_user_row(connection, owner, "create api tokens")

            async def create() -> users_pb2.CreateAPITokenResponse:
                row, plaintext = await insert_api_token(connection, owner, request.name, expires_at)
                return users_pb2.CreateAPITokenResponse(token=token_message(row), plaintext_token=plaintext)

            return await create()

    async def ListAPITokens(
        self, request: users_pb2.ListAPITokensRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.ListAPITokensResponse:
        owner = current_caller().require_identity()
        async with self._db.transaction() as connection:
            rows = await connection.execute(
                sa.select(user_api_tokens)
                .where(user_api_tokens.c.identity_id == owner)
                .order_by(user_api_tokens.c.created_at.desc(), user_api_tokens.c.id.desc())
                .limit(MAX_TOKENS_PER_USER)
            )
            return users_pb2.ListAPITokensResponse(tokens=[token_message(row) for row in rows])

    async def RevokeAPIToken(
        self, request: users_pb2.RevokeAPITokenRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.RevokeAPITokenResponse:
        owner = current_caller().require_identity()
        token_id = parse_uuid(request.token_id, "token_id")
        async with self._db.transaction() as connection:
            deleted = (
                await connection.execute(
                    user_api_tokens.delete()
                    .where(user_api_tokens.c.id == token_id, user_api_tokens.c.identity_id == owner)
                    .returning(user_api_tokens.c.id)
                )
            ).first()
            if deleted is None:
                raise not_found("api token not found")
            await self._events.api_token_revoked(connection, token_id, owner)
        return users_pb2.RevokeAPITokenResponse()

    # --- devices ------------------------------------------------------------------------

    async def CreateDevice(
        self, request: users_pb2.CreateDeviceRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.CreateDeviceResponse:
        owner = current_caller().require_identity()
        check_length(request.name, "name", max_chars=MAX_NAME, required=True)
        async with self._db.transaction() as connection:
            await self._require_user_row(connection, owner, "create devices")

            async def create() -> users_pb2.CreateDeviceResponse:
                device_id = uuid.uuid4()
                # Our own enrollment credential stands in for the OpenZiti enrollment JWT
                # (DESIGN §3): returned once, stored as its SHA-256.
                credential = new_secret(DEVICE_CREDENTIAL_PREFIX)
                row = (
                    await connection.execute(
                        user_devices.insert()
                        .values(
                            id=device_id,
                            identity_id=owner,
                            name=request.name,
                            openziti_identity_id=f"device-{device_id}",
                            enrollment_jwt=secret_hash(credential),
                        )
                        .returning(*user_devices.c)
                    )
                ).one()
                return users_pb2.CreateDeviceResponse(device=device_message(row), enrollment_jwt=credential)

            return await create()

    async def ListDevices(
        self, request: users_pb2.ListDevicesRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.ListDevicesResponse:
        owner = current_caller().require_identity()
        after = decode_uuid_page_token(request.page_token)
        page_size = clamp_page_size(request.page_size)
        query = (
            sa.select(user_devices)
            .where(user_devices.c.identity_id == owner)
            .order_by(user_devices.c.id)
            .limit(page_size + 1)
        )
        if after is not None:
            query = query.where(user_devices.c.id > after)
        async with self._db.transaction() as connection:
            rows = (await connection.execute(query)).all()
        page, next_token = split_page(rows, page_size)
        return users_pb2.ListDevicesResponse(
            devices=[device_message(row) for row in page], next_page_token=next_token
        )

    async def DeleteDevice(
        self, request: users_pb2.DeleteDeviceRequest, context: grpc.aio.ServicerContext
    ) -> users_pb2.DeleteDeviceResponse:
        owner = current_caller().require_identity()
        device_id = parse_uuid(request.id, "id")
        async with self._db.transaction() as connection:
            deleted = (
                await connection.execute(
                    user_devices.delete()
                    .where(user_devices.c.id == device_id, user_devices.c.identity_id == owner)
                    .returning(user_devices.c.id)
                )
            ).first()
        if deleted is None:
            raise not_found("device not found")
        return users_pb2.DeleteDeviceResponse()
