"""Volumes: organization-level definitions that attachments mount into agents' containers
(sheet §3.4). Organization owners write them; members read them; platform callers read all."""

from __future__ import annotations

import re
import uuid
from typing import Any

from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import failed_precondition, invalid_argument
from agyn_common.pagination import KeysetPage
from agyn_common.validation import check_length, parse_uuid
from agynio.api.agents.v1 import agents_pb2 as pb

from agyn_agents import convert, store
from agyn_agents.durations import positive_duration
from agyn_agents.events import AgentEvents
from agyn_agents.fields import MAX_DESCRIPTION
from agyn_agents.models import volumes
from agyn_agents.permissions import AgentPermissions

MAX_MOUNT_PATH = 1024
# A Kubernetes quantity as volume sizes are written ("10Gi", "500M", "1.5Ti").
QUANTITY = re.compile(r"[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?")
UPDATABLE = ("persistent", "mount_path", "size", "description", "ttl")


def _checked(values: dict[str, Any]) -> dict[str, Any]:
    """A volume's values, checked as a whole (create, and the result of an update)."""
    mount_path = check_length(values["mount_path"], "mount_path", max_chars=MAX_MOUNT_PATH, required=True)
    if not mount_path.startswith("/"):
        raise invalid_argument("mount_path", "must be an absolute path")
    if values["size"] and not QUANTITY.fullmatch(values["size"]):
        raise invalid_argument("size", f"must be a quantity such as 10Gi, got {values['size'][:64]!r}")
    if values["persistent"] and not values["size"]:
        raise invalid_argument("size", "is required for a persistent volume")
    check_length(values["description"], "description", max_chars=MAX_DESCRIPTION)
    if values["ttl"] is not None:
        positive_duration(values["ttl"], "ttl", days=True)
    return values


def _ttl(request: pb.CreateVolumeRequest | pb.UpdateVolumeRequest) -> str | None:
    """ "" or absent: never removed for age (stored null)."""
    return request.ttl or None


class VolumeHandlers:
    def __init__(self, database: Database, permissions: AgentPermissions, events: AgentEvents) -> None:
        self._db = database
        self._permissions = permissions
        self._events = events

    async def create(self, request: pb.CreateVolumeRequest) -> pb.CreateVolumeResponse:
        caller = current_caller().require_identity()
        organization_id = parse_uuid(request.organization_id.strip(), "organization_id")
        values = _checked(
            {
                "persistent": request.persistent,
                "mount_path": request.mount_path,
                "size": request.size,
                "description": request.description,
                "ttl": _ttl(request),
            }
        )
        await self._permissions.require_organization(caller, "owner", organization_id)
        async with self._db.transaction() as connection:
            row = await store.insert_volume(
                connection, {**values, "id": uuid.uuid4(), "organization_id": organization_id}
            )
        return pb.CreateVolumeResponse(volume=convert.volume_message(row))  # nothing attached: no event

    async def get(self, request: pb.GetVolumeRequest) -> pb.GetVolumeResponse:
        volume_id = parse_uuid(request.id.strip(), "id")
        caller = current_caller().identity_id
        async with self._db.transaction() as connection:
            row = await store.load_volume(connection, volume_id)
        if caller is not None:
            await self._permissions.require_organization(caller, "member", row.organization_id)
        return pb.GetVolumeResponse(volume=convert.volume_message(row))

    async def update(self, request: pb.UpdateVolumeRequest) -> pb.UpdateVolumeResponse:
        caller = current_caller().require_identity()
        volume_id = parse_uuid(request.id.strip(), "id")
        present = [field for field in UPDATABLE if request.HasField(field)]
        if not present:
            raise invalid_argument("id", "at least one field must be provided")
        changes = {field: _ttl(request) if field == "ttl" else getattr(request, field) for field in present}
        async with self._db.transaction() as connection:
            row = await store.load_volume(connection, volume_id, lock=True)
            await self._permissions.require_organization(caller, "owner", row.organization_id)
            values = _checked({**{field: getattr(row, field) for field in UPDATABLE}, **changes})
            row = await store.update_volume(connection, volume_id, values)
            # Agents mounting it changed too: the orchestrator re-reads them (sheet §3.4, §5).
            for agent in await store.touch_agents_using_volume(connection, volume_id):
                await self._events.agent_changed(connection, agent, "updated")
        return pb.UpdateVolumeResponse(volume=convert.volume_message(row))

    async def delete(self, request: pb.DeleteVolumeRequest) -> pb.DeleteVolumeResponse:
        caller = current_caller().require_identity()
        volume_id = parse_uuid(request.id.strip(), "id")
        async with self._db.transaction() as connection:
            row = await store.load_volume(connection, volume_id, lock=True)
            await self._permissions.require_organization(caller, "owner", row.organization_id)
            if await store.volume_in_use(connection, volume_id):
                raise failed_precondition("volume has attachments", "VOLUME_IN_USE")
            await store.delete_volume(connection, volume_id)
        return pb.DeleteVolumeResponse()

    async def list(self, request: pb.ListVolumesRequest) -> pb.ListVolumesResponse:
        organization_id = parse_uuid(request.organization_id.strip(), "organization_id")  # always required
        page = KeysetPage(
            request.page_token,
            request.page_size,
            scope=f"volumes:{organization_id}",
            sort=volumes.c.created_at,
            key=volumes.c.id,
        )
        caller = current_caller().identity_id
        if caller is not None:
            await self._permissions.require_organization(caller, "member", organization_id)
        async with self._db.transaction() as connection:
            rows, token = page.split(await store.list_volumes(connection, organization_id, page))
        return pb.ListVolumesResponse(
            volumes=[convert.volume_message(row) for row in rows], next_page_token=token
        )
