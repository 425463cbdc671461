"""Memberships: invitations, additions, removals, roles and listings (organizations sheet §3, §8).

Memberships are the facts behind the organization relations: activating, removing or
re-roling one is a single transaction, with its `membership.changed` event in the outbox, so
caches elsewhere drop the old answer as soon as it commits.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import already_exists, failed_precondition, permission_denied
from agyn_common.pagination import clamp_page_size, decode_uuid_page_token, split_page
from agyn_common.timestamps import parse_future_timestamp
from agyn_common.validation import normalize_nickname, parse_uuid
from agynio.api.organizations.v1 import organizations_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_organizations import store
from agyn_organizations.convert import membership_message, role_value, status_filter
from agyn_organizations.events import OrganizationEvents
from agyn_organizations.nicknames import Nicknames
from agyn_organizations.relations import Relations


def _expired(membership: Any) -> bool:
    return membership.expires_at is not None and membership.expires_at <= datetime.now(UTC)


def _effective_owner(membership: Any) -> bool:
    return membership.role == "owner" and membership.status == "active" and not _expired(membership)


class MembershipHandlers:
    def __init__(
        self, db: Database, events: OrganizationEvents, relations: Relations, nicknames: Nicknames
    ) -> None:
        self._db = db
        self._events = events
        self._relations = relations
        self._nicknames = nicknames

    async def create_membership(self, request: pb.CreateMembershipRequest) -> pb.CreateMembershipResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        identity_id = parse_uuid(request.identity_id, "identity_id")
        role = role_value(request.role)
        expires_at = (
            parse_future_timestamp(request.expires_at, "expires_at")
            if request.HasField("expires_at")
            else None
        )
        async with self._db.transaction() as connection:
            # Held until commit so that the organization cannot be deleted under the new row.
            if not await store.share_lock_organizations(connection, {organization_id}):
                raise permission_denied("not allowed to add members to this organization")
            if await self._relations.holds(connection, caller, "can_add_member", organization_id):
                status = "active"  # a cluster admin adds directly
            elif await self._relations.holds(connection, caller, "can_invite", organization_id):
                status = "pending"  # an owner invites; the invitee accepts
            else:
                raise permission_denied("not allowed to add members to this organization")
            await self._nicknames.require_identity(caller, identity_id)
            row = await store.add_membership(
                connection, organization_id, identity_id, role=role, status=status, expires_at=expires_at
            )
            if row is None:
                raise already_exists("the identity already has a membership in this organization")
            await self._events.membership_changed(
                connection, row, "added" if status == "active" else "invited"
            )
        if status == "active":
            await self._nicknames.seed_default(caller, organization_id, identity_id)
        return pb.CreateMembershipResponse(membership=membership_message(row))

    async def accept_membership(self, request: pb.AcceptMembershipRequest) -> pb.AcceptMembershipResponse:
        caller = current_caller().require_identity()
        membership_id = parse_uuid(request.membership_id, "membership_id")
        async with self._db.transaction() as connection:
            row = await self._invitation_of(connection, caller, membership_id)
            if _expired(row):
                raise failed_precondition("the invitation has expired", "MEMBERSHIP_EXPIRED")
            row = await store.update_membership(connection, membership_id, status="active")
            await self._events.membership_changed(connection, row, "accepted")
        await self._nicknames.seed_default(caller, row.organization_id, caller)
        return pb.AcceptMembershipResponse(membership=membership_message(row))

    async def decline_membership(self, request: pb.DeclineMembershipRequest) -> pb.DeclineMembershipResponse:
        caller = current_caller().require_identity()
        membership_id = parse_uuid(request.membership_id, "membership_id")
        async with self._db.transaction() as connection:
            row = await self._invitation_of(connection, caller, membership_id)
            await store.delete_membership(connection, membership_id)
            await self._events.membership_changed(connection, row, "declined")
        return pb.DeclineMembershipResponse()

    async def remove_membership(self, request: pb.RemoveMembershipRequest) -> pb.RemoveMembershipResponse:
        caller = current_caller().require_identity()
        membership_id = parse_uuid(request.membership_id, "membership_id")
        async with self._db.transaction() as connection:
            row = await store.lock_membership_and_organization(connection, membership_id)
            if row.identity_id != caller:  # anyone may leave; removing others needs the right
                await self._relations.require(connection, caller, "can_manage_members", row.organization_id)
            await self._keep_an_owner(connection, caller, row, "removed")
            await store.delete_membership(connection, membership_id)
            await self._events.membership_changed(connection, row, "removed")
        return pb.RemoveMembershipResponse()

    async def update_membership_role(
        self, request: pb.UpdateMembershipRoleRequest
    ) -> pb.UpdateMembershipRoleResponse:
        caller = current_caller().require_identity()
        membership_id = parse_uuid(request.membership_id, "membership_id")
        role = role_value(request.role)
        async with self._db.transaction() as connection:
            row = await store.lock_membership_and_organization(connection, membership_id)
            await self._relations.require(connection, caller, "can_manage_members", row.organization_id)
            if row.role != role:
                if role != "owner":
                    await self._keep_an_owner(connection, caller, row, "demoted")
                row = await store.update_membership(connection, membership_id, role=role)
                await self._events.membership_changed(connection, row, "role_changed")
        return pb.UpdateMembershipRoleResponse(membership=membership_message(row))

    async def list_members(self, request: pb.ListMembersRequest) -> pb.ListMembersResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        async with self._db.transaction() as connection:
            await self._relations.require(connection, caller, "can_manage_members", organization_id)
            page, token = await self._membership_page(
                connection, store.in_organization(organization_id), request
            )
        return pb.ListMembersResponse(
            memberships=[membership_message(row) for row in page], next_page_token=token
        )

    async def list_my_memberships(self, request: pb.ListMyMembershipsRequest) -> pb.ListMyMembershipsResponse:
        caller = current_caller().require_identity()
        async with self._db.transaction() as connection:
            page, token = await self._membership_page(connection, store.of_identity(caller), request)
        return pb.ListMyMembershipsResponse(
            memberships=[membership_message(row) for row in page], next_page_token=token
        )

    async def set_my_org_nickname(self, request: pb.SetMyOrgNicknameRequest) -> pb.SetMyOrgNicknameResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id, "organization_id")
        nickname = normalize_nickname(request.nickname)
        async with self._db.transaction() as connection:
            if not await store.has_active_membership(connection, caller, organization_id):
                raise permission_denied("active membership required")
        await self._nicknames.set_own(caller, organization_id, nickname)
        return pb.SetMyOrgNicknameResponse()

    @staticmethod
    async def _invitation_of(connection: AsyncConnection, caller: uuid.UUID, membership_id: uuid.UUID) -> Any:
        """A pending membership addressed to the caller (Accept and Decline)."""
        row = await store.lock_membership(connection, membership_id)
        if row.identity_id != caller:
            raise permission_denied("only the invited identity may answer an invitation")
        if row.status != "pending":
            raise failed_precondition("membership is not pending", "MEMBERSHIP_NOT_PENDING")
        return row

    async def _keep_an_owner(
        self, connection: AsyncConnection, caller: uuid.UUID, membership: Any, action: str
    ) -> None:
        """Refuse to take away an organization's last owner, unless a cluster admin does it (§8 #5).

        The caller holds the organization's row lock, so two owners cannot remove each other at once.
        """
        if not _effective_owner(membership) or await store.has_another_active_owner(connection, membership):
            return
        if not await self._relations.is_cluster_admin(caller):
            raise failed_precondition(f"the last owner of an organization cannot be {action}", "LAST_OWNER")

    @staticmethod
    async def _membership_page(
        connection: AsyncConnection,
        scope: sa.ColumnElement[bool],
        request: pb.ListMembersRequest | pb.ListMyMembershipsRequest,
    ) -> tuple[Sequence[Any], str]:
        """Paged by id, the token being the last id (base64url): the documented token format."""
        after = decode_uuid_page_token(request.page_token)
        page_size = clamp_page_size(request.page_size)
        rows = await store.membership_page(
            connection, scope, status_filter(request.status), after, page_size + 1
        )
        return split_page(rows, page_size)
