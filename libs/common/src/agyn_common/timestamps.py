"""google.protobuf.Timestamp to and from aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from agyn_common.errors import invalid_argument

# The range google.protobuf.Timestamp allows: 0001-01-01 to 9999-12-31.
MIN_SECONDS = -62135596800
MAX_SECONDS = 253402300799


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def parse_future_timestamp(value: Timestamp, field: str) -> datetime:
    """A Timestamp that is valid and strictly in the future; INVALID_ARGUMENT on `field` otherwise."""
    if not (0 <= value.nanos <= 999_999_999) or not (MIN_SECONDS <= value.seconds <= MAX_SECONDS):
        raise invalid_argument(field, "is not a valid timestamp")
    moment = value.ToDatetime(tzinfo=UTC)
    if moment <= datetime.now(UTC):
        raise invalid_argument(field, "must be in the future")
    return moment
