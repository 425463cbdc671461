"""What a sub-resource row belongs to, and the agent that owns it (sheet §3.5-3.7, §4.2).

MCPs, skills and hooks belong to an agent (`agent_id`). ENVs, init scripts and attachments
belong to one target of a oneof: an agent, or one of its MCPs or hooks; the owning agent is
then the MCP's or hook's agent. Permissions, the `updated_at` bump and `agent.updated` all go
to the owning agent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from agyn_common.errors import invalid_argument
from agyn_common.validation import parse_uuid
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_agents.models import TARGETS, hooks, mcps

# The table a target column reaches its owning agent through; None: the column is the agent.
VIA: dict[str, sa.Table | None] = {"agent_id": None, "mcp_id": mcps, "hook_id": hooks}
OWNER = "owner_id"  # the owning agent's id, as the selects below label it


def what(column: str) -> str:
    """What a target column names: "agent", "mcp", "hook"."""
    return column.removesuffix("_id")


@dataclass(frozen=True)
class Targets:
    columns: tuple[str, ...]  # the columns a row may belong through, exactly one set
    oneof: str | None = None  # the requests' oneof choosing one of them; None: the only column

    def chosen(self, request: Any) -> tuple[str, uuid.UUID]:
        """The target a create names: its column and id (INVALID_ARGUMENT naming the field)."""
        column = request.WhichOneof(self.oneof) if self.oneof else self.columns[0]
        if column is None:
            raise invalid_argument(str(self.oneof), f"{self.oneof} must be specified")
        return column, parse_uuid(getattr(request, column).strip(), column)

    def select(self, table: sa.Table) -> sa.Select[Any]:
        """The table's rows, each with its owning agent's id as `owner_id`."""
        joined: sa.FromClause = table
        owners: list[sa.ColumnElement[Any]] = []
        for column in self.columns:
            via = VIA[column]
            if via is None:
                owners.append(table.c[column])
            else:
                joined = joined.outerjoin(via, via.c.id == table.c[column])
                owners.append(via.c.agent_id)
        owner = sa.func.coalesce(*owners) if len(owners) > 1 else owners[0]
        return sa.select(table, owner.label(OWNER)).select_from(joined)

    def show(self, row: sa.Row[Any]) -> dict[str, str]:
        """The row's target as its message carries it."""
        return {
            column: str(getattr(row, column)) for column in self.columns if getattr(row, column) is not None
        }


AGENT = Targets(("agent_id",))
ANY_TARGET = Targets(TARGETS, oneof="target")


async def owner_of(
    connection: AsyncConnection, column: str, target_id: uuid.UUID, *, lock: bool = False
) -> uuid.UUID | None:
    """The id of the agent owning the target, None for an MCP or hook that does not exist (an
    agent id is returned as it is: whether that agent exists is for the caller to find out).
    `lock` keeps the MCP or hook from going away until the transaction ends."""
    via = VIA[column]
    if via is None:
        return target_id
    query = sa.select(via.c.agent_id).where(via.c.id == target_id)
    owner: uuid.UUID | None = (
        await connection.execute(query.with_for_update() if lock else query)
    ).scalar_one_or_none()
    return owner
