"""Agent relation checks for other services (DESIGN §3; sheet §4.1).

Not part of the upstream contract: AgentAccessService replaces OpenFGA `Check` on
`agent:<id>` with answers from Agents' own tables (roles, availability) and Organizations'
relations. Threads asks `can_initiate` before an agent joins a thread.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from agyn_common.agent_access import MAX_BATCH, RELATIONS
from agyn_common.db import Database
from agyn_common.errors import invalid_argument
from agyn_common.validation import parse_uuid
from agynio.api.agents.v1 import access_pb2 as pb

from agyn_agents import store
from agyn_agents.permissions import AgentPermissions

Check = tuple[uuid.UUID, uuid.UUID, str]  # identity, agent, relation


def _check(request: pb.CheckAgentRelationRequest | pb.AgentRelationCheck, prefix: str = "") -> Check:
    if request.relation not in RELATIONS:
        raise invalid_argument(
            f"{prefix}relation",
            f"unknown relation {request.relation[:64]!r}; expected one of {', '.join(sorted(RELATIONS))}",
        )
    return (
        parse_uuid(request.identity_id, f"{prefix}identity_id"),
        parse_uuid(request.agent_id, f"{prefix}agent_id"),
        request.relation,
    )


class AgentAccessHandlers:
    def __init__(self, database: Database, permissions: AgentPermissions) -> None:
        self._db = database
        self._permissions = permissions

    async def check_relation(self, request: pb.CheckAgentRelationRequest) -> pb.CheckAgentRelationResponse:
        (allowed,) = await self._answers([_check(request)])
        return pb.CheckAgentRelationResponse(allowed=allowed)

    async def batch_check_relations(
        self, request: pb.BatchCheckAgentRelationsRequest
    ) -> pb.BatchCheckAgentRelationsResponse:
        if len(request.checks) > MAX_BATCH:
            raise invalid_argument("checks", f"at most {MAX_BATCH} checks, got {len(request.checks)}")
        correlations: set[str] = set()
        for index, item in enumerate(request.checks):
            if not item.correlation_id or item.correlation_id in correlations:
                raise invalid_argument(f"checks[{index}].correlation_id", "must be non-empty and unique")
            correlations.add(item.correlation_id)
        checks = [_check(item, f"checks[{index}].") for index, item in enumerate(request.checks)]
        answers = await self._answers(checks)
        response = pb.BatchCheckAgentRelationsResponse()
        for item, allowed in zip(request.checks, answers, strict=True):
            response.results[item.correlation_id].allowed = allowed
        return response

    async def _answers(self, checks: list[Check]) -> list[bool]:
        """One answer per check; an agent that does not exist holds nothing. Checks of one
        identity and relation are answered together (one roles query, one organization check
        per organization)."""
        asked: dict[tuple[uuid.UUID, str], set[uuid.UUID]] = defaultdict(set)
        for identity, agent, relation in checks:
            asked[identity, relation].add(agent)
        async with self._db.transaction() as connection:
            found = {row.id: row for row in await store.agents_by_id(connection, {a for _, a, _ in checks})}
            held = {
                (identity, relation): await self._permissions.holding(
                    connection, identity, [found[a] for a in agents if a in found], relation
                )
                for (identity, relation), agents in asked.items()
            }
        return [agent in held[identity, relation] for identity, agent, relation in checks]
