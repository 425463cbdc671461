"""The identity registry: every platform identity and its type (users sheet §3.5).

Internal only: the mesh decides which services may call each method (`access.py`).
"""

from __future__ import annotations

from agyn_common.db import Database
from agyn_common.errors import already_exists, invalid_argument
from agyn_common.validation import parse_uuid, parse_uuid_list
from agynio.api.identity.v1 import identity_pb2

from agyn_users.convert import identity_type_entries
from agyn_users.registry import identity_type, identity_types, register_identity

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


class IdentityHandlers:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def register_identity(
        self, request: identity_pb2.RegisterIdentityRequest
    ) -> identity_pb2.RegisterIdentityResponse:
        identity_id = parse_uuid(request.identity_id, "identity_id")
        if request.identity_type not in REGISTRABLE_TYPES:
            raise invalid_argument(
                "identity_type", f"must be agent, runner, user or app, got {request.identity_type}"
            )
        async with self._db.transaction() as connection:
            if not await register_identity(connection, identity_id, request.identity_type):
                raise already_exists("identity already registered")
        return identity_pb2.RegisterIdentityResponse()

    async def get_identity_type(
        self, request: identity_pb2.GetIdentityTypeRequest
    ) -> identity_pb2.GetIdentityTypeResponse:
        identity_id = parse_uuid(request.identity_id, "identity_id")
        async with self._db.transaction() as connection:
            found = await identity_type(connection, identity_id)
        return identity_pb2.GetIdentityTypeResponse(identity_type=found)

    async def batch_get_identity_types(
        self, request: identity_pb2.BatchGetIdentityTypesRequest
    ) -> identity_pb2.BatchGetIdentityTypesResponse:
        identity_ids = parse_uuid_list(request.identity_ids, "identity_ids", max_items=MAX_BATCH)
        async with self._db.transaction() as connection:
            types = await identity_types(connection, identity_ids)
        return identity_pb2.BatchGetIdentityTypesResponse(entries=identity_type_entries(identity_ids, types))
