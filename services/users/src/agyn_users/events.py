"""Domain events Users publishes on `agyn.events.users.<event>` (stream AGYN_EVENTS).

Bodies are JSON: {"id", "type", "occurred_at", "data"}. No event carries a credential or
a token hash. Consumers use them to drop cached answers (profiles, roles, tokens,
workload credentials).
"""

from __future__ import annotations

import uuid
from typing import Any

from agyn_common.outbox import Outbox
from sqlalchemy.ext.asyncio import AsyncConnection

SERVICE = "users"
USER_CREATED = "user.created"
USER_UPDATED = "user.updated"
USER_DELETED = "user.deleted"
CLUSTER_ROLE_CHANGED = "user.cluster_role_changed"
API_TOKEN_REVOKED = "api_token.revoked"
WORKLOAD_CREDENTIAL_REVOKED = "workload_credential.revoked"


class UserEvents:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def _emit(self, connection: AsyncConnection, event: str, data: dict[str, Any]) -> None:
        await self._outbox.emit_event(connection, SERVICE, event, data)

    async def user_created(
        self, connection: AsyncConnection, identity_id: uuid.UUID, username: str | None
    ) -> None:
        await self._emit(
            connection, USER_CREATED, {"identity_id": str(identity_id), "username": username or ""}
        )

    async def user_updated(
        self, connection: AsyncConnection, identity_id: uuid.UUID, fields: list[str]
    ) -> None:
        await self._emit(
            connection, USER_UPDATED, {"identity_id": str(identity_id), "fields": sorted(fields)}
        )

    async def user_deleted(self, connection: AsyncConnection, identity_id: uuid.UUID) -> None:
        await self._emit(connection, USER_DELETED, {"identity_id": str(identity_id)})

    async def cluster_role_changed(
        self, connection: AsyncConnection, identity_id: uuid.UUID, admin: bool
    ) -> None:
        await self._emit(
            connection,
            CLUSTER_ROLE_CHANGED,
            {
                "identity_id": str(identity_id),
                "cluster_role": "CLUSTER_ROLE_ADMIN" if admin else "CLUSTER_ROLE_UNSPECIFIED",
            },
        )

    async def api_token_revoked(
        self, connection: AsyncConnection, token_id: uuid.UUID, identity_id: uuid.UUID
    ) -> None:
        await self._emit(
            connection, API_TOKEN_REVOKED, {"token_id": str(token_id), "identity_id": str(identity_id)}
        )

    async def workload_credential_revoked(
        self,
        connection: AsyncConnection,
        identity_id: uuid.UUID,
        identity_type: str,
        workload_id: uuid.UUID | None = None,
    ) -> None:
        """Credentials of `identity_id` (of its workload `workload_id` only, when given) were
        revoked; consumers drop what they cached of them (no event names a hash, see above)."""
        data = {"identity_id": str(identity_id), "identity_type": identity_type}
        if workload_id is not None:
            data["workload_id"] = str(workload_id)
        await self._emit(connection, WORKLOAD_CREDENTIAL_REVOKED, data)
