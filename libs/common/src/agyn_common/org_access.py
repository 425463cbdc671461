"""Organization relations for every org-scoped service (DESIGN §3; organizations sheet §4.4).

Organizations owns the facts (memberships, grants) and answers checks through
`OrganizationAccessService`. Services ask through `OrganizationAccess`, which keeps answers
for a few seconds and drops them as soon as Organizations (membership, grant, deletion) or
Users (cluster role) announces a change on the bus. While the bus is away nothing is served
from the cache, and everything cached is dropped when it comes back, since changes may have
been missed meanwhile.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import grpc
from agynio.api.organizations.v1 import access_pb2, access_pb2_grpc
from nats.aio.msg import Msg

from agyn_common.bus import EVENTS_SUBJECT_PREFIX, Bus, event_ids
from agyn_common.cache import TtlCache
from agyn_common.errors import dependency_unavailable, permission_denied

log = logging.getLogger(__name__)

# The relations an identity can hold on an organization (gateway-auth-mesh §4.5).
RELATIONS = frozenset(
    {
        "member",
        "owner",
        "can_invite",
        "can_manage_members",
        "can_manage_organization",
        "can_view_threads",
        "can_view_workloads",
        "can_view_volumes",
        "can_list_sandboxes",
        "can_add_member",
        "can_create_thread",
        "can_create_sandbox",
        "can_create_environment",
        "thread_create",
        "thread_write",
        "participant_add",
        "inbox_write",
    }
)
# Relations another service may grant directly to an identity without a membership row.
GRANTABLE_RELATIONS = frozenset({"member", "thread_create", "thread_write", "participant_add", "inbox_write"})

ORGANIZATION_EVENTS = f"{EVENTS_SUBJECT_PREFIX}.organizations.>"
CLUSTER_ROLE_EVENTS = f"{EVENTS_SUBJECT_PREFIX}.users.user.cluster_role_changed"
MAX_BATCH = 100

CheckKey = tuple[uuid.UUID, uuid.UUID, str]  # identity, organization, relation
ListKey = tuple[uuid.UUID, str]  # identity, relation


class OrganizationAccess:
    """Ask Organizations whether an identity holds a relation on an organization."""

    def __init__(self, channel: grpc.aio.Channel, *, ttl: float = 5.0, max_entries: int = 10_000) -> None:
        self._stub = access_pb2_grpc.OrganizationAccessServiceStub(channel)
        self._checks: TtlCache[CheckKey, bool] = TtlCache(ttl=ttl, max_entries=max_entries, needs_bus=True)
        self._lists: TtlCache[ListKey, tuple[uuid.UUID, ...]] = TtlCache(
            ttl=ttl, max_entries=max_entries, needs_bus=True
        )

    def attach(self, bus: Bus) -> None:
        """Enable caching, kept true by the change events on `bus`."""
        self._checks.follow(bus)
        self._lists.follow(bus)
        bus.subscribe(ORGANIZATION_EVENTS, self._on_event)
        bus.subscribe(CLUSTER_ROLE_EVENTS, self._on_event)

    async def check(self, identity_id: uuid.UUID, relation: str, organization_id: uuid.UUID) -> bool:
        return await self.check_any(identity_id, (relation,), organization_id)

    async def check_any(
        self, identity_id: uuid.UUID, relations: Iterable[str], organization_id: uuid.UUID
    ) -> bool:
        """True when the identity holds at least one of `relations` (one round trip at most)."""
        wanted = list(dict.fromkeys(relations))
        _check_vocabulary(wanted)
        missing = []
        for relation in wanted:
            cached = self._checks.get((identity_id, organization_id, relation))
            if cached:
                return True
            if cached is None:
                missing.append(relation)
        if not missing:
            return False
        generation = self._checks.generation
        if len(missing) == 1:
            reply = await self._call(
                self._stub.CheckOrganizationRelation,
                access_pb2.CheckOrganizationRelationRequest(
                    identity_id=str(identity_id), organization_id=str(organization_id), relation=missing[0]
                ),
            )
            answers = {missing[0]: reply.allowed}
        else:
            checks = [
                access_pb2.OrganizationRelationCheck(
                    identity_id=str(identity_id),
                    organization_id=str(organization_id),
                    relation=relation,
                    correlation_id=relation,
                )
                for relation in missing
            ]
            batch = await self._call(
                self._stub.BatchCheckOrganizationRelations,
                access_pb2.BatchCheckOrganizationRelationsRequest(checks=checks),
            )
            answers = {relation: batch.results[relation].allowed for relation in missing}
        for relation, allowed in answers.items():
            self._checks.put((identity_id, organization_id, relation), allowed, generation)
        return any(answers.values())

    async def require(self, identity_id: uuid.UUID, relation: str, organization_id: uuid.UUID) -> None:
        """PERMISSION_DENIED unless the identity holds `relation` on the organization."""
        if not await self.check(identity_id, relation, organization_id):
            raise permission_denied(f"{relation} on organization {organization_id} required")

    async def organizations_for(self, identity_id: uuid.UUID, relation: str) -> tuple[uuid.UUID, ...]:
        """Every organization where the identity holds `relation`, by id ascending."""
        _check_vocabulary([relation])
        key = (identity_id, relation)
        cached = self._lists.get(key)
        if cached is not None:
            return cached
        generation = self._lists.generation
        reply = await self._call(
            self._stub.ListOrganizationsForRelation,
            access_pb2.ListOrganizationsForRelationRequest(identity_id=str(identity_id), relation=relation),
        )
        organizations = tuple(uuid.UUID(value) for value in reply.organization_ids)
        self._lists.put(key, organizations, generation)
        return organizations

    def forget(self, *, organization_id: uuid.UUID | None, identity_id: uuid.UUID | None) -> None:
        """Drop what a change to (organization, identity) may have made wrong; None = any."""
        if organization_id is None and identity_id is None:
            self.clear()
            return
        self._checks.drop_where(
            lambda key: (
                (identity_id is None or key[0] == identity_id)
                and (organization_id is None or key[1] == organization_id)
            )
        )
        # A list depends on every organization: a change to one drops the identity's lists,
        # and an organization-wide change (created, deleted) drops them all.
        self._lists.drop_where(lambda key: identity_id is None or key[0] == identity_id)

    def clear(self) -> None:
        self._checks.clear()
        self._lists.clear()

    async def _on_event(self, message: Msg) -> None:
        try:
            ids = event_ids(message, "organization_id", "identity_id")
        except ValueError:
            log.warning("unreadable event on %s; dropping every cached answer", message.subject)
            self.clear()
            return
        self.forget(organization_id=ids["organization_id"], identity_id=ids["identity_id"])

    @staticmethod
    async def _call(method: Callable[[Any], Awaitable[Any]], request: Any) -> Any:
        try:
            return await method(request)
        except grpc.aio.AioRpcError as error:
            raise dependency_unavailable("organizations", error) from error


def _check_vocabulary(relations: list[str]) -> None:
    unknown = [relation for relation in relations if relation not in RELATIONS]
    if unknown:
        raise ValueError(f"unknown organization relation(s): {', '.join(unknown)}")
