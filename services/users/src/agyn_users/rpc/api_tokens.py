"""API tokens: resolving one on the authentication path, and a user's own tokens."""

from __future__ import annotations

from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import invalid_argument, not_found
from agyn_common.timestamps import parse_future_timestamp
from agyn_common.validation import check_length, parse_uuid
from agynio.api.users.v1 import users_pb2

from agyn_users.api_tokens import delete_api_token, insert_api_token, list_api_tokens, resolve_api_token
from agyn_users.convert import token_message
from agyn_users.events import UserEvents
from agyn_users.limits import MAX_NAME
from agyn_users.rpc.accounts import require_user_account


class ApiTokenHandlers:
    def __init__(self, database: Database, events: UserEvents) -> None:
        self._db = database
        self._events = events

    async def resolve_api_token(
        self, request: users_pb2.ResolveAPITokenRequest
    ) -> users_pb2.ResolveAPITokenResponse:
        if not request.token_hash:
            raise invalid_argument("token_hash", "must not be empty")
        async with self._db.transaction() as connection:
            row = await resolve_api_token(connection, request.token_hash)
        return users_pb2.ResolveAPITokenResponse(identity_id=str(row.identity_id), token=token_message(row))

    async def create_api_token(
        self, request: users_pb2.CreateAPITokenRequest
    ) -> users_pb2.CreateAPITokenResponse:
        owner = current_caller().require_identity()
        check_length(request.name, "name", max_chars=MAX_NAME, required=True)
        expires_at = None
        if request.HasField("expires_at"):
            expires_at = parse_future_timestamp(request.expires_at, "expires_at")
        async with self._db.transaction() as connection:
            await require_user_account(connection, owner, "create api tokens")
            row, plaintext = await insert_api_token(connection, owner, request.name, expires_at)
        return users_pb2.CreateAPITokenResponse(token=token_message(row), plaintext_token=plaintext)

    async def list_api_tokens(
        self, request: users_pb2.ListAPITokensRequest
    ) -> users_pb2.ListAPITokensResponse:
        owner = current_caller().require_identity()
        async with self._db.transaction() as connection:
            rows = await list_api_tokens(connection, owner)
        return users_pb2.ListAPITokensResponse(tokens=[token_message(row) for row in rows])

    async def revoke_api_token(
        self, request: users_pb2.RevokeAPITokenRequest
    ) -> users_pb2.RevokeAPITokenResponse:
        owner = current_caller().require_identity()
        token_id = parse_uuid(request.token_id, "token_id")
        async with self._db.transaction() as connection:
            if not await delete_api_token(connection, owner, token_id):
                raise not_found("api token not found")
            await self._events.api_token_revoked(connection, token_id, owner)
        return users_pb2.RevokeAPITokenResponse()
