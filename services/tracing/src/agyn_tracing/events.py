"""What Tracing announces for each upserted span, through the outbox in the upsert's
transaction (files-tracing B.5; DESIGN §5): `span.created` / `span.updated` on the room
`trace:<32 hex>`, and the domain events `agyn.events.tracing.span.created|updated`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from agyn_common.outbox import DomainEvent, Outbox, RoomEvent
from agynio.api.tracing.v1 import tracing_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_tracing.convert import span_status

SOURCE = "tracing"


def _organization(value: str | None) -> str | None:
    """The span's organization when it is one (a UUID); others get no events (B.3.2 step 7)."""
    try:
        return str(uuid.UUID(value)) if value else None
    except ValueError:
        return None


async def spans_upserted(outbox: Outbox, connection: AsyncConnection, upserted: Sequence[Any]) -> None:
    room_events, domain_events = [], []
    for row in upserted:
        organization = _organization(row.organization_id)
        if organization is None:
            continue
        event = "span.created" if row.created else "span.updated"
        trace_id, span_id = row.trace_id.hex(), row.span_id.hex()
        payload = {"trace_id": trace_id, "span_id": span_id, "organization_id": organization}
        room_events.append(RoomEvent(SOURCE, event, [f"trace:{trace_id}"], payload))
        status = span_status(row.end_time_unix_nano, row.status_code)
        data = {
            **payload,
            "workload_id": row.workload_id or "",
            "revision": row.revision,
            "name": row.name,
            "status": pb.SpanStatus.Name(status),
        }
        domain_events.append(DomainEvent(SOURCE, event, data))
    await outbox.emit_many(connection, room_events=room_events, domain_events=domain_events)
