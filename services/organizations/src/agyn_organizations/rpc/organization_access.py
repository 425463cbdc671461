"""Organization relation checks and direct grants for other services (organizations sheet §4.4).

Not part of the upstream contract: OrganizationAccessService replaces OpenFGA `Check` and
`ListObjects` on `organization:<id>` with answers from this service's own tables.
"""

from __future__ import annotations

import uuid

from agyn_common.access import calling_workload
from agyn_common.db import Database
from agyn_common.errors import ServiceError, invalid_argument, not_found
from agyn_common.org_access import GRANTABLE_RELATIONS, MAX_BATCH, RELATIONS
from agyn_common.validation import parse_uuid
from agynio.api.organizations.v1 import access_pb2 as pb

from agyn_organizations import store
from agyn_organizations.events import OrganizationEvents
from agyn_organizations.relations import RULES, Relations, Standing, load_standing

Grant = tuple[uuid.UUID, uuid.UUID, str]  # identity, organization, relation


def _relation(value: str, field: str, allowed: frozenset[str] = RELATIONS) -> str:
    if value not in allowed:
        raise invalid_argument(
            field, f"unknown relation {value[:64]!r}; expected one of {', '.join(sorted(allowed))}"
        )
    return value


def _grant(grant: pb.OrganizationGrant, field: str) -> Grant:
    return (
        parse_uuid(grant.identity_id, f"{field}.identity_id"),
        parse_uuid(grant.organization_id, f"{field}.organization_id"),
        _relation(grant.relation, f"{field}.relation", GRANTABLE_RELATIONS),
    )


class OrganizationAccessHandlers:
    def __init__(self, db: Database, relations: Relations, events: OrganizationEvents) -> None:
        self._db = db
        self._relations = relations
        self._events = events

    async def check_relation(
        self, request: pb.CheckOrganizationRelationRequest
    ) -> pb.CheckOrganizationRelationResponse:
        identity_id = parse_uuid(request.identity_id, "identity_id")
        organization_id = parse_uuid(request.organization_id, "organization_id")
        relation = _relation(request.relation, "relation")
        async with self._db.transaction() as connection:
            allowed = await self._relations.holds(connection, identity_id, relation, organization_id)
        return pb.CheckOrganizationRelationResponse(allowed=allowed)

    async def batch_check_relations(
        self, request: pb.BatchCheckOrganizationRelationsRequest
    ) -> pb.BatchCheckOrganizationRelationsResponse:
        if len(request.checks) > MAX_BATCH:
            raise invalid_argument(
                "checks", f"batch size {len(request.checks)} exceeds maximum of {MAX_BATCH}"
            )
        seen: set[str] = set()
        for index, check in enumerate(request.checks):
            if not check.correlation_id or check.correlation_id in seen:
                raise invalid_argument(f"checks[{index}].correlation_id", "must be non-empty and unique")
            seen.add(check.correlation_id)
        response = pb.BatchCheckOrganizationRelationsResponse()
        standings: dict[tuple[uuid.UUID, uuid.UUID], Standing] = {}
        async with self._db.transaction() as connection:
            for index, check in enumerate(request.checks):
                result = response.results[check.correlation_id]
                try:
                    identity_id = parse_uuid(check.identity_id, f"checks[{index}].identity_id")
                    organization_id = parse_uuid(check.organization_id, f"checks[{index}].organization_id")
                    relation = _relation(check.relation, f"checks[{index}].relation")
                except ServiceError as error:  # one bad item does not spoil the others
                    result.error = error.message
                    continue
                key = (identity_id, organization_id)
                if key not in standings:
                    standings[key] = await load_standing(connection, identity_id, organization_id)
                result.allowed = await self._relations.evaluate(
                    standings[key], identity_id, [RULES[relation]]
                )
        return response

    async def list_organizations_for_relation(
        self, request: pb.ListOrganizationsForRelationRequest
    ) -> pb.ListOrganizationsForRelationResponse:
        identity_id = parse_uuid(request.identity_id, "identity_id")
        relation = _relation(request.relation, "relation")
        async with self._db.transaction() as connection:
            found = await self._relations.organizations_for(connection, identity_id, relation)
        return pb.ListOrganizationsForRelationResponse(organization_ids=[str(value) for value in found])

    async def write_grants(
        self, request: pb.WriteOrganizationGrantsRequest
    ) -> pb.WriteOrganizationGrantsResponse:
        total = len(request.writes) + len(request.deletes)
        if total > MAX_BATCH:
            raise invalid_argument("writes", f"{total} writes and deletes exceed the maximum of {MAX_BATCH}")
        writes = [_grant(grant, f"writes[{index}]") for index, grant in enumerate(request.writes)]
        deletes = [_grant(grant, f"deletes[{index}]") for index, grant in enumerate(request.deletes)]
        granted_by = calling_workload() or "unknown"
        async with self._db.transaction() as connection:
            # The organizations stay locked against deletion until the grants are in.
            wanted = {organization_id for _, organization_id, _ in writes + deletes}
            missing = wanted - await store.share_lock_organizations(connection, wanted)
            if missing:
                raise not_found(f"organization {sorted(missing)[0]} not found")
            for identity_id, organization_id, relation in writes:
                if await store.insert_grant(connection, organization_id, identity_id, relation, granted_by):
                    await self._events.grant_changed(connection, organization_id, identity_id, relation, True)
            for identity_id, organization_id, relation in deletes:
                if await store.delete_grant(connection, organization_id, identity_id, relation):
                    await self._events.grant_changed(
                        connection, organization_id, identity_id, relation, False
                    )
        return pb.WriteOrganizationGrantsResponse()
