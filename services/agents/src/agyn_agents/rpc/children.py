"""An agent's sub-resources (sheet §3.5-3.7): MCPs, skills and hooks of the agent; ENVs, init
scripts, volume and image pull secret attachments of the agent or of one of its MCPs or
hooks. One implementation driven by the table of kinds (`kinds.py`; DESIGN §6).

Writes need `can_edit_config` on the owning agent, reads `can_read_config` or being that agent
itself; platform callers read everything. Every write bumps the owning agent's `updated_at`
in the same transaction and announces `agent.updated` (the orchestrator re-reads the agent).
Checks run in the sheet's order (§3.1): the request's shape, then the rows it names, then
permission, then what the rows must agree on, then the write.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from agyn_common.caller import current_caller
from agyn_common.db import Database, one_or_not_found
from agyn_common.errors import failed_precondition, invalid_argument, not_found, permission_denied
from agyn_common.pagination import KeysetPage
from agyn_common.validation import parse_uuid
from agynio.api.agents.v1 import agents_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_agents import store
from agyn_agents.events import AgentEvents
from agyn_agents.permissions import CAN_EDIT_CONFIG, CAN_READ_CONFIG, AgentPermissions
from agyn_agents.rpc.kinds import TARGETING, ChildKind
from agyn_agents.rpc.targets import owner_of, what


class ChildHandlers:
    """Create, get, update (unless the kind has none), delete and list of one kind."""

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
        target, target_id = self._kind.targets.chosen(request)
        values: dict[str, Any] = {}
        for name, spec in self._kind.fields.items():
            values.update(spec.check(request, name))
        table, link = self._kind.table, self._kind.link
        async with self._db.transaction() as connection:
            # Locks in the order every writer takes them: volume, MCP or hook, agent.
            linked = await self._linked(connection, values)
            agent = await self._owner_for_create(connection, target, target_id)
            await self._permissions.require(connection, caller, agent, CAN_EDIT_CONFIG)
            if link is not None and linked is not None and linked.organization_id != agent.organization_id:
                raise invalid_argument(link.column, f"the {link.what} belongs to another organization")
            row = await store.write_one(
                connection,
                table.insert().values(**values, id=uuid.uuid4(), **{target: target_id}).returning(*table.c),
                self._kind.conflicts,
            )
            await self._changed(connection, agent.id)
        return self._response("Create", row)

    async def get(self, request: Any) -> Any:
        child_id = parse_uuid(request.id.strip(), "id")
        async with self._db.transaction() as connection:
            row = await self._load(connection, child_id)
            await self._require_read(connection, row.owner_id)
        return self._response("Get", row)

    async def update(self, request: Any) -> Any:
        caller = current_caller().require_identity()
        child_id = parse_uuid(request.id.strip(), "id")
        checks = self._kind.updates
        if checks is None:
            raise TypeError(f"{self._kind.name} has no update")  # the servicer never routes one here
        present = [name for name in checks if request.HasField(name)]
        if not present:
            raise invalid_argument("id", "at least one field must be provided")
        values: dict[str, Any] = {}
        for name in present:
            values.update(checks[name](request, name))
        table = self._kind.table
        async with self._db.transaction() as connection:
            row = await self._load(connection, child_id, lock=True)
            agent = await store.load_agent(connection, row.owner_id)
            await self._permissions.require(connection, caller, agent, CAN_EDIT_CONFIG)
            row = await store.write_one(
                connection,
                table.update()
                .where(table.c.id == child_id)
                .values(**values, updated_at=sa.func.now())
                .returning(*table.c),
                self._kind.conflicts,
            )
            await self._changed(connection, agent.id)
        return self._response("Update", row)

    async def delete(self, request: Any) -> Any:
        caller = current_caller().require_identity()
        child_id = parse_uuid(request.id.strip(), "id")
        table = self._kind.table
        async with self._db.transaction() as connection:
            row = await self._load(connection, child_id, lock=True)
            agent = await store.load_agent(connection, row.owner_id)
            await self._permissions.require(connection, caller, agent, CAN_EDIT_CONFIG)
            if self._kind.targeted_as is not None and await store.any_row(
                connection, TARGETING, self._kind.targeted_as, child_id
            ):
                raise failed_precondition(f"{self._kind.label} has sub-resources", "HAS_SUB_RESOURCES")
            await connection.execute(table.delete().where(table.c.id == child_id))
            await self._changed(connection, agent.id)
        return getattr(pb, f"Delete{self._kind.name}Response")()

    async def list(self, request: Any) -> Any:
        filters = self._filters(request)
        table = self._kind.table
        page = KeysetPage(
            request.page_token,
            request.page_size,
            # A token pages the listing it came from: other filters refuse it.
            scope=f"{self._kind.what}s:" + ",".join(f"{name}={value}" for name, value in filters.items()),
            sort=table.c.created_at,
            key=table.c.id,
        )
        caller = current_caller().identity_id
        targeted = [name for name in self._kind.targets.columns if name in filters]
        async with self._db.transaction() as connection:
            if caller is not None:
                await self._require_list(connection, caller, filters, targeted)
            query = self._kind.targets.select(table).where(
                *(table.c[name] == value for name, value in filters.items())
            )
            rows, token = page.split((await connection.execute(page.query(query))).all())
            if caller is not None and not targeted:
                rows = await self._readable(connection, caller, rows)
        return getattr(pb, f"List{self._kind.name}sResponse")(
            **{f"{self._kind.what}s": [self._kind.message(row) for row in rows], "next_page_token": token}
        )

    def _filters(self, request: Any) -> dict[str, uuid.UUID]:
        """The list's filters that are set, each a UUID; at least one (sheet §3.5-3.7)."""
        names = self._kind.filters
        given = {name: getattr(request, name).strip() for name in names}
        filters = {name: parse_uuid(value, name) for name, value in given.items() if value}
        if not filters:
            wanted = names[0] if len(names) == 1 else "at least one of " + ", ".join(names)
            raise invalid_argument(names[0], f"{wanted} must be provided")
        return filters

    async def _require_list(
        self,
        connection: AsyncConnection,
        caller: uuid.UUID,
        filters: dict[str, uuid.UUID],
        targeted: Sequence[str],
    ) -> None:
        """An identity lists what it may read: each target filter's owning agent, or, listing
        by the linked thing alone, the rows `_readable` keeps (of an organization it is in)."""
        for name in targeted:
            owner = await owner_of(connection, name, filters[name])
            if owner is None:
                raise not_found(f"{what(name)} not found")
            await self._require_read(connection, owner)
        link = self._kind.link
        if not targeted and link is not None and link.table is not None:
            linked = await one_or_not_found(
                connection, sa.select(link.table).where(link.table.c.id == filters[link.column]), link.what
            )
            await self._permissions.require_organization(caller, "member", linked.organization_id)

    async def _readable(
        self, connection: AsyncConnection, caller: uuid.UUID, rows: Sequence[sa.Row[Any]]
    ) -> Sequence[sa.Row[Any]]:
        """The rows whose owning agent the caller may read; the others are dropped from the
        page, which may then be short (sheet §8 #14)."""
        owners = await store.find_agents(connection, {row.owner_id for row in rows} - {caller})
        readable = await self._permissions.holding(connection, caller, owners, CAN_READ_CONFIG)
        return [row for row in rows if row.owner_id in readable or row.owner_id == caller]

    async def _load(
        self, connection: AsyncConnection, child_id: uuid.UUID, *, lock: bool = False
    ) -> sa.Row[Any]:
        """The row with its owning agent's id (`owner_id`); NOT_FOUND when there is none."""
        table = self._kind.table
        query = self._kind.targets.select(table).where(table.c.id == child_id)
        row: sa.Row[Any] = await one_or_not_found(
            connection, query.with_for_update(of=table) if lock else query, self._kind.label
        )
        return row

    async def _linked(self, connection: AsyncConnection, values: dict[str, Any]) -> sa.Row[Any] | None:
        """The volume a new attachment links, kept until the transaction ends; missing is
        FAILED_PRECONDITION (sheet §3.5: it is referenced, not the parent). None for links to
        things of other services."""
        link = self._kind.link
        if link is None or link.table is None:
            return None
        query = sa.select(link.table).where(link.table.c.id == values[link.column])
        linked = (await connection.execute(query.with_for_update(read=True))).first()
        if linked is None:
            raise failed_precondition(f"{link.what} not found", f"{link.what.upper()}_NOT_FOUND")
        return linked

    async def _owner_for_create(
        self, connection: AsyncConnection, target: str, target_id: uuid.UUID
    ) -> sa.Row[Any]:
        """The agent a new row will belong to, through its target: the parent it is created
        under, so a missing one is NOT_FOUND (sheet §3.1, §8 #8). Both stay locked until the
        transaction ends."""
        owner = await owner_of(connection, target, target_id, lock=True)
        agent = None if owner is None else await store.find_agent(connection, owner, lock=True)
        if agent is None:
            raise not_found(f"{what(target)} not found")
        return agent

    async def _require_read(self, connection: AsyncConnection, agent_id: uuid.UUID) -> None:
        """Platform callers and the agent itself read; others need can_read_config."""
        caller = current_caller().identity_id
        if caller is None or caller == agent_id:
            return
        agent = await store.find_agent(connection, agent_id)
        if agent is None or not await self._permissions.holds(connection, caller, agent, CAN_READ_CONFIG):
            raise permission_denied(f"{CAN_READ_CONFIG} on agent {agent_id} required")

    async def _changed(self, connection: AsyncConnection, agent_id: uuid.UUID) -> None:
        agent = await store.touch_agent(connection, agent_id)
        await self._events.agent_changed(connection, agent, "updated")
