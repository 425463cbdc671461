"""What Agents announces, through the outbox in the writing transaction (sheet §5; DESIGN §5).

`agent.updated` goes to the `agent:<id>` room (the orchestrator and subscribed clients re-read
the agent); domain events on `agyn.events.agents.*` let other services drop what they cached
of an agent's relations (Threads asks `can_initiate`).
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from agyn_common.outbox import Outbox
from sqlalchemy.ext.asyncio import AsyncConnection

SERVICE = "agents"


class AgentEvents:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def agent_changed(self, connection: AsyncConnection, agent: sa.Row[Any], change: str) -> None:
        """`change` ("created", "updated", "deleted") as a domain event, and `agent.updated`
        on the agent's room: for its consumers every change is a reason to read it again."""
        data = {"agent_id": str(agent.id), "organization_id": str(agent.organization_id)}
        await self._outbox.emit_event(connection, SERVICE, f"agent.{change}", data)
        await self._outbox.emit_to_rooms(
            connection, source=SERVICE, event="agent.updated", rooms=[f"agent:{agent.id}"], payload=data
        )

    async def role_changed(
        self, connection: AsyncConnection, agent: sa.Row[Any], identity_id: uuid.UUID, role: str | None
    ) -> None:
        """An identity's role on an agent changed (`role` None: removed). No room event (sheet §5)."""
        await self._outbox.emit_event(
            connection,
            SERVICE,
            "agent_role.changed",
            {
                "agent_id": str(agent.id),
                "organization_id": str(agent.organization_id),
                "identity_id": str(identity_id),
                "role": role or "",
            },
        )
