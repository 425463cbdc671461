"""Agent relations, answered from Agents' own roles and Organizations' relations (sheet §4.1).

Each relation is held by some agent roles directly and by one organization relation on the
agent's organization; `can_initiate` counts the organization only while the agent is
INTERNAL. Checks ask Organizations only when the caller's own role does not already decide.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from agyn_common import agent_access
from agyn_common.errors import permission_denied
from agyn_common.org_access import OrganizationAccess
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_agents import store

OWNER, MAINTAINER, PARTICIPANT = "owner", "maintainer", "participant"
INTERNAL, PRIVATE = "internal", "private"


@dataclass(frozen=True)
class AgentRelation:
    roles: frozenset[str]  # the agent roles that hold it
    organization: str  # the relation on the agent's organization that holds it too
    only_internal: bool = False  # ... but only while the agent is INTERNAL


CAN_INITIATE = "can_initiate"
CAN_READ_CONFIG = "can_read_config"
CAN_EDIT_CONFIG = "can_edit_config"
CAN_MANAGE_ROLES = "can_manage_roles"
CAN_DELETE = "can_delete"

RELATIONS: dict[str, AgentRelation] = {
    CAN_INITIATE: AgentRelation(frozenset({OWNER, MAINTAINER, PARTICIPANT}), "member", only_internal=True),
    CAN_READ_CONFIG: AgentRelation(frozenset({OWNER, MAINTAINER}), "owner"),
    CAN_EDIT_CONFIG: AgentRelation(frozenset({OWNER, MAINTAINER}), "owner"),
    CAN_MANAGE_ROLES: AgentRelation(frozenset({OWNER}), "owner"),
    CAN_DELETE: AgentRelation(frozenset({OWNER}), "owner"),
}
# The vocabulary other services check through AgentAccess.
assert RELATIONS.keys() == agent_access.RELATIONS and CAN_INITIATE == agent_access.CAN_INITIATE


def decided_by_role(relation: str, role: str | None, availability: str) -> bool | None:
    """True when the role holds `relation`; False when nothing else can; None when the
    organization relation (`RELATIONS[relation].organization`) decides."""
    rule = RELATIONS[relation]
    if role in rule.roles:
        return True
    if rule.only_internal and availability != INTERNAL:
        return False
    return None


class AgentPermissions:
    def __init__(self, organizations: OrganizationAccess) -> None:
        self._organizations = organizations

    async def holds(
        self, connection: AsyncConnection, identity: uuid.UUID, agent: sa.Row[Any], relation: str
    ) -> bool:
        role = await store.role_of(connection, agent.id, identity)
        decided = decided_by_role(relation, role, agent.availability)
        if decided is not None:
            return decided
        return await self._organizations.check(
            identity, RELATIONS[relation].organization, agent.organization_id
        )

    async def require(
        self, connection: AsyncConnection, identity: uuid.UUID, agent: sa.Row[Any], relation: str
    ) -> None:
        if not await self.holds(connection, identity, agent, relation):
            raise permission_denied(f"{relation} on agent {agent.id} required")

    async def holding(
        self, connection: AsyncConnection, identity: uuid.UUID, agents: Sequence[sa.Row[Any]], relation: str
    ) -> set[uuid.UUID]:
        """Which of `agents` the identity holds `relation` on: one query for its roles, and one
        organization check per organization where the roles do not decide."""
        roles = await store.roles_on(connection, identity, [agent.id for agent in agents])
        held, undecided = set(), []
        for agent in agents:
            decided = decided_by_role(relation, roles.get(agent.id), agent.availability)
            if decided:
                held.add(agent.id)
            elif decided is None:
                undecided.append(agent)
        answers: dict[uuid.UUID, bool] = {}
        for agent in undecided:
            if agent.organization_id not in answers:
                answers[agent.organization_id] = await self._organizations.check(
                    identity, RELATIONS[relation].organization, agent.organization_id
                )
            if answers[agent.organization_id]:
                held.add(agent.id)
        return held

    async def require_organization(
        self, identity: uuid.UUID, relation: str, organization_id: uuid.UUID
    ) -> None:
        await self._organizations.require(identity, relation, organization_id)

    async def in_organization(self, identity: uuid.UUID, organization_id: uuid.UUID) -> bool:
        return await self._organizations.check(identity, "member", organization_id)
