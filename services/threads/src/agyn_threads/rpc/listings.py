"""Listings of threads: a participant's, and an organization's (with filters and a chosen sort)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC

from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import invalid_argument
from agyn_common.org_access import OrganizationAccess
from agyn_common.pagination import KeysetPage
from agyn_common.validation import parse_uuid
from agynio.api.threads.v1 import threads_pb2 as pb

from agyn_threads import convert, store
from agyn_threads.identities import Identities
from agyn_threads.models import threads
from agyn_threads.rpc.permissions import own_participant

SORT_COLUMNS = {
    pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_CREATED: threads.c.created_at,
    pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_UPDATED: threads.c.updated_at,
    pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_MESSAGE_COUNT: threads.c.message_count,
    pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_STATUS: threads.c.status,
}


class ThreadListings:
    def __init__(self, database: Database, organizations: OrganizationAccess, identities: Identities) -> None:
        self._db = database
        self._organizations = organizations
        self._identities = identities

    async def of_participant(self, request: pb.GetThreadsRequest) -> pb.GetThreadsResponse:
        """The participant's threads, most recently updated first."""
        participant = own_participant(request.participant_id)
        page = KeysetPage(
            request.page_token,
            request.page_size,
            scope=f"participant:{participant}",
            sort=threads.c.updated_at,
            key=threads.c.id,
            descending=True,
        )
        async with self._db.transaction() as connection:
            rows, token = page.split(await store.participant_threads(connection, participant, page))
            listed = convert.thread_messages(rows, await store.participants_of(connection, rows))
        return pb.GetThreadsResponse(threads=listed, next_page_token=token)

    async def of_organization(
        self, request: pb.ListOrganizationThreadsRequest
    ) -> pb.ListOrganizationThreadsResponse:
        """The organization's threads, filtered and sorted as asked, participants with nicknames."""
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id.strip(), "organization_id")
        statuses = sorted(set(request.filter.status_in))
        for index, value in enumerate(request.filter.status_in):
            if value not in store.STATUSES:
                raise invalid_argument(f"filter.status_in[{index}]", "invalid thread status")
        participants = sorted(
            {
                parse_uuid(value.strip(), f"filter.participant_id_in[{index}]")
                for index, value in enumerate(request.filter.participant_id_in)
            }
        )
        after = (
            request.filter.created_after.ToDatetime(tzinfo=UTC)
            if request.filter.HasField("created_after")
            else None
        )
        before = (
            request.filter.created_before.ToDatetime(tzinfo=UTC)
            if request.filter.HasField("created_before")
            else None
        )
        field = request.sort.field or pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_CREATED
        if field not in SORT_COLUMNS:
            raise invalid_argument("sort.field", "invalid sort field")
        direction = request.sort.direction or pb.SORT_DIRECTION_DESC
        if direction not in (pb.SORT_DIRECTION_ASC, pb.SORT_DIRECTION_DESC):
            raise invalid_argument("sort.direction", "invalid sort direction")
        await self._organizations.require(caller, "can_view_threads", organization_id)
        # The token is bound to the whole request shape; hashed, as the filters can be long.
        shape = f"{organization_id}|{statuses}|{participants}|{after}|{before}|{field}|{direction}"
        page = _organization_page(
            request,
            scope="org:" + hashlib.sha256(shape.encode()).hexdigest()[:24],
            sort=field,
            descending=direction == pb.SORT_DIRECTION_DESC,
        )
        async with self._db.transaction() as connection:
            rows, token = page.split(
                await store.organization_threads(
                    connection,
                    organization_id,
                    page,
                    statuses=statuses,
                    participants=participants,
                    created_after=after,
                    created_before=before,
                )
            )
            listed = convert.thread_messages(rows, await store.participants_of(connection, rows))
        names = await self._identities.nicknames(
            caller,
            organization_id,
            sorted({uuid.UUID(p.id) for thread in listed for p in thread.participants}),
        )
        for thread in listed:
            for participant in thread.participants:
                participant.nickname = names.get(participant.id, "")
        return pb.ListOrganizationThreadsResponse(threads=listed, next_page_token=token)

    async def of_organization_legacy(
        self, request: pb.GetOrganizationThreadsRequest
    ) -> pb.GetOrganizationThreadsResponse:
        """The organization's threads, newest first, of one status when given."""
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id.strip(), "organization_id")
        if request.status and request.status not in store.STATUSES:
            raise invalid_argument("status", "invalid thread status")
        await self._organizations.require(caller, "can_view_threads", organization_id)
        page = _organization_page(
            request,
            scope=f"org-legacy:{organization_id}:{request.status}",
            sort=pb.LIST_ORGANIZATION_THREADS_SORT_FIELD_CREATED,
            descending=True,
        )
        async with self._db.transaction() as connection:
            rows, token = page.split(
                await store.organization_threads(
                    connection, organization_id, page, statuses=[request.status] if request.status else []
                )
            )
            listed = convert.thread_messages(rows, await store.participants_of(connection, rows))
        return pb.GetOrganizationThreadsResponse(threads=listed, next_page_token=token)


def _organization_page(
    request: pb.ListOrganizationThreadsRequest | pb.GetOrganizationThreadsRequest,
    *,
    scope: str,
    sort: pb.ListOrganizationThreadsSortField,
    descending: bool,
) -> KeysetPage:
    """Organization listings break ties by id ascending, whichever way they sort (sheet §8 #10)."""
    return KeysetPage(
        request.page_token,
        request.page_size,
        scope=scope,
        sort=SORT_COLUMNS[sort],
        key=threads.c.id,
        descending=descending,
        key_descending=False,
    )
