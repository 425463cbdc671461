"""OrganizationAccessService: the organization relation checks other services make (sheet §4.4).

Not part of the upstream contract: it replaces OpenFGA `Check`/`ListObjects` on
`organization:<id>` with answers from this service's own tables.
"""

from __future__ import annotations

import uuid

import grpc
import sqlalchemy as sa
from agyn_common.access import calling_workload
from agyn_common.db import Database
from agyn_common.errors import ServiceError, invalid_argument, not_found
from agyn_common.org_access import GRANTABLE_RELATIONS, MAX_BATCH, RELATIONS
from agyn_common.validation import parse_uuid
from agynio.api.organizations.v1 import access_pb2 as pb
from agynio.api.organizations.v1 import access_pb2_grpc
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_organizations.events import OrganizationEvents
from agyn_organizations.models import organization_grants, organizations
from agyn_organizations.relations import RULES, Relations, Standing, load_standing


def _relation(value: str, field: str, allowed: frozenset[str] = RELATIONS) -> str:
    if value not in allowed:
        raise invalid_argument(
            field, f"unknown relation {value[:64]!r}; expected one of {', '.join(sorted(allowed))}"
        )
    return value


class OrganizationAccessServicer(access_pb2_grpc.OrganizationAccessServiceServicer):
    def __init__(self, db: Database, relations: Relations, events: OrganizationEvents) -> None:
        self._db = db
        self._relations = relations
        self._events = events

    async def CheckOrganizationRelation(
        self, request: pb.CheckOrganizationRelationRequest, context: grpc.aio.ServicerContext
    ) -> pb.CheckOrganizationRelationResponse:
        identity_id = parse_uuid(request.identity_id, "identity_id")
        organization_id = parse_uuid(request.organization_id, "organization_id")
        relation = _relation(request.relation, "relation")
        async with self._db.transaction() as connection:
            allowed = await self._relations.holds(connection, identity_id, relation, organization_id)
        return pb.CheckOrganizationRelationResponse(allowed=allowed)

    async def BatchCheckOrganizationRelations(
        self, request: pb.BatchCheckOrganizationRelationsRequest, context: grpc.aio.ServicerContext
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

    async def ListOrganizationsForRelation(
        self, request: pb.ListOrganizationsForRelationRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOrganizationsForRelationResponse:
        identity_id = parse_uuid(request.identity_id, "identity_id")
        relation = _relation(request.relation, "relation")
        async with self._db.transaction() as connection:
            found = await self._relations.organizations_for(connection, identity_id, relation)
        return pb.ListOrganizationsForRelationResponse(organization_ids=[str(value) for value in found])

    async def WriteOrganizationGrants(
        self, request: pb.WriteOrganizationGrantsRequest, context: grpc.aio.ServicerContext
    ) -> pb.WriteOrganizationGrantsResponse:
        total = len(request.writes) + len(request.deletes)
        if total > MAX_BATCH:
            raise invalid_argument("writes", f"{total} writes and deletes exceed the maximum of {MAX_BATCH}")
        writes = [self._grant(grant, f"writes[{index}]") for index, grant in enumerate(request.writes)]
        deletes = [self._grant(grant, f"deletes[{index}]") for index, grant in enumerate(request.deletes)]
        granted_by = calling_workload() or "unknown"
        async with self._db.transaction() as connection:
            await self._require_organizations(connection, {grant[1] for grant in writes + deletes})
            for identity_id, organization_id, relation in writes:
                inserted = await connection.execute(
                    postgresql.insert(organization_grants)
                    .values(
                        organization_id=organization_id,
                        identity_id=identity_id,
                        relation=relation,
                        granted_by=granted_by,
                    )
                    .on_conflict_do_nothing()
                    .returning(organization_grants.c.relation)
                )
                if inserted.first() is not None:  # not there before
                    await self._events.grant_changed(connection, organization_id, identity_id, relation, True)
            for identity_id, organization_id, relation in deletes:
                deleted = await connection.execute(
                    organization_grants.delete()
                    .where(
                        organization_grants.c.organization_id == organization_id,
                        organization_grants.c.identity_id == identity_id,
                        organization_grants.c.relation == relation,
                    )
                    .returning(organization_grants.c.relation)
                )
                if deleted.first() is not None:
                    await self._events.grant_changed(
                        connection, organization_id, identity_id, relation, False
                    )
        return pb.WriteOrganizationGrantsResponse()

    @staticmethod
    def _grant(grant: pb.OrganizationGrant, field: str) -> tuple[uuid.UUID, uuid.UUID, str]:
        return (
            parse_uuid(grant.identity_id, f"{field}.identity_id"),
            parse_uuid(grant.organization_id, f"{field}.organization_id"),
            _relation(grant.relation, f"{field}.relation", GRANTABLE_RELATIONS),
        )

    @staticmethod
    async def _require_organizations(connection: AsyncConnection, wanted: set[uuid.UUID]) -> None:
        """NOT_FOUND naming an unknown organization; the rows stay locked against deletion."""
        found = await connection.execute(
            sa.select(organizations.c.id).where(organizations.c.id.in_(wanted)).with_for_update(read=True)
        )
        missing = wanted - {row.id for row in found}
        if missing:
            raise not_found(f"organization {sorted(missing)[0]} not found")
