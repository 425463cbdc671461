"""Who may do what with runners, workloads and volumes (runners sheet §4, mapped by DESIGN §3).

Organizations answers the organization relations (`member`, `owner`, `can_view_workloads`,
`can_view_volumes`); Users owns the cluster-admin role, which manages cluster-scoped runners.
"""

from __future__ import annotations

import uuid

from agyn_common.cluster_admins import ClusterAdmins
from agyn_common.errors import permission_denied
from agyn_common.org_access import OrganizationAccess

MEMBER, OWNER = "member", "owner"
CAN_VIEW_WORKLOADS, CAN_VIEW_VOLUMES = "can_view_workloads", "can_view_volumes"


class Permissions:
    def __init__(self, organizations: OrganizationAccess, admins: ClusterAdmins) -> None:
        self._organizations = organizations
        self._admins = admins

    async def holds(self, identity: uuid.UUID, relation: str, organization_id: uuid.UUID) -> bool:
        return await self._organizations.check(identity, relation, organization_id)

    async def require(self, identity: uuid.UUID, relation: str, organization_id: uuid.UUID) -> None:
        if not await self.holds(identity, relation, organization_id):
            raise permission_denied("permission denied")

    async def require_manager(self, identity: uuid.UUID, organization_id: uuid.UUID | None) -> None:
        """Managing a runner: its organization's owner, or a cluster admin for a cluster-scoped one."""
        if organization_id is not None:
            await self.require(identity, OWNER, organization_id)
        elif not await self._admins.is_admin(identity):
            raise permission_denied("permission denied")

    async def member_of(self, identity: uuid.UUID, organization_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        """The organizations among `organization_ids` the identity is a member of."""
        return {org for org in sorted(organization_ids) if await self.holds(identity, MEMBER, org)}
