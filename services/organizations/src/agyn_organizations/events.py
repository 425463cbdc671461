"""Domain events Organizations publishes on `agyn.events.organizations.<event>` (AGYN_EVENTS).

Bodies are JSON {"id", "type", "occurred_at", "data"}. An event whose data names an
`identity_id` changes what that identity holds in `organization_id`; one without it
concerns the whole organization. `agyn_common.org_access` drops cached answers on exactly
that rule, so keep it when adding events.
"""

from __future__ import annotations

import uuid
from typing import Any

from agyn_common.outbox import Outbox
from sqlalchemy.ext.asyncio import AsyncConnection

SERVICE = "organizations"
ORGANIZATION_CREATED = "organization.created"
ORGANIZATION_UPDATED = "organization.updated"
ORGANIZATION_DELETED = "organization.deleted"
MEMBERSHIP_CHANGED = "membership.changed"
GRANT_CHANGED = "grant.changed"


class OrganizationEvents:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def _emit(self, connection: AsyncConnection, event: str, data: dict[str, Any]) -> None:
        await self._outbox.emit_event(connection, SERVICE, event, data)

    async def organization_created(
        self, connection: AsyncConnection, organization_id: uuid.UUID, created_by: uuid.UUID
    ) -> None:
        await self._emit(
            connection,
            ORGANIZATION_CREATED,
            {"organization_id": str(organization_id), "created_by": str(created_by)},
        )

    async def organization_updated(
        self, connection: AsyncConnection, organization_id: uuid.UUID, fields: list[str]
    ) -> None:
        await self._emit(
            connection, ORGANIZATION_UPDATED, {"organization_id": str(organization_id), "fields": fields}
        )

    async def organization_deleted(self, connection: AsyncConnection, organization_id: uuid.UUID) -> None:
        """Other services drop the organization's records on this (sheet §8 #4)."""
        await self._emit(connection, ORGANIZATION_DELETED, {"organization_id": str(organization_id)})

    async def membership_changed(
        self,
        connection: AsyncConnection,
        membership: Any,
        change: str,
    ) -> None:
        """`change`: invited, added, accepted, declined, removed, role_changed, identity_deleted."""
        await self._emit(
            connection,
            MEMBERSHIP_CHANGED,
            {
                "organization_id": str(membership.organization_id),
                "identity_id": str(membership.identity_id),
                "membership_id": str(membership.id),
                "change": change,
                "role": membership.role,
                "status": membership.status,
            },
        )

    async def grant_changed(
        self,
        connection: AsyncConnection,
        organization_id: uuid.UUID,
        identity_id: uuid.UUID,
        relation: str,
        granted: bool,
    ) -> None:
        await self._emit(
            connection,
            GRANT_CHANGED,
            {
                "organization_id": str(organization_id),
                "identity_id": str(identity_id),
                "relation": relation,
                "change": "granted" if granted else "revoked",
            },
        )
