"""Which rooms a caller may subscribe to (threads-notifications sheet B3, "Room authorization").

Each relation is answered by the service that owns its data (DESIGN §3): a participant room
by identity equality, an organization room by Organizations (`member`), an agent room by
`member` on the agent's organization, which Agents names; a workload or volume room by
`member` on the record's organization, which Runners names; a trace room by `member` on the
organization of the trace's spans, which Tracing names (files-tracing B.4, B.8-8: a trace
with no span yet cannot be followed). The cluster-wide `workloads` room is for platform
callers only, never for an identity.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

from agyn_common.agent_access import AgentAccess
from agyn_common.errors import invalid_argument, permission_denied
from agyn_common.org_access import OrganizationAccess
from agyn_common.rooms import TRACE_KIND, unique_rooms

from agyn_notifications.record_organizations import RecordOrganizations, RunnerRecord

MAX_ROOMS = 256
ME = "me"
# Kinds whose `me` id stands for the caller (sheet B3; HEAD's `instance_inbox:me` waits for
# the agent-instance identity type).
ME_KINDS = frozenset({"thread_participant"})


def has_me_id(room: str) -> bool:
    _, separator, identifier = room.strip().partition(":")
    return bool(separator) and identifier.strip() == ME


def requested_rooms(values: Sequence[str], identity: uuid.UUID, field: str = "rooms") -> list[str]:
    """The canonical rooms of a Subscribe, `thread_participant:me` rewritten to the caller."""
    if not values:
        raise invalid_argument(field, "rooms required")
    if len(values) > MAX_ROOMS:
        raise invalid_argument(field, f"at most {MAX_ROOMS} rooms")
    rewritten = []
    for value in values:
        kind = value.strip().partition(":")[0]
        # Any other kind keeps `me` verbatim: an invalid id for UUID kinds, denied otherwise.
        rewritten.append(f"{kind}:{identity}" if kind in ME_KINDS and has_me_id(value) else value)
    return unique_rooms(rewritten, field)


class RoomAccess:
    def __init__(
        self,
        organizations: OrganizationAccess,
        agents: AgentAccess,
        runners: RecordOrganizations[RunnerRecord] | None,
        traces: RecordOrganizations[bytes] | None,
    ) -> None:
        self._organizations = organizations
        self._agents = agents
        # None: the service is not deployed, and its rooms are denied.
        self._runners = runners
        self._traces = traces

    async def authorize(self, identity: uuid.UUID, rooms: Iterable[str]) -> None:
        """PERMISSION_DENIED at the first room the caller may not follow."""
        for room in rooms:
            if not await self._allowed(identity, room):
                raise permission_denied(f"not allowed to subscribe to room {room}")

    async def _allowed(self, identity: uuid.UUID, room: str) -> bool:
        kind, _, identifier = room.partition(":")
        if kind == "thread_participant":
            return identifier == str(identity)  # canonical lowercase on both sides
        if kind == "organization":
            return await self._organizations.check(identity, "member", uuid.UUID(identifier))
        organization: uuid.UUID | None = None
        if kind == "agent":
            organization = await self._agents.organization_of(uuid.UUID(identifier))
        elif kind in ("workload", "volume") and self._runners is not None:
            organization = await self._runners.organization_of((kind, uuid.UUID(identifier)))
        elif kind == TRACE_KIND and self._traces is not None:
            organization = await self._traces.organization_of(bytes.fromhex(identifier))
        # Every other room (the HEAD-era kinds, flat rooms such as the platform-only
        # `workloads`) is denied until its owning service exists here to say which
        # organization it belongs to; an unknown kind is denied for good.
        return organization is not None and await self._organizations.check(identity, "member", organization)
