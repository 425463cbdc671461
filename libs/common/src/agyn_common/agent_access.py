"""Agent relations for the services that check them (DESIGN §3; agents sheet §4.1).

Agents owns the facts (an agent's roles, its availability, its organization) and answers
checks through `AgentAccessService`. Services ask through `AgentAccess`, which keeps answers
for a few seconds and drops them as soon as a change is announced on the bus: Agents' own
events (agent created, updated, deleted; a role set or removed), and Organizations' and
Users' (the organization relations an agent relation falls back on). While the bus is away
nothing is served from the cache.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import grpc
from agynio.api.agents.v1 import access_pb2, access_pb2_grpc, agents_pb2, agents_pb2_grpc
from nats.aio.msg import Msg

from agyn_common.bus import EVENTS_SUBJECT_PREFIX, Bus, event_ids
from agyn_common.cache import TtlCache
from agyn_common.errors import dependency_unavailable, permission_denied
from agyn_common.org_access import CLUSTER_ROLE_EVENTS, ORGANIZATION_EVENTS

log = logging.getLogger(__name__)

CAN_INITIATE = "can_initiate"
RELATIONS = frozenset({CAN_INITIATE, "can_read_config", "can_edit_config", "can_manage_roles", "can_delete"})
AGENT_EVENTS = f"{EVENTS_SUBJECT_PREFIX}.agents.>"
MAX_BATCH = 100

CheckKey = tuple[uuid.UUID, uuid.UUID, str]  # identity, agent, relation


class AgentAccess:
    """Ask Agents whether an identity holds a relation on an agent, and an agent's organization."""

    def __init__(self, channel: grpc.aio.Channel, *, ttl: float = 5.0, max_entries: int = 10_000) -> None:
        self._access = access_pb2_grpc.AgentAccessServiceStub(channel)
        self._agents = agents_pb2_grpc.AgentsServiceStub(channel)
        self._checks: TtlCache[CheckKey, bool] = TtlCache(ttl=ttl, max_entries=max_entries, needs_bus=True)
        self._organizations: TtlCache[uuid.UUID, uuid.UUID] = TtlCache(
            ttl=ttl, max_entries=max_entries, needs_bus=True
        )

    def attach(self, bus: Bus) -> None:
        """Enable caching, kept true by the change events on `bus`."""
        self._checks.follow(bus)
        self._organizations.follow(bus)
        bus.subscribe(AGENT_EVENTS, self._on_agent_event)
        bus.subscribe(ORGANIZATION_EVENTS, self._on_relation_event)
        bus.subscribe(CLUSTER_ROLE_EVENTS, self._on_relation_event)

    async def check_each(
        self, identity_id: uuid.UUID, relation: str, agent_ids: Iterable[uuid.UUID]
    ) -> dict[uuid.UUID, bool]:
        """The answer for each agent; what is not cached is asked in batches of MAX_BATCH."""
        if relation not in RELATIONS:
            raise ValueError(f"unknown agent relation {relation!r}")
        answers: dict[uuid.UUID, bool] = {}
        missing: list[uuid.UUID] = []
        for agent_id in dict.fromkeys(agent_ids):
            cached = self._checks.get((identity_id, agent_id, relation))
            if cached is None:
                missing.append(agent_id)
            else:
                answers[agent_id] = cached
        generation = self._checks.generation
        for start in range(0, len(missing), MAX_BATCH):
            batch = missing[start : start + MAX_BATCH]
            reply = await self._call(
                self._access.BatchCheckAgentRelations,
                access_pb2.BatchCheckAgentRelationsRequest(
                    checks=[
                        access_pb2.AgentRelationCheck(
                            identity_id=str(identity_id),
                            agent_id=str(agent_id),
                            relation=relation,
                            correlation_id=str(agent_id),
                        )
                        for agent_id in batch
                    ]
                ),
            )
            for agent_id in batch:
                answers[agent_id] = reply.results[str(agent_id)].allowed
                self._checks.put((identity_id, agent_id, relation), answers[agent_id], generation)
        return answers

    async def require_each(
        self, identity_id: uuid.UUID, relation: str, agent_ids: Sequence[uuid.UUID]
    ) -> None:
        """PERMISSION_DENIED naming the first agent the identity does not hold `relation` on."""
        answers = await self.check_each(identity_id, relation, agent_ids)
        for agent_id in agent_ids:
            if not answers[agent_id]:
                raise permission_denied(f"{relation} on agent {agent_id} required")

    async def organization_of(self, agent_id: uuid.UUID) -> uuid.UUID | None:
        """The agent's organization; None when there is no such agent."""
        cached = self._organizations.get(agent_id)
        if cached is not None:
            return cached
        generation = self._organizations.generation
        try:
            reply = await self._agents.GetAgent(agents_pb2.GetAgentRequest(id=str(agent_id)))
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise dependency_unavailable("agents", error) from error
        found = uuid.UUID(reply.agent.organization_id)
        self._organizations.put(agent_id, found, generation)
        return found

    def clear(self) -> None:
        self._checks.clear()
        self._organizations.clear()

    async def _on_agent_event(self, message: Msg) -> None:
        """A change to one agent (its availability, roles, existence) may change any answer about it."""
        try:
            agent_id = event_ids(message, "agent_id")["agent_id"]
        except ValueError:
            agent_id = None
        if agent_id is None:
            log.warning("unreadable event on %s; dropping every cached answer", message.subject)
            self.clear()
            return
        self._checks.drop_where(lambda key: key[1] == agent_id)
        self._organizations.drop_where(lambda key: key == agent_id)

    async def _on_relation_event(self, message: Msg) -> None:
        """Agent relations fall back on organization relations: a change to an identity's drops
        that identity's answers, a change to a whole organization drops them all."""
        try:
            identity_id = event_ids(message, "identity_id")["identity_id"]
        except ValueError:
            identity_id = None
        if identity_id is None:
            self._checks.clear()
        else:
            self._checks.drop_where(lambda key: key[0] == identity_id)

    @staticmethod
    async def _call(method: Callable[[Any], Awaitable[Any]], request: Any) -> Any:
        try:
            return await method(request)
        except grpc.aio.AioRpcError as error:
            raise dependency_unavailable("agents", error) from error
