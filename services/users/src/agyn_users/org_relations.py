"""Organization relations, as far as this service can answer them today.

Nickname rules ask for relations on an organization (`member`, `can_manage_members`,
`can_add_member`, `can_view_threads`). Organizations owns those; until it is deployed, the
only ones answerable here are those a cluster admin holds on every organization
(`admin from cluster` in the relation model). Anything else is FAILED_PRECONDITION naming
the missing dependency, never a guess.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from agyn_common.errors import failed_precondition

# Relations every cluster admin holds on every organization.
CLUSTER_ADMIN_RELATIONS = frozenset(
    {"can_add_member", "can_view_threads", "can_view_workloads", "can_view_volumes"}
)


class OrganizationRelations:
    def __init__(self, is_cluster_admin: Callable[[uuid.UUID], Awaitable[bool]]) -> None:
        self._is_cluster_admin = is_cluster_admin

    async def holds_any(
        self, identity_id: uuid.UUID, relations: tuple[str, ...], organization_id: uuid.UUID
    ) -> bool:
        """True when the identity holds one of `relations` on the organization."""
        if CLUSTER_ADMIN_RELATIONS.intersection(relations) and await self._is_cluster_admin(identity_id):
            return True
        raise failed_precondition(
            "organization membership cannot be checked: the organizations service is not available",
            "DEPENDENCY_UNAVAILABLE",
            dependency="organizations",
            organization_id=str(organization_id),
        )
