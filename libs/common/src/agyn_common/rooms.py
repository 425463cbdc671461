"""Notification rooms and their place on the bus (DESIGN §5; threads-notifications sheet B3, B5).

A room is `<kind>:<id>` (`thread_participant:<identity>`) or a flat name (`egress_rules`).
Producers put an envelope in the `AGYN_ROOMS` stream once per room it targets, on the room's
subject, so that a Notifications replica receives only the rooms its streams hold, and a
stream can resume from a position the stream still keeps.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from agynio.api.notifications.v1 import notifications_pb2

from agyn_common.bus import StreamSpec, checked_subject
from agyn_common.errors import invalid_argument

ROOMS_SUBJECT_PREFIX = "agyn.rooms"
# Long enough for a client to reconnect and resume; notifications are triggers, not data.
# Every open Subscribe of every replica holds a consumer on it (two while it replays), and a
# closed one's lingers until NATS drops it as idle: NATS's default of 1,000 consumers per
# stream would refuse the thousandth client of the whole platform.
ROOMS = StreamSpec("AGYN_ROOMS", (f"{ROOMS_SUBJECT_PREFIX}.>",), max_age_seconds=3600, max_consumers=100_000)

# Kinds whose id is a UUID, compared and routed in canonical lowercase form.
UUID_KINDS = frozenset(
    {
        "thread_participant",
        "workload",
        "agent",
        "instance_inbox",
        "agent_instance",
        "environment",
        "volume",
        "organization",
        "sandbox_owner",
        "sandbox",
        "sandbox_org",
        "sandbox_layout",
    }
)
TRACE_KIND = "trace"  # 32 hexadecimal characters
# A room becomes a subject (base64url of up to the whole room: 4/3 of it), so its length
# bounds the subject's, far below what NATS takes on a protocol line (bus.MAX_SUBJECT_BYTES).
MAX_ROOM_BYTES = 256
_TRACE_ID = re.compile(r"[0-9a-fA-F]{32}")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")  # a kind, or a flat room, as a subject token
_VERBATIM_ID = re.compile(r"[A-Za-z0-9-][A-Za-z0-9_-]{0,127}")  # never starts with "_"


def canonical_room(value: str, field: str) -> str:
    """The room as routed: trimmed, UUID and trace ids lowercased; INVALID_ARGUMENT on `field`."""
    room = value.strip()
    if not room:
        raise invalid_argument(field, "room is empty")
    if len(room.encode()) > MAX_ROOM_BYTES:
        raise invalid_argument(field, f"room is longer than {MAX_ROOM_BYTES} bytes")
    kind, separator, identifier = room.partition(":")
    if not separator:
        return room
    if kind in UUID_KINDS:
        try:
            return f"{kind}:{uuid.UUID(identifier.strip())}"
        except ValueError:
            raise invalid_argument(field, f"{kind} room needs a UUID, got {identifier[:64]!r}") from None
    if kind == TRACE_KIND:
        if not _TRACE_ID.fullmatch(identifier.strip()):
            raise invalid_argument(
                field, f"trace room needs 32 hexadecimal characters, got {identifier[:64]!r}"
            )
        return f"{kind}:{identifier.strip().lower()}"
    return room


def room_subject(room: str) -> str:
    """The subject of a canonical room. Injective: two rooms never share a subject.

    ValueError when the subject is too long for NATS, which would close the connection (no
    room `canonical_room` accepts makes one: this is the last guard before the wire)."""
    return checked_subject(_subject(room))


def _subject(room: str) -> str:
    kind, separator, identifier = room.partition(":")
    if not separator and _NAME.fullmatch(room):
        return f"{ROOMS_SUBJECT_PREFIX}.{room}"
    if separator and _NAME.fullmatch(kind):
        if _VERBATIM_ID.fullmatch(identifier):
            return f"{ROOMS_SUBJECT_PREFIX}.{kind}.{identifier}"
        return f"{ROOMS_SUBJECT_PREFIX}.{kind}._{_b64(identifier)}"
    return f"{ROOMS_SUBJECT_PREFIX}._raw.{_b64(room)}"  # kinds start with a letter: no clash


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@dataclass(frozen=True)
class RoomMessage:
    """One copy of an envelope, for one of its rooms."""

    subject: str
    message_id: uuid.UUID  # the Nats-Msg-Id: the same copy published twice is stored once
    body: bytes


def room_messages(envelope: notifications_pb2.NotificationEnvelope) -> list[RoomMessage]:
    """The copies of an envelope to put on the bus, one per room, in room order."""
    body = envelope.SerializeToString(deterministic=True)
    envelope_id = uuid.UUID(envelope.id)
    return [RoomMessage(room_subject(room), uuid.uuid5(envelope_id, room), body) for room in envelope.rooms]


def unique_rooms(values: Iterable[str], field: str) -> list[str]:
    """Canonical rooms without repeats, in first-seen order."""
    return list(
        dict.fromkeys(canonical_room(value, f"{field}[{index}]") for index, value in enumerate(values))
    )
