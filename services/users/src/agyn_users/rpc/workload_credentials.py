"""The credential issuer: ZitiManagementService's shapes without OpenZiti (DESIGN §3).

An agent workload gets an `agynw_` credential, a runner an `agynr_` one; the SHA-256 of a
credential is its `ziti_identity_id`. Internal only: the mesh decides which services may
call each method (`access.py`).
"""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa
from agyn_common.credentials import AGENT_WORKLOAD_CREDENTIAL_PREFIX, RUNNER_CREDENTIAL_PREFIX
from agyn_common.db import Database
from agyn_common.errors import invalid_argument, not_found
from agyn_common.validation import parse_uuid
from agynio.api.identity.v1 import identity_pb2
from agynio.api.ziti_management.v1 import ziti_management_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_users.events import UserEvents
from agyn_users.workload_credentials import (
    delete_credential,
    delete_credentials_of,
    find_credential,
    insert_credential,
)

AGENT = identity_pb2.IDENTITY_TYPE_AGENT
RUNNER = identity_pb2.IDENTITY_TYPE_RUNNER
TYPE_NAMES: dict[int, str] = {AGENT: "agent", RUNNER: "runner"}  # as in x-identity-type and the events
_HASH = re.compile(r"[0-9a-f]{64}")


def parse_credential_hash(value: str, field: str = "ziti_identity_id") -> str:
    """What stands for a credential in requests: its SHA-256 as 64 lowercase hex digits."""
    if not value:
        raise invalid_argument(field, "must not be empty")
    if not _HASH.fullmatch(value):
        raise invalid_argument(field, "must be the SHA-256 of the credential as 64 lowercase hex digits")
    return value


class WorkloadCredentialHandlers:
    def __init__(self, database: Database, events: UserEvents) -> None:
        self._db = database
        self._events = events

    async def create_agent_identity(
        self, request: pb.CreateAgentIdentityRequest
    ) -> pb.CreateAgentIdentityResponse:
        agent_id = parse_uuid(request.agent_id, "agent_id")
        workload_id = parse_uuid(request.workload_id, "workload_id")
        async with self._db.transaction() as connection:
            credential_hash, credential = await insert_credential(
                connection, AGENT_WORKLOAD_CREDENTIAL_PREFIX, agent_id, AGENT, workload_id
            )
        return pb.CreateAgentIdentityResponse(ziti_identity_id=credential_hash, enrollment_jwt=credential)

    async def create_runner_identity(
        self, request: pb.CreateRunnerIdentityRequest
    ) -> pb.CreateRunnerIdentityResponse:
        runner_id = parse_uuid(request.runner_id, "runner_id")
        # Meaningless without OpenZiti, but required as upstream requires it.
        if not request.role_attributes:
            raise invalid_argument("role_attributes", "must name at least one role attribute")
        async with self._db.transaction() as connection:
            # A runner holds one credential: enrolling again revokes the earlier ones.
            await _lock_identity(connection, runner_id)
            await self._revoke_all(connection, runner_id, RUNNER)
            credential_hash, credential = await insert_credential(
                connection, RUNNER_CREDENTIAL_PREFIX, runner_id, RUNNER
            )
        return pb.CreateRunnerIdentityResponse(
            ziti_identity_id=credential_hash, identity_json=credential.encode()
        )

    async def resolve_identity(self, request: pb.ResolveIdentityRequest) -> pb.ResolveIdentityResponse:
        credential_hash = parse_credential_hash(request.ziti_identity_id)
        async with self._db.transaction() as connection:
            row = await find_credential(connection, credential_hash)
        if row is None:
            raise not_found("identity not found")
        reply = pb.ResolveIdentityResponse(identity_id=str(row.identity_id), identity_type=row.identity_type)
        if row.workload_id is not None:
            reply.workload_id = str(row.workload_id)
        return reply

    async def delete_identity(self, request: pb.DeleteIdentityRequest) -> pb.DeleteIdentityResponse:
        credential_hash = parse_credential_hash(request.ziti_identity_id)
        async with self._db.transaction() as connection:
            row = await delete_credential(connection, credential_hash)
            if row is None:
                raise not_found("identity not found")
            await self._events.workload_credential_revoked(
                connection, row.identity_id, TYPE_NAMES[row.identity_type], row.workload_id
            )
        return pb.DeleteIdentityResponse()

    async def delete_runner_identity(
        self, request: pb.DeleteRunnerIdentityRequest
    ) -> pb.DeleteRunnerIdentityResponse:
        runner_id = parse_uuid(request.identity_id, "identity_id")
        # ziti_service_id names an OpenZiti service upstream; there is none here.
        async with self._db.transaction() as connection:
            if not await self._revoke_all(connection, runner_id, RUNNER):
                raise not_found("runner identity not found")
        return pb.DeleteRunnerIdentityResponse()

    async def _revoke_all(
        self, connection: AsyncConnection, identity_id: uuid.UUID, identity_type: int
    ) -> bool:
        """Whether the identity had credentials; if so they are gone and it is announced."""
        if not await delete_credentials_of(connection, identity_id, identity_type):
            return False
        await self._events.workload_credential_revoked(connection, identity_id, TYPE_NAMES[identity_type])
        return True


async def _lock_identity(connection: AsyncConnection, identity_id: uuid.UUID) -> None:
    """Serialize the issuers for one identity until commit, so two enrollments at once still
    leave one credential."""
    await connection.execute(
        sa.select(sa.func.pg_advisory_xact_lock(int.from_bytes(identity_id.bytes[:8], "big", signed=True)))
    )
