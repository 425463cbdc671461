"""Who may act on a thread, and whose read state a call may touch."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from agyn_common.caller import current_caller
from agyn_common.errors import permission_denied
from agyn_common.org_access import OrganizationAccess
from agyn_common.validation import parse_uuid
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_threads import store

# Thread relations: a participant holds them all; otherwise this organization relation decides.
READ, WRITE, ADD_PARTICIPANT, ARCHIVE = "can_view_threads", "thread_write", "participant_add", "owner"


class ThreadPermissions:
    def __init__(self, organizations: OrganizationAccess) -> None:
        self._organizations = organizations

    async def holds(
        self, connection: AsyncConnection, caller: uuid.UUID, thread: sa.Row[Any], relation: str
    ) -> bool:
        """Participants hold every thread relation; others through the organization."""
        if await store.is_participant(connection, thread.id, caller):
            return True
        return await self.through_organization(caller, thread, relation)

    async def through_organization(self, caller: uuid.UUID, thread: Any, relation: str) -> bool:
        """Whether a caller who does not participate holds `relation` through the organization."""
        return thread.organization_id is not None and await self._organizations.check(
            caller, relation, thread.organization_id
        )

    async def require(
        self, connection: AsyncConnection, caller: uuid.UUID, thread: sa.Row[Any], relation: str
    ) -> None:
        if not await self.holds(connection, caller, thread, relation):
            raise permission_denied("permission denied")


def own_participant(participant_id: str) -> uuid.UUID:
    """Read state is one's own: an empty participant_id means the caller (sheet §8 #4)."""
    caller = current_caller().require_identity()
    if participant_id and parse_uuid(participant_id.strip(), "participant_id") != caller:
        raise permission_denied("participant_id must be the caller")
    return caller
