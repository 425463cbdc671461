"""Agents: create, read, update, delete, list, and resolving an agent's identity (sheet §3.2).

Identity callers (through the Gateway) are checked against the agent relations of
`permissions`; platform callers without an identity were admitted by the method table and
read everything, across organizations (sheet §4.3).

Every agent is also a platform identity (`identity`): creating, renaming and deleting one
writes to Identity and Organizations from inside the writing transaction, and undoes those
writes when a later step or the commit fails.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import failed_precondition, invalid_argument, permission_denied
from agyn_common.pagination import KeysetPage
from agyn_common.validation import check_length, normalize_nickname, parse_uuid
from agynio.api.agents.v1 import agents_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_agents import convert, store
from agyn_agents.durations import positive_duration
from agyn_agents.events import AgentEvents
from agyn_agents.fields import MAX_DESCRIPTION, MAX_IMAGE, Check, resources, text
from agyn_agents.identity import AgentIdentities, step
from agyn_agents.models import agents
from agyn_agents.permissions import CAN_DELETE, CAN_EDIT_CONFIG, CAN_READ_CONFIG, AgentPermissions

DEFAULT_IDLE_TIMEOUT = "5m"  # sheet §3.2: an absent idle_timeout
# Limits the contract leaves open (sheet §8 #10 for name and role; DESIGN §6 for the rest).
MAX_NAME = 64
MAX_ROLE = 64
MAX_CONFIGURATION = 1024 * 1024
MAX_CAPABILITIES = 64
MAX_CAPABILITY = 256

AgentRequest = pb.CreateAgentRequest | pb.UpdateAgentRequest


def _model(request: AgentRequest, field: str) -> dict[str, Any]:
    return {field: parse_uuid(request.model.strip(), field)}


def _configuration(request: AgentRequest, field: str) -> dict[str, Any]:
    # Opaque, but "" stands for the documented default, an empty JSON object (sheet §8 #16).
    return {field: check_length(request.configuration, field, max_chars=MAX_CONFIGURATION) or "{}"}


def _nickname(request: AgentRequest, field: str) -> dict[str, Any]:
    # "" is none (on update: remove it); anything else must be a handle Identity accepts, by
    # the same rule Identity applies (sheet §3.2: `^[a-z0-9_-]+$`, at most 32, trimmed).
    return {field: normalize_nickname(request.nickname, field) if request.nickname else ""}


def _idle_timeout(request: AgentRequest, field: str) -> dict[str, Any]:
    return {field: positive_duration(request.idle_timeout, field)}


def _capabilities(request: AgentRequest, field: str) -> dict[str, Any]:
    if len(request.capabilities) > MAX_CAPABILITIES:
        raise invalid_argument(field, f"at most {MAX_CAPABILITIES} capabilities")
    for index, capability in enumerate(request.capabilities):
        check_length(capability, f"{field}[{index}]", max_chars=MAX_CAPABILITY, required=True)
    return {field: list(request.capabilities)}


def _availability(request: AgentRequest, field: str) -> dict[str, Any]:
    if request.availability not in convert.AVAILABILITIES:
        raise invalid_argument(field, "must be AGENT_AVAILABILITY_INTERNAL or AGENT_AVAILABILITY_PRIVATE")
    return {field: convert.AVAILABILITIES[request.availability]}


# Each settable field of an agent and how a request's value becomes its columns.
FIELDS: dict[str, Check] = {
    "name": text(MAX_NAME, required=True),
    "role": text(MAX_ROLE),
    "model": _model,
    "description": text(MAX_DESCRIPTION),
    "configuration": _configuration,
    "image": text(MAX_IMAGE),
    "resources": resources,
    "init_image": text(MAX_IMAGE, required=True),
    "nickname": _nickname,
    "idle_timeout": _idle_timeout,
    "capabilities": _capabilities,
    "availability": _availability,
}


class AgentHandlers:
    def __init__(
        self,
        database: Database,
        permissions: AgentPermissions,
        events: AgentEvents,
        identities: AgentIdentities,
    ) -> None:
        self._db = database
        self._permissions = permissions
        self._events = events
        self._identities = identities

    async def create(self, request: pb.CreateAgentRequest) -> pb.CreateAgentResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id.strip(), "organization_id")
        values: dict[str, Any] = {"idle_timeout": DEFAULT_IDLE_TIMEOUT}
        for field, column_values in FIELDS.items():
            if field != "idle_timeout" or request.HasField("idle_timeout"):
                values.update(column_values(request, field))
        await self._permissions.require_organization(caller, "owner", organization_id)
        identities = self._identities
        # With an idempotency key the transaction is the pipeline's: a repeated call waits for
        # the first and replays its response, so the remote steps run once per agent; a retry
        # after a failure (undone, the pipeline's commit failing included) makes a new agent.
        async with self._db.transaction() as connection:
            row = await store.insert_agent(
                connection, {**values, "id": uuid.uuid4(), "organization_id": organization_id}
            )
            # The creator owns the agent (sheet §4.1: the creator's owner tuple).
            await store.set_role(connection, row.id, caller, "owner")
            await self._events.agent_changed(connection, row, "created")
            # Cannot be undone; left behind by a rolled-back agent, it names nothing (§8 #17).
            await identities.register(row.id)
            await step(
                connection,
                f"membership of agent {row.id}",
                identities.admit(row.id, organization_id),
                lambda: identities.dismiss(row.id, organization_id),
            )
            if row.nickname:  # the agent sets its own handle: it is a member by now
                await step(
                    connection,
                    f"nickname of agent {row.id}",
                    identities.set_nickname(row.id, organization_id, row.nickname),
                    lambda: identities.set_nickname(row.id, organization_id, ""),
                )
        return pb.CreateAgentResponse(agent=convert.agent_message(row, configuration=True))

    async def get(self, request: pb.GetAgentRequest) -> pb.GetAgentResponse:
        agent_id = parse_uuid(request.id.strip(), "id")
        caller = current_caller().identity_id
        async with self._db.transaction() as connection:
            row = await store.load_agent(connection, agent_id)
            if caller is None or caller == row.id:  # a platform caller, or the agent itself
                return pb.GetAgentResponse(agent=convert.agent_message(row, configuration=True))
            if not await self._permissions.in_organization(caller, row.organization_id):
                raise permission_denied(f"member on organization {row.organization_id} required")
            readable = await self._permissions.holds(connection, caller, row, CAN_READ_CONFIG)
        return pb.GetAgentResponse(agent=convert.agent_message(row, configuration=readable))

    async def resolve_identity(
        self, request: pb.ResolveAgentIdentityRequest
    ) -> pb.ResolveAgentIdentityResponse:
        identity_id = parse_uuid(request.identity_id.strip(), "identity_id")
        async with self._db.transaction() as connection:
            row = await store.load_agent(connection, identity_id)
        return pb.ResolveAgentIdentityResponse(agent_id=str(row.id), organization_id=str(row.organization_id))

    async def update(self, request: pb.UpdateAgentRequest) -> pb.UpdateAgentResponse:
        caller = current_caller().require_identity()
        agent_id = parse_uuid(request.id.strip(), "id")
        # A repeated field has no presence: an empty capabilities list is "not sent" (sheet §8 #6).
        present = [
            field
            for field in FIELDS
            if (bool(request.capabilities) if field == "capabilities" else request.HasField(field))
        ]
        if not present:
            raise invalid_argument("id", "at least one field must be provided")
        values: dict[str, Any] = {}
        for field in present:
            values.update(FIELDS[field](request, field))
        # Availability decides who may talk to the agent: the delete-level right (sheet §4.2).
        relations = {CAN_DELETE if field == "availability" else CAN_EDIT_CONFIG for field in present}
        identities = self._identities
        async with self._db.transaction() as connection:
            before = await store.load_agent(connection, agent_id, lock=True)
            for relation in sorted(relations):
                await self._permissions.require(connection, caller, before, relation)
            # The row first: its unique index refuses a handle another agent of the
            # organization holds before Identity is asked.
            row = await store.update_agent(connection, agent_id, values)
            if row.nickname != before.nickname:  # "" removes it
                await step(
                    connection,
                    f"nickname of agent {row.id}",
                    identities.set_nickname(row.id, row.organization_id, row.nickname),
                    lambda: identities.set_nickname(row.id, row.organization_id, before.nickname),
                )
            # Availability is Agents' own data (permissions.py): nothing to write elsewhere.
            await self._events.agent_changed(connection, row, "updated")
        return pb.UpdateAgentResponse(agent=convert.agent_message(row, configuration=True))

    async def delete(self, request: pb.DeleteAgentRequest) -> pb.DeleteAgentResponse:
        caller = current_caller().require_identity()
        agent_id = parse_uuid(request.id.strip(), "id")
        identities = self._identities
        async with self._db.transaction() as connection:
            row = await store.load_agent(connection, agent_id, lock=True)
            await self._permissions.require(connection, caller, row, CAN_DELETE)
            if await store.has_children(connection, agent_id):
                raise failed_precondition("agent has sub-resources", "AGENT_HAS_SUB_RESOURCES")
            await store.delete_agent(connection, agent_id)  # its roles go with it
            await self._events.agent_changed(connection, row, "deleted")
            if row.nickname:  # while the agent is still a member, who may remove its own handle
                await step(
                    connection,
                    f"nickname of agent {row.id}",
                    identities.set_nickname(row.id, row.organization_id, ""),
                    lambda: identities.set_nickname(row.id, row.organization_id, row.nickname),
                )
            await step(
                connection,
                f"membership of agent {row.id}",
                identities.dismiss(row.id, row.organization_id),
                lambda: identities.admit(row.id, row.organization_id),
            )
        return pb.DeleteAgentResponse()

    async def list(self, request: pb.ListAgentsRequest) -> pb.ListAgentsResponse:
        caller = current_caller().identity_id
        organization_id: uuid.UUID | None = None
        if caller is not None or request.organization_id:
            # Identity callers list one organization; platform callers may list them all.
            organization_id = parse_uuid(request.organization_id.strip(), "organization_id")
        page = KeysetPage(
            request.page_token,
            request.page_size,
            scope=f"agents:{organization_id or '*'}",
            sort=agents.c.created_at,
            key=agents.c.id,
        )
        if caller is not None and organization_id is not None:
            await self._permissions.require_organization(caller, "member", organization_id)
        async with self._db.transaction() as connection:
            rows, token = page.split(await store.list_agents(connection, organization_id, page))
            readable = await self._readable(connection, caller, rows)
        return pb.ListAgentsResponse(
            agents=[convert.agent_message(row, configuration=row.id in readable) for row in rows],
            next_page_token=token,
        )

    async def _readable(
        self, connection: AsyncConnection, caller: uuid.UUID | None, rows: Any
    ) -> set[uuid.UUID]:
        """The agents of `rows` whose configuration the caller sees."""
        if caller is None:
            return {row.id for row in rows}
        others: list[sa.Row[Any]] = [row for row in rows if row.id != caller]
        held = await self._permissions.holding(connection, caller, others, CAN_READ_CONFIG)
        return held | ({caller} & {row.id for row in rows})
