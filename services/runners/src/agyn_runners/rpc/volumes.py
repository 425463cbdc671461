"""Volume records: one claim provisioned on one runner for one (definition, thread) (sheet §3.3).

Written by the orchestrator; read through the Gateway (checked with `can_view_volumes` on the
volume's organization) and by platform callers. GetVolume and ListVolumes carry the
definition's name and attachments from Agents.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

import sqlalchemy as sa
from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import invalid_argument
from agyn_common.pagination import clamp_page_size, decode_uuid_page_token, split_page
from agyn_common.validation import check_length, parse_uuid
from agynio.api.runners.v1 import runners_pb2 as pb

from agyn_runners import convert, store
from agyn_runners.events import RunnerEvents
from agyn_runners.models import volumes
from agyn_runners.names import Names, NameSource
from agyn_runners.permissions import CAN_VIEW_VOLUMES, Permissions
from agyn_runners.rpc.listing import (
    checked_sort,
    common_filters,
    direction,
    keyset,
    scope,
    sort_by_name,
)
from agyn_runners.rpc.sampled import sampled_entries

MAX_TEXT = 4096
MAX_SCANNED = 1000  # rows one ListVolumes reads looking for matches of its in-memory filters
SIZE = re.compile(r"\d{1,12}(\.\d{1,6})?")  # a non-negative decimal (§8 #14)
# Filter kinds → the attachment kind they match (UNATTACHED: no attachment at all).
ATTACHED_TO: dict[int, int] = {
    pb.VOLUME_ATTACHMENT_FILTER_KIND_AGENT: pb.ATTACHMENT_KIND_AGENT,
    pb.VOLUME_ATTACHMENT_FILTER_KIND_MCP: pb.ATTACHMENT_KIND_MCP,
    pb.VOLUME_ATTACHMENT_FILTER_KIND_HOOK: pb.ATTACHMENT_KIND_HOOK,
}


def _status(value: int, field: str = "status") -> str:
    return convert.enum_text(convert.VOLUME_STATUS, value, field)


async def _message(names: Names, row: Any) -> pb.Volume:
    return convert.volume_message(
        row, volume_name=await names.volume(row.volume_id), attachments=await names.attachments(row.volume_id)
    )


class VolumeHandlers:
    def __init__(
        self, database: Database, permissions: Permissions, events: RunnerEvents, names: NameSource
    ) -> None:
        self._db = database
        self._permissions = permissions
        self._events = events
        self._names = names

    async def create(self, request: pb.CreateVolumeRequest) -> pb.CreateVolumeResponse:
        values: dict[str, Any] = {
            field: parse_uuid(getattr(request, field).strip(), field)
            for field in ("id", "volume_id", "thread_id", "runner_id", "agent_id", "organization_id")
        }
        size = check_length(request.size_gb.strip(), "size_gb", max_chars=32, required=True)
        if not SIZE.fullmatch(size):
            raise invalid_argument("size_gb", "must be a non-negative decimal number")
        values.update(size_gb=size, status=_status(request.status))
        async with self._db.transaction() as connection:
            row = await store.insert(connection, "volume", values)
        return pb.CreateVolumeResponse(volume=convert.volume_message(row))

    async def update(self, request: pb.UpdateVolumeRequest) -> pb.UpdateVolumeResponse:
        volume_id = parse_uuid(request.id.strip(), "id")
        values: dict[str, Any] = {}
        if request.HasField("status"):
            values["status"] = _status(request.status)
        if request.HasField("instance_id"):
            values["instance_id"] = check_length(
                request.instance_id.strip(), "instance_id", max_chars=MAX_TEXT, required=True
            )
        for field in ("removed_at", "last_metering_sampled_at"):
            if request.HasField(field):
                values[field] = getattr(request, field).ToDatetime(tzinfo=UTC)
        if not values:
            raise invalid_argument("id", "at least one field must be provided")
        async with self._db.transaction() as connection:
            before = await store.load(connection, "volume", volume_id, lock=True)
            row = await store.update(connection, "volume", volume_id, values)
            await self._events.volume_changed(connection, before, row)
        return pb.UpdateVolumeResponse(volume=convert.volume_message(row))

    async def get(self, request: pb.GetVolumeRequest) -> pb.GetVolumeResponse:
        volume_id = parse_uuid(request.id.strip(), "id")
        caller = current_caller().identity_id
        async with self._db.read() as connection:
            row = await store.load(connection, "volume", volume_id)
        if caller is not None:
            await self._permissions.require(caller, CAN_VIEW_VOLUMES, row.organization_id)
        return pb.GetVolumeResponse(volume=await _message(self._names(), row))

    async def list_by_thread(self, request: pb.ListVolumesByThreadRequest) -> pb.ListVolumesByThreadResponse:
        caller = current_caller().identity_id
        thread_id = parse_uuid(request.thread_id.strip(), "thread_id")
        size = clamp_page_size(request.page_size)
        after = decode_uuid_page_token(request.page_token)
        query = sa.select(volumes).where(volumes.c.thread_id == thread_id)
        if after is not None:
            query = query.where(volumes.c.id > after)
        async with self._db.read() as connection:
            rows = (await connection.execute(query.order_by(volumes.c.id).limit(size + 1))).all()
        page, token = split_page(rows, size)
        if caller is not None:
            visible = await self._permissions.member_of(caller, {row.organization_id for row in page})
            page = [row for row in page if row.organization_id in visible]
        return pb.ListVolumesByThreadResponse(
            volumes=[convert.volume_message(row) for row in page], next_page_token=token
        )

    async def list(self, request: pb.ListVolumesRequest) -> pb.ListVolumesResponse:
        caller = current_caller().identity_id
        given = request.filter
        statuses = [
            _status(value, f"{field}[{index}]")
            for field, values in (("filter.status_in", given.status_in), ("statuses", request.statuses))
            for index, value in enumerate(values[: len(convert.VOLUME_STATUS) + 1])
        ]
        filtered = common_filters(volumes, request, statuses, with_identity=caller is not None)
        conditions, organization_id, runner_ids = (
            filtered.conditions,
            filtered.organization_id,
            filtered.runner_ids,
        )
        kinds: set[int] = set()
        for index, kind in enumerate(given.attached_to_kind_in[:8]):
            if kind not in pb.VolumeAttachmentFilterKind.values() or kind == 0:
                raise invalid_argument(
                    f"filter.attached_to_kind_in[{index}]", f"must be a defined kind, got {kind}"
                )
            kinds.add(kind)
        substring = check_length(
            given.volume_name_substring.strip(), "filter.volume_name_substring", max_chars=256
        ).lower()
        field = checked_sort(request.sort, pb.ListVolumesSortField)
        descending = direction(request.sort.direction, default_descending=False)
        if caller is not None and organization_id is not None:
            await self._permissions.require(caller, CAN_VIEW_VOLUMES, organization_id)
        names = self._names()
        kind_scope = scope(
            "volumes", str(organization_id), given, request.sort, *sorted(statuses), *map(str, runner_ids)
        )
        source: Any = volumes
        sort: Any = volumes.c.created_at
        if field == pb.LIST_VOLUMES_SORT_FIELD_SIZE:
            sort = sa.cast(volumes.c.size_gb, sa.Numeric).label("sort_key")
        elif field == pb.LIST_VOLUMES_SORT_FIELD_STATUS:
            sort = volumes.c.status
        elif field in (pb.LIST_VOLUMES_SORT_FIELD_NAME, pb.LIST_VOLUMES_SORT_FIELD_UNSPECIFIED):
            by_name = await sort_by_name(
                self._db, volumes.c.volume_id, conditions, names.volumes, request.page_token, kind_scope
            )
            if by_name is None:
                return pb.ListVolumesResponse()
            named, sort = by_name
            source = volumes.outerjoin(named, named.c.id == volumes.c.volume_id)
        page = keyset(
            request.page_token, request.page_size, kind_scope, sort, volumes.c.id, descending=descending
        )
        query = sa.select(volumes, sort).select_from(source).where(*conditions)
        matches: list[tuple[Any, pb.Volume]] = []
        scanned, last, exhausted = 0, None, False
        # Keep reading sorted batches until a page and one more match, the rows run out, or
        # the scan bound is reached (then the token continues after the last row read).
        while len(matches) <= page.size and scanned < MAX_SCANNED:
            current = (
                page
                if last is None
                else keyset(
                    page.token_after(last),
                    request.page_size,
                    kind_scope,
                    sort,
                    volumes.c.id,
                    descending=descending,
                )
            )
            async with self._db.read() as connection:
                batch = (await connection.execute(current.query(query))).all()
            for row in batch[: page.size + 1]:
                scanned += 1
                last = row
                message = await _message(names, row)
                if _matches(message, kinds, substring):
                    matches.append((row, message))
                    if len(matches) > page.size:
                        break
            if len(batch) <= page.size:
                exhausted = True
                break
        if len(matches) > page.size:
            token = page.token_after(matches[page.size - 1][0])
        elif exhausted or last is None:
            token = ""
        else:
            token = page.token_after(last)
        return pb.ListVolumesResponse(
            volumes=[message for _, message in matches[: page.size]], next_page_token=token
        )

    async def sampled_at(
        self, request: pb.BatchUpdateVolumeSampledAtRequest
    ) -> pb.BatchUpdateVolumeSampledAtResponse:
        entries = sampled_entries(request.entries)
        async with self._db.transaction() as connection:
            await store.sampled_at(connection, "volume", entries)
        return pb.BatchUpdateVolumeSampledAtResponse()


def _matches(volume: pb.Volume, kinds: set[int], substring: str) -> bool:
    if substring and substring not in volume.volume_name.lower():
        return False
    if not kinds:
        return True
    if not volume.attachments:
        return pb.VOLUME_ATTACHMENT_FILTER_KIND_UNATTACHED in kinds
    wanted = {ATTACHED_TO[kind] for kind in kinds if kind in ATTACHED_TO}
    return any(attachment.kind in wanted for attachment in volume.attachments)
