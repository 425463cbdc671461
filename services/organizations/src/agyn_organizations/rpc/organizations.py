"""Organizations: create, read, rename, delete and list them (organizations sheet §3, §4.2)."""

from __future__ import annotations

import uuid

from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import invalid_argument, permission_denied
from agyn_common.pagination import clamp_page_size, decode_uuid_page_token, split_page
from agyn_common.validation import check_length, parse_uuid
from agynio.api.organizations.v1 import organizations_pb2 as pb

from agyn_organizations import store
from agyn_organizations.convert import organization_message
from agyn_organizations.events import OrganizationEvents
from agyn_organizations.nicknames import Nicknames
from agyn_organizations.relations import Relations

MAX_NAME = 256


def _name(value: str) -> str:
    return check_length(value.strip(), "name", max_chars=MAX_NAME, required=True)


class OrganizationHandlers:
    def __init__(
        self, db: Database, events: OrganizationEvents, relations: Relations, nicknames: Nicknames
    ) -> None:
        self._db = db
        self._events = events
        self._relations = relations
        self._nicknames = nicknames

    async def create_organization(
        self, request: pb.CreateOrganizationRequest
    ) -> pb.CreateOrganizationResponse:
        caller = current_caller().require_identity()
        name = _name(request.name)
        async with self._db.transaction() as connection:
            organization, owner = await store.insert_organization(connection, name, caller)
            await self._events.organization_created(connection, organization.id, caller)
            await self._events.membership_changed(connection, owner, "added")
        await self._nicknames.seed_default(caller, organization.id, caller)
        return pb.CreateOrganizationResponse(organization=organization_message(organization))

    async def get_organization(self, request: pb.GetOrganizationRequest) -> pb.GetOrganizationResponse:
        caller = current_caller().identity_id  # none: a platform service's own call
        organization_id = parse_uuid(request.id, "id")
        async with self._db.transaction() as connection:
            row = await store.load_organization(connection, organization_id)
            if caller is not None and not (
                await store.has_open_invitation(connection, caller, organization_id)
                or await self._relations.holds_any(
                    connection, caller, ("member", "can_manage_organization"), organization_id
                )
            ):
                raise permission_denied("not a member of this organization")
        return pb.GetOrganizationResponse(organization=organization_message(row))

    async def update_organization(
        self, request: pb.UpdateOrganizationRequest
    ) -> pb.UpdateOrganizationResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.id, "id")
        async with self._db.transaction() as connection:
            await store.load_organization(connection, organization_id, lock=True)
            if not request.HasField("name"):
                raise invalid_argument("name", "at least one field must be provided")
            name = _name(request.name)
            await self._relations.require(connection, caller, "can_manage_organization", organization_id)
            row = await store.rename_organization(connection, organization_id, name)
            await self._events.organization_updated(connection, organization_id, ["name"])
        return pb.UpdateOrganizationResponse(organization=organization_message(row))

    async def delete_organization(
        self, request: pb.DeleteOrganizationRequest
    ) -> pb.DeleteOrganizationResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.id, "id")
        async with self._db.transaction() as connection:
            await store.load_organization(connection, organization_id, lock=True)
            await self._relations.require(connection, caller, "can_manage_organization", organization_id)
            await store.delete_organization(connection, organization_id)
            await self._events.organization_deleted(connection, organization_id)
        return pb.DeleteOrganizationResponse()

    async def list_organizations(self, request: pb.ListOrganizationsRequest) -> pb.ListOrganizationsResponse:
        """A cluster admin sees every organization, anyone else those they are a member of.

        Paged by id, the token being the last id (base64url): the documented token format.
        """
        caller = current_caller().require_identity()
        after = decode_uuid_page_token(request.page_token)
        page_size = clamp_page_size(request.page_size)
        among = (
            None
            if await self._relations.is_cluster_admin(caller)
            else self._relations.granted_organizations(caller, "member")
        )
        async with self._db.transaction() as connection:
            rows = await store.organization_page(connection, among, after, page_size + 1)
        page, token = split_page(rows, page_size)
        return pb.ListOrganizationsResponse(
            organizations=[organization_message(row) for row in page], next_page_token=token
        )

    async def list_accessible_organizations(
        self, request: pb.ListAccessibleOrganizationsRequest
    ) -> pb.ListAccessibleOrganizationsResponse:
        identity_id = parse_uuid(request.identity_id, "identity_id")
        async with self._db.transaction() as connection:
            accessible: set[uuid.UUID] = {
                *await self._relations.organizations_for(connection, identity_id, "member"),
                *await self._relations.organizations_for(connection, identity_id, "can_add_member"),
            }
            rows = await store.organizations_by_id(connection, accessible)
        return pb.ListAccessibleOrganizationsResponse(
            organizations=[organization_message(row) for row in rows]
        )
