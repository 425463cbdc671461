"""OrganizationsService: organizations and their memberships (organizations sheet §3, §4.2, §8).

Memberships are the facts behind the organization relations: activating, removing or
re-roling one is a single transaction, with its `membership.changed` event in the outbox, so
caches elsewhere drop the old answer as soon as it commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import grpc
import sqlalchemy as sa
from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import (
    already_exists,
    failed_precondition,
    invalid_argument,
    not_found,
    permission_denied,
)
from agyn_common.pagination import clamp_page_size, decode_uuid_page_token, split_page
from agyn_common.timestamps import parse_future_timestamp, timestamp
from agyn_common.validation import normalize_nickname, parse_uuid
from agynio.api.organizations.v1 import organizations_pb2 as pb
from agynio.api.organizations.v1 import organizations_pb2_grpc
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_organizations.events import OrganizationEvents
from agyn_organizations.models import active_membership, memberships, organization_grants, organizations
from agyn_organizations.nicknames import Nicknames
from agyn_organizations.relations import Relations

MAX_NAME = 256
ROLES: dict[int, str] = {pb.MEMBERSHIP_ROLE_OWNER: "owner", pb.MEMBERSHIP_ROLE_MEMBER: "member"}
ROLE_VALUES = {"owner": pb.MEMBERSHIP_ROLE_OWNER, "member": pb.MEMBERSHIP_ROLE_MEMBER}
STATUSES: dict[int, str] = {pb.MEMBERSHIP_STATUS_PENDING: "pending", pb.MEMBERSHIP_STATUS_ACTIVE: "active"}
STATUS_VALUES = {"pending": pb.MEMBERSHIP_STATUS_PENDING, "active": pb.MEMBERSHIP_STATUS_ACTIVE}


def organization_message(row: Any) -> pb.Organization:
    return pb.Organization(
        id=str(row.id),
        name=row.name,
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
    )


def membership_message(row: Any) -> pb.Membership:
    return pb.Membership(
        id=str(row.id),
        organization_id=str(row.organization_id),
        identity_id=str(row.identity_id),
        role=ROLE_VALUES[row.role],
        status=STATUS_VALUES[row.status],
        expires_at=timestamp(row.expires_at),
        created_at=timestamp(row.created_at),
        updated_at=timestamp(row.updated_at),
    )


def _name(value: str) -> str:
    name = value.strip()
    if not name:
        raise invalid_argument("name", "must not be empty")
    if len(name) > MAX_NAME:
        raise invalid_argument("name", f"must be at most {MAX_NAME} characters, got {len(name)}")
    return name


def _role(value: int) -> str:
    if value not in ROLES:
        raise invalid_argument("role", "must be MEMBERSHIP_ROLE_OWNER or MEMBERSHIP_ROLE_MEMBER")
    return ROLES[value]


def _expired(row: Any) -> bool:
    return row.expires_at is not None and row.expires_at <= datetime.now(UTC)


def _effective_owner(row: Any) -> bool:
    return row.role == "owner" and row.status == "active" and not _expired(row)


class OrganizationsServicer(organizations_pb2_grpc.OrganizationsServiceServicer):
    def __init__(
        self, db: Database, events: OrganizationEvents, relations: Relations, nicknames: Nicknames
    ) -> None:
        self._db = db
        self._events = events
        self._relations = relations
        self._nicknames = nicknames

    # --- organizations -------------------------------------------------------------------

    async def CreateOrganization(
        self, request: pb.CreateOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateOrganizationResponse:
        caller = current_caller().require_identity()
        name = _name(request.name)

        async def create(connection: AsyncConnection) -> pb.CreateOrganizationResponse:
            organization = (
                await connection.execute(
                    organizations.insert().values(id=uuid.uuid4(), name=name).returning(*organizations.c)
                )
            ).one()
            owner = (
                await connection.execute(
                    memberships.insert()
                    .values(
                        id=uuid.uuid4(),
                        organization_id=organization.id,
                        identity_id=caller,
                        role="owner",
                        status="active",
                    )
                    .returning(*memberships.c)
                )
            ).one()
            await self._events.organization_created(connection, organization.id, caller)
            await self._events.membership_changed(connection, owner, "added")
            return pb.CreateOrganizationResponse(organization=organization_message(organization))

        async with self._db.transaction() as connection:
            response = await create(connection)
        await self._nicknames.seed_default(caller, uuid.UUID(response.organization.id), caller)
        return response

    async def GetOrganization(
        self, request: pb.GetOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetOrganizationResponse:
        caller = current_caller().identity_id  # none: a platform service's own call
        organization_id = parse_uuid(request.id, "id")
        async with self._db.transaction() as connection:
            row = await self._load_organization(connection, organization_id)
            if caller is not None and not (
                await self._has_open_invitation(connection, caller, organization_id)
                or await self._relations.holds_any(
                    connection, caller, ("member", "can_manage_organization"), organization_id
                )
            ):
                raise permission_denied("not a member of this organization")
        return pb.GetOrganizationResponse(organization=organization_message(row))

    async def UpdateOrganization(
        self, request: pb.UpdateOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateOrganizationResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.id, "id")
        async with self._db.transaction() as connection:
            await self._load_organization(connection, organization_id, lock=True)
            if not request.HasField("name"):
                raise invalid_argument("name", "at least one field must be provided")
            name = _name(request.name)
            await self._require(connection, caller, "can_manage_organization", organization_id)
            row = (
                await connection.execute(
                    organizations.update()
                    .where(organizations.c.id == organization_id)
                    .values(name=name, updated_at=sa.func.now())
                    .returning(*organizations.c)
                )
            ).one()
            await self._events.organization_updated(connection, organization_id, ["name"])
        return pb.UpdateOrganizationResponse(organization=organization_message(row))

    async def DeleteOrganization(
        self, request: pb.DeleteOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteOrganizationResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.id, "id")
        async with self._db.transaction() as connection:
            await self._load_organization(connection, organization_id, lock=True)
            await self._require(connection, caller, "can_manage_organization", organization_id)
            # Explicit rather than left to the cascade: this is the whole of what a deletion removes here.
            await connection.execute(
                organization_grants.delete().where(organization_grants.c.organization_id == organization_id)
            )
            await connection.execute(
                memberships.delete().where(memberships.c.organization_id == organization_id)
            )
            await connection.execute(organizations.delete().where(organizations.c.id == organization_id))
            await self._events.organization_deleted(connection, organization_id)
        return pb.DeleteOrganizationResponse()

    async def ListOrganizations(
        self, request: pb.ListOrganizationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListOrganizationsResponse:
        caller = current_caller().require_identity()
        after = decode_uuid_page_token(request.page_token)
        page_size = clamp_page_size(request.page_size)
        query = sa.select(organizations)
        if not await self._relations.is_cluster_admin(caller):
            query = query.where(
                organizations.c.id.in_(self._relations.granted_organizations(caller, "member"))
            )
        if after is not None:
            query = query.where(organizations.c.id > after)
        async with self._db.transaction() as connection:
            rows = (await connection.execute(query.order_by(organizations.c.id).limit(page_size + 1))).all()
        page, token = split_page(rows, page_size)
        return pb.ListOrganizationsResponse(
            organizations=[organization_message(row) for row in page], next_page_token=token
        )

    async def ListAccessibleOrganizations(
        self, request: pb.ListAccessibleOrganizationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAccessibleOrganizationsResponse:
        identity_id = parse_uuid(request.identity_id, "identity_id")
        async with self._db.transaction() as connection:
            accessible = {
                *await self._relations.organizations_for(connection, identity_id, "member"),
                *await self._relations.organizations_for(connection, identity_id, "can_add_member"),
            }
            rows = (
                await connection.execute(
                    sa.select(organizations)
                    .where(organizations.c.id.in_(accessible))
                    .order_by(organizations.c.id)
                )
            ).all()
        return pb.ListAccessibleOrganizationsResponse(
            organizations=[organization_message(row) for row in rows]
        )

    # --- memberships ---------------------------------------------------------------------

    async def CreateMembership(
        self, request: pb.CreateMembershipRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateMembershipResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        identity_id = parse_uuid(request.identity_id, "identity_id")
        role = _role(request.role)
        expires_at = (
            parse_future_timestamp(request.expires_at, "expires_at")
            if request.HasField("expires_at")
            else None
        )
        async with self._db.transaction() as connection:
            # Held until commit so that the organization cannot be deleted under the new row.
            exists = await connection.execute(
                sa.select(organizations.c.id)
                .where(organizations.c.id == organization_id)
                .with_for_update(read=True)
            )
            if exists.first() is None:
                raise permission_denied("not allowed to add members to this organization")
            if await self._relations.holds(connection, caller, "can_add_member", organization_id):
                status = "active"  # a cluster admin adds directly
            elif await self._relations.holds(connection, caller, "can_invite", organization_id):
                status = "pending"  # an owner invites; the invitee accepts
            else:
                raise permission_denied("not allowed to add members to this organization")
            await self._nicknames.require_identity(caller, identity_id)
            row = (
                await connection.execute(
                    postgresql.insert(memberships)
                    .values(
                        id=uuid.uuid4(),
                        organization_id=organization_id,
                        identity_id=identity_id,
                        role=role,
                        status=status,
                        expires_at=expires_at,
                    )
                    .on_conflict_do_nothing(index_elements=["organization_id", "identity_id"])
                    .returning(*memberships.c)
                )
            ).first()
            if row is None:
                raise already_exists("the identity already has a membership in this organization")
            await self._events.membership_changed(
                connection, row, "added" if status == "active" else "invited"
            )
        if status == "active":
            await self._nicknames.seed_default(caller, organization_id, identity_id)
        return pb.CreateMembershipResponse(membership=membership_message(row))

    async def AcceptMembership(
        self, request: pb.AcceptMembershipRequest, context: grpc.aio.ServicerContext
    ) -> pb.AcceptMembershipResponse:
        caller = current_caller().require_identity()
        membership_id = parse_uuid(request.membership_id, "membership_id")
        async with self._db.transaction() as connection:
            row = await self._invitation_of(connection, caller, membership_id)
            if _expired(row):
                raise failed_precondition("the invitation has expired", "MEMBERSHIP_EXPIRED")
            row = await self._update_membership(connection, membership_id, status="active")
            await self._events.membership_changed(connection, row, "accepted")
        await self._nicknames.seed_default(caller, row.organization_id, caller)
        return pb.AcceptMembershipResponse(membership=membership_message(row))

    async def DeclineMembership(
        self, request: pb.DeclineMembershipRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeclineMembershipResponse:
        caller = current_caller().require_identity()
        membership_id = parse_uuid(request.membership_id, "membership_id")
        async with self._db.transaction() as connection:
            row = await self._invitation_of(connection, caller, membership_id)
            await connection.execute(memberships.delete().where(memberships.c.id == membership_id))
            await self._events.membership_changed(connection, row, "declined")
        return pb.DeclineMembershipResponse()

    async def RemoveMembership(
        self, request: pb.RemoveMembershipRequest, context: grpc.aio.ServicerContext
    ) -> pb.RemoveMembershipResponse:
        caller = current_caller().require_identity()
        membership_id = parse_uuid(request.membership_id, "membership_id")
        async with self._db.transaction() as connection:
            row = await self._lock_membership_and_organization(connection, membership_id)
            if row.identity_id != caller:  # anyone may leave; removing others needs the right
                await self._require(connection, caller, "can_manage_members", row.organization_id)
            await self._keep_an_owner(connection, caller, row, "removed")
            await connection.execute(memberships.delete().where(memberships.c.id == membership_id))
            await self._events.membership_changed(connection, row, "removed")
        return pb.RemoveMembershipResponse()

    async def UpdateMembershipRole(
        self, request: pb.UpdateMembershipRoleRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateMembershipRoleResponse:
        caller = current_caller().require_identity()
        membership_id = parse_uuid(request.membership_id, "membership_id")
        role = _role(request.role)
        async with self._db.transaction() as connection:
            row = await self._lock_membership_and_organization(connection, membership_id)
            await self._require(connection, caller, "can_manage_members", row.organization_id)
            if row.role != role:
                if role != "owner":
                    await self._keep_an_owner(connection, caller, row, "demoted")
                row = await self._update_membership(connection, membership_id, role=role)
                await self._events.membership_changed(connection, row, "role_changed")
        return pb.UpdateMembershipRoleResponse(membership=membership_message(row))

    async def ListMembers(
        self, request: pb.ListMembersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMembersResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        async with self._db.transaction() as connection:
            await self._require(connection, caller, "can_manage_members", organization_id)
            page, token = await self._membership_page(
                connection, memberships.c.organization_id == organization_id, request
            )
        return pb.ListMembersResponse(
            memberships=[membership_message(row) for row in page], next_page_token=token
        )

    async def ListMyMemberships(
        self, request: pb.ListMyMembershipsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMyMembershipsResponse:
        caller = current_caller().require_identity()
        async with self._db.transaction() as connection:
            page, token = await self._membership_page(
                connection, memberships.c.identity_id == caller, request
            )
        return pb.ListMyMembershipsResponse(
            memberships=[membership_message(row) for row in page], next_page_token=token
        )

    async def SetMyOrgNickname(
        self, request: pb.SetMyOrgNicknameRequest, context: grpc.aio.ServicerContext
    ) -> pb.SetMyOrgNicknameResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        nickname = normalize_nickname(request.nickname)
        async with self._db.transaction() as connection:
            active = await connection.execute(
                sa.select(memberships.c.id).where(
                    memberships.c.organization_id == organization_id,
                    memberships.c.identity_id == caller,
                    active_membership(),
                )
            )
            if active.first() is None:
                raise permission_denied("active membership required")
        await self._nicknames.set_own(caller, organization_id, nickname)
        return pb.SetMyOrgNicknameResponse()

    # --- helpers -------------------------------------------------------------------------

    async def _require(
        self, connection: AsyncConnection, caller: uuid.UUID, relation: str, organization_id: uuid.UUID
    ) -> None:
        if not await self._relations.holds(connection, caller, relation, organization_id):
            raise permission_denied(f"{relation} on this organization required")

    @staticmethod
    async def _load_organization(
        connection: AsyncConnection, organization_id: uuid.UUID, *, lock: bool = False
    ) -> Any:
        query = sa.select(organizations).where(organizations.c.id == organization_id)
        row = (await connection.execute(query.with_for_update() if lock else query)).first()
        if row is None:
            raise not_found("organization not found")
        return row

    @staticmethod
    async def _load_membership(connection: AsyncConnection, membership_id: uuid.UUID) -> Any:
        row = (
            await connection.execute(
                sa.select(memberships).where(memberships.c.id == membership_id).with_for_update()
            )
        ).first()
        if row is None:
            raise not_found("membership not found")
        return row

    async def _lock_membership_and_organization(
        self, connection: AsyncConnection, membership_id: uuid.UUID
    ) -> Any:
        """Lock the membership's organization, then the membership: the order DeleteOrganization
        takes them in, so that the two never wait on each other in a cycle."""
        organization_id = (
            await connection.execute(
                sa.select(memberships.c.organization_id).where(memberships.c.id == membership_id)
            )
        ).scalar_one_or_none()
        if organization_id is not None:
            await connection.execute(
                sa.select(organizations.c.id).where(organizations.c.id == organization_id).with_for_update()
            )
        return await self._load_membership(connection, membership_id)  # NOT_FOUND if deleted meanwhile

    async def _invitation_of(
        self, connection: AsyncConnection, caller: uuid.UUID, membership_id: uuid.UUID
    ) -> Any:
        """A pending membership addressed to the caller (Accept and Decline)."""
        row = await self._load_membership(connection, membership_id)
        if row.identity_id != caller:
            raise permission_denied("only the invited identity may answer an invitation")
        if row.status != "pending":
            raise failed_precondition("membership is not pending", "MEMBERSHIP_NOT_PENDING")
        return row

    @staticmethod
    async def _update_membership(connection: AsyncConnection, membership_id: uuid.UUID, **values: str) -> Any:
        return (
            await connection.execute(
                memberships.update()
                .where(memberships.c.id == membership_id)
                .values(**values, updated_at=sa.func.now())
                .returning(*memberships.c)
            )
        ).one()

    @staticmethod
    async def _has_open_invitation(
        connection: AsyncConnection, identity_id: uuid.UUID, organization_id: uuid.UUID
    ) -> bool:
        row = await connection.execute(
            sa.select(memberships.c.id).where(
                memberships.c.organization_id == organization_id,
                memberships.c.identity_id == identity_id,
                memberships.c.status == "pending",
                sa.or_(memberships.c.expires_at.is_(None), memberships.c.expires_at > sa.func.now()),
            )
        )
        return row.first() is not None

    async def _keep_an_owner(
        self, connection: AsyncConnection, caller: uuid.UUID, row: Any, action: str
    ) -> None:
        """Refuse to take away an organization's last owner, unless a cluster admin does it (§8 #5).

        The caller holds the organization's row lock, so two owners cannot remove each other at once.
        """
        if not _effective_owner(row):
            return
        others = await connection.execute(
            sa.select(memberships.c.id).where(
                memberships.c.organization_id == row.organization_id,
                memberships.c.id != row.id,
                memberships.c.role == "owner",
                active_membership(),
            )
        )
        if others.first() is None and not await self._relations.is_cluster_admin(caller):
            raise failed_precondition(f"the last owner of an organization cannot be {action}", "LAST_OWNER")

    @staticmethod
    async def _membership_page(
        connection: AsyncConnection,
        scope: sa.ColumnElement[bool],
        request: pb.ListMembersRequest | pb.ListMyMembershipsRequest,
    ) -> tuple[Sequence[Any], str]:
        after = decode_uuid_page_token(request.page_token)
        page_size = clamp_page_size(request.page_size)
        query = sa.select(memberships).where(scope)
        if request.status in STATUSES:  # UNSPECIFIED or unknown: no filter
            query = query.where(memberships.c.status == STATUSES[request.status])
        if after is not None:
            query = query.where(memberships.c.id > after)
        rows = (await connection.execute(query.order_by(memberships.c.id).limit(page_size + 1))).all()
        return split_page(rows, page_size)
