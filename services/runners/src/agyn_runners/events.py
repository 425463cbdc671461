"""What Runners announces, through the outbox in the writing transaction (sheet §5; DESIGN §5).

Consumers re-read the record; the payload says only what changed it into what.
"""

from __future__ import annotations

from typing import Any

from agyn_common.outbox import Outbox
from sqlalchemy.ext.asyncio import AsyncConnection

SOURCE = "runners"
WORKLOAD_UPDATED = "workload.updated"
WORKLOAD_STATUS_CHANGED = "workload.status_changed"
VOLUME_UPDATED = "volume.updated"
# What a workload's change is compared on (sheet §3.2 UpdateWorkload).
WORKLOAD_WATCHED = ("status", "containers", "failure_reason", "failure_message", "agent_state")
VOLUME_WATCHED = ("status", "instance_id", "removed_at")


def workload_payload(row: Any) -> dict[str, str]:
    payload = {"workload_id": str(row.id), "status": row.status, "agent_state": row.agent_state}
    if row.failure_reason is not None:
        payload["failure_reason"] = row.failure_reason
    if row.failure_message is not None:
        payload["failure_message"] = row.failure_message
    return payload


def changed(before: Any, after: Any, columns: tuple[str, ...]) -> bool:
    return any(getattr(before, column) != getattr(after, column) for column in columns)


class RunnerEvents:
    def __init__(self, outbox: Outbox) -> None:
        self._outbox = outbox

    async def workload_changed(self, connection: AsyncConnection, before: Any | None, after: Any) -> None:
        """`workload.updated` when a watched field changed (`before` None: it did), then
        `workload.status_changed` when the status did."""
        if before is not None and not changed(before, after, WORKLOAD_WATCHED):
            return
        payload = workload_payload(after)
        await self._outbox.emit_to_rooms(
            connection,
            source=SOURCE,
            event=WORKLOAD_UPDATED,
            rooms=[f"organization:{after.organization_id}", f"workload:{after.id}"],
            payload=payload,
        )
        if before is not None and before.status != after.status:
            await self._outbox.emit_to_rooms(
                connection,
                source=SOURCE,
                event=WORKLOAD_STATUS_CHANGED,
                rooms=[f"workload:{after.id}", "workloads"],
                payload=payload,
            )

    async def volume_changed(self, connection: AsyncConnection, before: Any, after: Any) -> None:
        if not changed(before, after, VOLUME_WATCHED):
            return
        await self._outbox.emit_to_rooms(
            connection,
            source=SOURCE,
            event=VOLUME_UPDATED,
            rooms=[f"organization:{after.organization_id}", f"volume:{after.id}"],
            payload={"volume_id": str(after.id), "status": after.status},
        )
