"""The sub-resources that belong to one agent (MCPs, skills, hooks; sheet §3.6): one
implementation driven by a table of kinds, since they differ only in their fields (DESIGN §6).

Writes need `can_edit_config` on the agent, reads `can_read_config` or being the agent
itself; platform callers read everything. Every write bumps the agent's `updated_at` in the
same transaction and announces `agent.updated` (the orchestrator re-reads the agent).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from agyn_common.caller import current_caller
from agyn_common.db import Database, one_or_not_found
from agyn_common.errors import failed_precondition, invalid_argument, permission_denied
from agyn_common.pagination import KeysetPage
from agyn_common.validation import parse_uuid
from agynio.api.agents.v1 import agents_pb2 as pb
from google.protobuf.message import Message
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_agents import convert, store
from agyn_agents.events import AgentEvents
from agyn_agents.fields import MAX_DESCRIPTION, MAX_IMAGE, Check, resources, text
from agyn_agents.models import (
    envs,
    hooks,
    image_pull_secret_attachments,
    init_scripts,
    mcps,
    skills,
    volume_attachments,
)
from agyn_agents.permissions import CAN_EDIT_CONFIG, CAN_READ_CONFIG, AgentPermissions

MCP_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def mcp_name(request: Any, field: str) -> dict[str, Any]:
    if not MCP_NAME.fullmatch(request.name):
        raise invalid_argument(field, "must match [a-z][a-z0-9_]{0,62}")
    return {field: request.name}


# Rows that target an MCP or hook and keep it from being deleted (sheet §3.6).
TARGETING = (envs, init_scripts, volume_attachments, image_pull_secret_attachments)


@dataclass(frozen=True)
class ChildKind:
    name: str  # the message name: "Mcp"
    table: sa.Table
    fields: Mapping[str, Check]  # every field a create sets, in order
    immutable: tuple[str, ...] = ()  # fields an update does not carry
    unique_name: str | None = None  # the (agent_id, name) constraint: ALREADY_EXISTS
    targeted_as: str | None = None  # the column other rows reference it by ("mcp_id")

    @property
    def what(self) -> str:
        return self.name.lower()

    def message(self, row: sa.Row[Any]) -> Message:
        values = {field: getattr(row, field) for field in self.fields if field != "resources"}
        message: Message = getattr(pb, self.name)(
            meta=convert.meta(row), agent_id=str(row.agent_id), **values
        )
        if "resources" in self.fields:
            message.resources.CopyFrom(convert.resources_message(row))  # type: ignore[attr-defined]
        return message


KINDS = {
    "Mcp": ChildKind(
        "Mcp",
        mcps,
        {
            "name": mcp_name,
            "image": text(MAX_IMAGE),
            "command": text(4096),
            "resources": resources,
            "description": text(MAX_DESCRIPTION),
        },
        immutable=("name",),
        unique_name="mcps_agent_name_key",
        targeted_as="mcp_id",
    ),
    "Skill": ChildKind(
        "Skill",
        skills,
        {"name": text(64, required=True), "body": text(1024 * 1024), "description": text(MAX_DESCRIPTION)},
        unique_name="skills_agent_name_key",
    ),
    "Hook": ChildKind(
        "Hook",
        hooks,
        {
            "event": text(256),
            "function": text(4096),
            "image": text(MAX_IMAGE),
            "resources": resources,
            "description": text(MAX_DESCRIPTION),
        },
        targeted_as="hook_id",
    ),
}


class ChildHandlers:
    """Create, get, update, delete and list of one kind."""

    def __init__(
        self, kind: ChildKind, database: Database, permissions: AgentPermissions, events: AgentEvents
    ) -> None:
        self._kind = kind
        self._db = database
        self._permissions = permissions
        self._events = events

    def _response(self, verb: str, row: sa.Row[Any]) -> Any:
        return getattr(pb, f"{verb}{self._kind.name}Response")(**{self._kind.what: self._kind.message(row)})

    async def create(self, request: Any) -> Any:
        caller = current_caller().require_identity()
        agent_id = parse_uuid(request.agent_id.strip(), "agent_id")
        values: dict[str, Any] = {}
        for field, check in self._kind.fields.items():
            values.update(check(request, field))
        async with self._db.transaction() as connection:
            agent = await self._parent(connection, agent_id)
            await self._permissions.require(connection, caller, agent, CAN_EDIT_CONFIG)
            row = await self._write(
                connection,
                self._kind.table.insert()
                .values(**values, id=uuid.uuid4(), agent_id=agent_id)
                .returning(*self._kind.table.c),
            )
            await self._changed(connection, agent_id)
        return self._response("Create", row)

    async def get(self, request: Any) -> Any:
        child_id = parse_uuid(request.id.strip(), "id")
        async with self._db.transaction() as connection:
            row = await self._load(connection, child_id)
            await self._require_read(connection, row.agent_id)
        return self._response("Get", row)

    async def update(self, request: Any) -> Any:
        caller = current_caller().require_identity()
        child_id = parse_uuid(request.id.strip(), "id")
        present = [
            field
            for field in self._kind.fields
            if field not in self._kind.immutable and request.HasField(field)
        ]
        if not present:
            raise invalid_argument("id", "at least one field must be provided")
        values: dict[str, Any] = {}
        for field in present:
            values.update(self._kind.fields[field](request, field))
        table = self._kind.table
        async with self._db.transaction() as connection:
            row = await self._load(connection, child_id, lock=True)
            agent = await store.load_agent(connection, row.agent_id)
            await self._permissions.require(connection, caller, agent, CAN_EDIT_CONFIG)
            row = await self._write(
                connection,
                table.update()
                .where(table.c.id == child_id)
                .values(**values, updated_at=sa.func.now())
                .returning(*table.c),
            )
            await self._changed(connection, row.agent_id)
        return self._response("Update", row)

    async def delete(self, request: Any) -> Any:
        caller = current_caller().require_identity()
        child_id = parse_uuid(request.id.strip(), "id")
        table = self._kind.table
        async with self._db.transaction() as connection:
            row = await self._load(connection, child_id, lock=True)
            agent = await store.load_agent(connection, row.agent_id)
            await self._permissions.require(connection, caller, agent, CAN_EDIT_CONFIG)
            if self._kind.targeted_as is not None and await store.any_row(
                connection, TARGETING, self._kind.targeted_as, child_id
            ):
                raise failed_precondition(f"{self._kind.what} has sub-resources", "HAS_SUB_RESOURCES")
            await connection.execute(table.delete().where(table.c.id == child_id))
            await self._changed(connection, row.agent_id)
        return getattr(pb, f"Delete{self._kind.name}Response")()

    async def list(self, request: Any) -> Any:
        if not request.agent_id:
            raise invalid_argument("agent_id", "agent_id must be provided")
        agent_id = parse_uuid(request.agent_id.strip(), "agent_id")
        table = self._kind.table
        page = KeysetPage(
            request.page_token,
            request.page_size,
            scope=f"{self._kind.what}s:{agent_id}",
            sort=table.c.created_at,
            key=table.c.id,
        )
        async with self._db.transaction() as connection:
            if current_caller().identity_id is not None:
                await self._require_read(connection, agent_id)
            query = page.query(sa.select(table).where(table.c.agent_id == agent_id))
            rows, token = page.split((await connection.execute(query)).all())
        return getattr(pb, f"List{self._kind.name}sResponse")(
            **{f"{self._kind.what}s": [self._kind.message(row) for row in rows], "next_page_token": token}
        )

    async def _load(
        self, connection: AsyncConnection, child_id: uuid.UUID, *, lock: bool = False
    ) -> sa.Row[Any]:
        table = self._kind.table
        query = sa.select(table).where(table.c.id == child_id)
        row: sa.Row[Any] = await one_or_not_found(
            connection, query.with_for_update() if lock else query, self._kind.what
        )
        return row

    async def _parent(self, connection: AsyncConnection, agent_id: uuid.UUID) -> sa.Row[Any]:
        """The agent a new row will belong to; missing is FAILED_PRECONDITION (sheet §3.1)."""
        agent = await store.find_agent(connection, agent_id, lock=True)
        if agent is None:
            raise failed_precondition("agent not found", "AGENT_NOT_FOUND")
        return agent

    async def _require_read(self, connection: AsyncConnection, agent_id: uuid.UUID) -> None:
        """Platform callers and the agent itself read; others need can_read_config."""
        caller = current_caller().identity_id
        if caller is None or caller == agent_id:
            return
        agent = await store.find_agent(connection, agent_id)
        if agent is None or not await self._permissions.holds(connection, caller, agent, CAN_READ_CONFIG):
            raise permission_denied(f"{CAN_READ_CONFIG} on agent {agent_id} required")

    async def _write(self, connection: AsyncConnection, statement: Any) -> sa.Row[Any]:
        taken = f"the agent has a {self._kind.what} of that name already"
        return await store.write_one(
            connection, statement, {self._kind.unique_name: taken} if self._kind.unique_name else {}
        )

    async def _changed(self, connection: AsyncConnection, agent_id: uuid.UUID) -> None:
        agent = await store.touch_agent(connection, agent_id)
        await self._events.agent_changed(connection, agent, "updated")
