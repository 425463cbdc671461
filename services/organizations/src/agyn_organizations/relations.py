"""Organization relations answered from this service's own tables (sheet §4.3, §4.4).

Each relation holds through an active membership role, a direct grant, or the cluster-admin
role, per `RULES`. An organization without a row never allows anything, not even to a
cluster admin. Memberships count only while active and unexpired.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from agyn_common.errors import permission_denied
from agyn_common.org_access import GRANTABLE_RELATIONS, RELATIONS
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_organizations.models import active_membership, memberships, organization_grants, organizations

OWNER = frozenset({"owner"})
ANY_ROLE = frozenset({"owner", "member"})
NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]  # an active membership with one of these roles
    grants: frozenset[str]  # or a direct grant of one of these
    cluster_admin: bool = False  # or the cluster-admin role


_MEMBER = Rule(ANY_ROLE, frozenset({"member"}))
_OWNER_OR_ADMIN = Rule(OWNER, NONE, cluster_admin=True)
RULES: dict[str, Rule] = {
    "owner": Rule(OWNER, NONE),
    "member": _MEMBER,
    "can_invite": Rule(OWNER, NONE),
    "can_manage_members": _OWNER_OR_ADMIN,
    "can_manage_organization": _OWNER_OR_ADMIN,
    "can_view_threads": _OWNER_OR_ADMIN,
    "can_view_workloads": _OWNER_OR_ADMIN,
    "can_view_volumes": _OWNER_OR_ADMIN,
    "can_list_sandboxes": _OWNER_OR_ADMIN,
    "can_add_member": Rule(NONE, NONE, cluster_admin=True),
    "can_create_thread": Rule(ANY_ROLE, frozenset({"member", "thread_create"})),
    "can_create_sandbox": _MEMBER,
    "can_create_environment": _MEMBER,
    **{grant: Rule(NONE, frozenset({grant})) for grant in GRANTABLE_RELATIONS - {"member"}},
}
assert RULES.keys() == RELATIONS, "every relation of the vocabulary has exactly one rule"

IsClusterAdmin = Callable[[uuid.UUID], Awaitable[bool]]


@dataclass(frozen=True)
class Standing:
    """What one identity has in one organization."""

    organization_exists: bool
    role: str | None  # of an active, unexpired membership
    grants: frozenset[str]

    def holds_locally(self, rule: Rule) -> bool:
        return self.organization_exists and (self.role in rule.roles or bool(self.grants & rule.grants))


async def load_standing(
    connection: AsyncConnection, identity_id: uuid.UUID, organization_id: uuid.UUID
) -> Standing:
    role = (
        sa.select(memberships.c.role)
        .where(
            memberships.c.organization_id == organizations.c.id,
            memberships.c.identity_id == identity_id,
            active_membership(),
        )
        .scalar_subquery()
    )
    grants = (
        sa.select(sa.func.array_agg(organization_grants.c.relation))
        .where(
            organization_grants.c.organization_id == organizations.c.id,
            organization_grants.c.identity_id == identity_id,
        )
        .scalar_subquery()
    )
    row = (
        await connection.execute(sa.select(role, grants).where(organizations.c.id == organization_id))
    ).first()
    if row is None:
        return Standing(organization_exists=False, role=None, grants=NONE)
    return Standing(organization_exists=True, role=row[0], grants=frozenset(row[1] or ()))


class Relations:
    def __init__(self, is_cluster_admin: IsClusterAdmin) -> None:
        self._is_cluster_admin = is_cluster_admin

    async def holds(
        self, connection: AsyncConnection, identity_id: uuid.UUID, relation: str, organization_id: uuid.UUID
    ) -> bool:
        return await self.holds_any(connection, identity_id, (relation,), organization_id)

    async def require(
        self, connection: AsyncConnection, identity_id: uuid.UUID, relation: str, organization_id: uuid.UUID
    ) -> None:
        """PERMISSION_DENIED unless the identity holds `relation` on the organization."""
        if not await self.holds(connection, identity_id, relation, organization_id):
            raise permission_denied(f"{relation} on this organization required")

    async def holds_any(
        self,
        connection: AsyncConnection,
        identity_id: uuid.UUID,
        relations: Iterable[str],
        organization_id: uuid.UUID,
    ) -> bool:
        standing = await load_standing(connection, identity_id, organization_id)
        return await self.evaluate(standing, identity_id, [RULES[relation] for relation in relations])

    async def evaluate(self, standing: Standing, identity_id: uuid.UUID, rules: Iterable[Rule]) -> bool:
        """Local facts first; Users is asked about the admin role only when that decides."""
        rules = list(rules)
        if not standing.organization_exists:
            return False
        if any(standing.holds_locally(rule) for rule in rules):
            return True
        return any(rule.cluster_admin for rule in rules) and await self._is_cluster_admin(identity_id)

    async def is_cluster_admin(self, identity_id: uuid.UUID) -> bool:
        return await self._is_cluster_admin(identity_id)

    @staticmethod
    def granted_organizations(identity_id: uuid.UUID, relation: str) -> sa.Select[tuple[uuid.UUID]]:
        """Ids of the organizations where the identity holds `relation` without the admin role."""
        rule = RULES[relation]
        by_role = sa.select(memberships.c.organization_id.label("id")).where(
            memberships.c.identity_id == identity_id,
            memberships.c.role.in_(sorted(rule.roles)),
            active_membership(),
        )
        by_grant = sa.select(organization_grants.c.organization_id.label("id")).where(
            organization_grants.c.identity_id == identity_id,
            organization_grants.c.relation.in_(sorted(rule.grants)),
        )
        return sa.select(sa.union(by_role, by_grant).subquery().c.id)

    async def organizations_for(
        self, connection: AsyncConnection, identity_id: uuid.UUID, relation: str
    ) -> list[uuid.UUID]:
        """Every organization where the identity holds `relation`, by id ascending."""
        if RULES[relation].cluster_admin and await self._is_cluster_admin(identity_id):
            query = sa.select(organizations.c.id)
        else:
            query = self.granted_organizations(identity_id, relation)
        rows = await connection.execute(query.order_by(sa.text("1")))
        return [row[0] for row in rows]
