"""The metering loop's batch of sampled-at times (sheet §3.2, §3.3)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from agyn_common.errors import invalid_argument
from agyn_common.validation import parse_uuid
from agynio.api.runners.v1 import runners_pb2 as pb

MAX_ENTRIES = 1000


def sampled_entries(entries: Sequence[pb.SampledAtEntry]) -> dict[uuid.UUID, datetime]:
    """id → time; every entry valid or none is written; a repeated id: the last wins (§8 #16)."""
    if len(entries) > MAX_ENTRIES:
        raise invalid_argument("entries", f"at most {MAX_ENTRIES} entries")
    parsed: dict[uuid.UUID, datetime] = {}
    for index, entry in enumerate(entries):
        record_id = parse_uuid(entry.id.strip(), f"entries[{index}].id")
        if not entry.HasField("sampled_at"):
            raise invalid_argument(f"entries[{index}].sampled_at", "is required")
        parsed[record_id] = entry.sampled_at.ToDatetime(tzinfo=UTC)
    return parsed
