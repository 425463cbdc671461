"""Accounts: the sign-in path, one's own profile, the directory, and the administration of
accounts by cluster admins (users sheet §3).

Checks run in the sheet's order and the first failure wins: caller identity, then the
cluster-admin gate (before field validation), then the fields, then the store.
"""

from __future__ import annotations

import uuid
from typing import Any

from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import (
    ServiceError,
    already_exists,
    invalid_argument,
    not_found,
    permission_denied,
    resource_exhausted,
)
from agyn_common.pagination import clamp_page_size, decode_uuid_page_token
from agyn_common.ratelimit import RateLimiter
from agyn_common.validation import check_length, parse_uuid, parse_uuid_list
from agynio.api.users.v1 import users_pb2
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_users import store, usernames
from agyn_users.accounts import SubjectTaken, create_account
from agyn_users.admins import is_cluster_admin, set_cluster_admin, user_for_admin
from agyn_users.convert import cluster_role, directory_entry, user_message
from agyn_users.events import UserEvents
from agyn_users.limits import MAX_EMAIL, MAX_NAME, MAX_URL

MAX_BATCH = 100
SEARCH_DEFAULT_LIMIT = 10
SEARCH_MAX_LIMIT = 20
ROLES = {users_pb2.CLUSTER_ROLE_UNSPECIFIED, users_pb2.CLUSTER_ROLE_ADMIN}
# UpdateUser's profile fields and their length limits.
PROFILE_LIMITS = {"name": MAX_NAME, "email": MAX_EMAIL, "photo_url": MAX_URL, "nickname": MAX_NAME}


def _check_role(value: int) -> None:
    if value not in ROLES:
        raise invalid_argument("cluster_role", f"unknown value {value}")


async def require_user_account(connection: AsyncConnection, identity_id: uuid.UUID, what: str) -> None:
    """PERMISSION_DENIED "only users can <what>" unless `identity_id` is an account."""
    if not await store.is_user(connection, identity_id):
        raise permission_denied(f"only users can {what}")


async def _require_cluster_admin(connection: AsyncConnection) -> None:
    if not await is_cluster_admin(connection, current_caller().require_identity()):
        raise permission_denied("cluster admin required")


class AccountHandlers:
    def __init__(self, database: Database, events: UserEvents, search_limiter: RateLimiter) -> None:
        self._db = database
        self._events = events
        self._search_limiter = search_limiter

    async def _update_profile(
        self, connection: AsyncConnection, identity_id: uuid.UUID, values: dict[str, Any]
    ) -> Any:
        """Write profile fields and emit user.updated; with no fields, the account as it is."""
        if not values:
            return await store.load_user(connection, identity_id)
        row = await store.update_user(connection, identity_id, values)
        await self._events.user_updated(connection, identity_id, list(values))
        return row

    async def _change_role(self, connection: AsyncConnection, identity_id: uuid.UUID, admin: bool) -> None:
        if await set_cluster_admin(connection, identity_id, admin):
            await self._events.cluster_role_changed(connection, identity_id, admin)

    # --- the authentication path (internal) ---------------------------------------------

    async def resolve_or_create_user(
        self, request: users_pb2.ResolveOrCreateUserRequest
    ) -> users_pb2.ResolveOrCreateUserResponse:
        if not request.oidc_subject:
            raise invalid_argument("oidc_subject", "must not be empty")
        sources = [request.preferred_username] if request.HasField("preferred_username") else []
        sources += [usernames.email_local_part(request.email), request.name]
        async with self._db.transaction() as connection:
            existing = await store.find_by_subject(connection, request.oidc_subject)
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
            winner = await store.find_by_subject(connection, request.oidc_subject)
        return users_pb2.ResolveOrCreateUserResponse(user=user_message(winner), created=False)

    async def get_user_by_oidc_subject(
        self, request: users_pb2.GetUserByOIDCSubjectRequest
    ) -> users_pb2.GetUserByOIDCSubjectResponse:
        caller = current_caller()
        async with self._db.transaction() as connection:
            # The Gateway calls without an identity; anyone else must be a cluster admin (sheet §8.1).
            if caller.identity_id is not None and not await is_cluster_admin(connection, caller.identity_id):
                raise permission_denied("cluster admin required")
            if not request.oidc_subject:
                raise invalid_argument("oidc_subject", "must not be empty")
            row = await store.load_user_by_subject(connection, request.oidc_subject)
        return users_pb2.GetUserByOIDCSubjectResponse(user=user_message(row))

    # --- self-service and the directory -------------------------------------------------

    async def get_me(self, request: users_pb2.GetMeRequest) -> users_pb2.GetMeResponse:
        caller = current_caller().require_identity()
        async with self._db.read() as connection:
            admin, row, _ = await user_for_admin(connection, caller, caller)
        if row is None:
            raise not_found("user not found")
        return users_pb2.GetMeResponse(user=user_message(row), cluster_role=cluster_role(admin))

    async def update_me(self, request: users_pb2.UpdateMeRequest) -> users_pb2.UpdateMeResponse:
        caller = current_caller().require_identity()
        if not request.HasField("name") and not request.HasField("username"):
            raise invalid_argument("name", "at least one field must be provided")
        values: dict[str, Any] = {}
        if request.HasField("name"):
            values["name"] = check_length(request.name, "name", max_chars=MAX_NAME)
        if request.HasField("username"):
            values["username"] = usernames.validate(request.username)
        async with self._db.transaction() as connection:
            row = await self._update_profile(connection, caller, values)
            admin = await is_cluster_admin(connection, caller)
        return users_pb2.UpdateMeResponse(user=user_message(row), cluster_role=cluster_role(admin))

    async def search_users(self, request: users_pb2.SearchUsersRequest) -> users_pb2.SearchUsersResponse:
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
        async with self._db.transaction() as connection:
            rows = await store.search_directory(connection, prefix, request.limit or SEARCH_DEFAULT_LIMIT)
        return users_pb2.SearchUsersResponse(users=[directory_entry(row) for row in rows])

    async def batch_get_users(
        self, request: users_pb2.BatchGetUsersRequest
    ) -> users_pb2.BatchGetUsersResponse:
        identity_ids = parse_uuid_list(request.identity_ids, "identity_ids", max_items=MAX_BATCH)
        if not identity_ids:
            return users_pb2.BatchGetUsersResponse()
        async with self._db.transaction() as connection:
            rows = await store.users_by_ids(connection, identity_ids)
        return users_pb2.BatchGetUsersResponse(users=[user_message(row) for row in rows])

    # --- administration (cluster admins) ------------------------------------------------

    async def get_user(self, request: users_pb2.GetUserRequest) -> users_pb2.GetUserResponse:
        caller = current_caller().require_identity()
        async with self._db.read() as connection:
            try:
                identity_id = parse_uuid(request.identity_id, "identity_id")
            except ServiceError:
                await _require_cluster_admin(connection)  # the gate comes before the fields
                raise
            caller_is_admin, row, admin = await user_for_admin(connection, caller, identity_id)
        if not caller_is_admin:
            raise permission_denied("cluster admin required")
        if row is None:
            raise not_found("user not found")
        return users_pb2.GetUserResponse(user=user_message(row), cluster_role=cluster_role(admin))

    async def list_users(self, request: users_pb2.ListUsersRequest) -> users_pb2.ListUsersResponse:
        async with self._db.transaction() as connection:
            await _require_cluster_admin(connection)
            after = decode_uuid_page_token(request.page_token)
            rows, next_token = await store.users_page(connection, after, clamp_page_size(request.page_size))
        return users_pb2.ListUsersResponse(
            users=[user_message(row) for row in rows], next_page_token=next_token
        )

    async def create_user(self, request: users_pb2.CreateUserRequest) -> users_pb2.CreateUserResponse:
        async with self._db.transaction() as connection:
            await _require_cluster_admin(connection)
            if not request.oidc_subject:
                raise invalid_argument("oidc_subject", "must not be empty")
            _check_role(request.cluster_role)
            check_length(request.oidc_subject, "oidc_subject", max_chars=MAX_URL)
            check_length(request.name, "name", max_chars=MAX_NAME)
            check_length(request.nickname, "nickname", max_chars=MAX_NAME)
            check_length(request.photo_url, "photo_url", max_chars=MAX_URL)
            username = usernames.validate(request.username) if request.HasField("username") else None
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

    async def update_user(self, request: users_pb2.UpdateUserRequest) -> users_pb2.UpdateUserResponse:
        async with self._db.transaction() as connection:
            await _require_cluster_admin(connection)
            identity_id = parse_uuid(request.identity_id, "identity_id")
            if request.HasField("cluster_role"):
                _check_role(request.cluster_role)
            values: dict[str, Any] = {
                field: check_length(getattr(request, field), field, max_chars=limit)
                for field, limit in PROFILE_LIMITS.items()
                if request.HasField(field)
            }
            if request.HasField("username"):
                values["username"] = usernames.validate(request.username)
            if not values and not request.HasField("cluster_role"):
                raise invalid_argument("identity_id", "at least one field must be provided")
            # The profile write and the role change commit together (upstream they could diverge).
            row = await self._update_profile(connection, identity_id, values)
            if request.HasField("cluster_role"):
                await self._change_role(
                    connection, identity_id, request.cluster_role == users_pb2.CLUSTER_ROLE_ADMIN
                )
        return users_pb2.UpdateUserResponse(user=user_message(row))

    async def delete_user(self, request: users_pb2.DeleteUserRequest) -> users_pb2.DeleteUserResponse:
        async with self._db.transaction() as connection:
            await _require_cluster_admin(connection)
            identity_id = parse_uuid(request.identity_id, "identity_id")
            await store.load_user(connection, identity_id, lock=True)
            await store.delete_user(connection, identity_id)
            await self._change_role(connection, identity_id, False)
            await self._events.user_deleted(connection, identity_id)
        return users_pb2.DeleteUserResponse()
