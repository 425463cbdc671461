"""Room names and their subjects."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_common.bus import MAX_SUBJECT_BYTES
from agyn_common.errors import ServiceError
from agyn_common.rooms import MAX_ROOM_BYTES, canonical_room, room_messages, room_subject, unique_rooms
from agynio.api.notifications.v1 import notifications_pb2

IDENTITY = uuid.UUID("550E8400-E29B-41D4-A716-446655440000")


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        (f"  thread_participant:{str(IDENTITY).upper()} ", f"thread_participant:{IDENTITY}"),
        ("trace:5B8EFFF798038103D269B633813FC60C", "trace:5b8efff798038103d269b633813fc60c"),
        ("egress_rules", "egress_rules"),
        ("custom:Anything Goes", "custom:Anything Goes"),
    ],
)
def test_rooms_are_canonicalised(given, canonical):
    assert canonical_room(given, "rooms[0]") == canonical


TOO_LONG = [
    "custom:" + "x" * MAX_ROOM_BYTES,
    "é" * (MAX_ROOM_BYTES // 2 + 1),  # counted in bytes, not characters
    "custom:" + "x" * 5000,  # what once made NATS close the connection
]


@pytest.mark.parametrize("bad", ["", "   ", "thread_participant:me", "agent:42", "trace:abc", *TOO_LONG])
def test_malformed_rooms_name_the_field(bad):
    with pytest.raises(ServiceError) as failure:
        canonical_room(bad, "rooms[3]")
    assert failure.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert failure.value.message.startswith("rooms[3]:")


def test_subjects_follow_the_design_and_never_collide():
    assert room_subject(f"thread_participant:{IDENTITY}") == f"agyn.rooms.thread_participant.{IDENTITY}"
    assert room_subject("agent_instances") == "agyn.rooms.agent_instances"
    rooms = [
        "custom:a.b",
        "custom:_YS5i",  # what "a.b" encodes to, given verbatim
        "custom:*",
        "custom:>",
        "custom: ",
        "Custom:x",
        "_raw",
        "custom",
        "custom:",
        "a b",
        "x:y:z",
    ]
    subjects = [room_subject(room) for room in rooms]
    assert len(set(subjects)) == len(rooms)
    for subject in subjects:
        tokens = subject.split(".")
        assert all(tokens) and not {"*", ">"} & set(tokens) and " " not in subject


@pytest.mark.parametrize(
    "longest",
    [
        "x" * MAX_ROOM_BYTES,  # a flat name too long for a verbatim token
        "custom:" + "y" * (MAX_ROOM_BYTES - 7),
        "custom:" + "\U0001f600" * ((MAX_ROOM_BYTES - 7) // 4),  # 4-byte characters, base64url
        "Custom " + "\u00e9" * ((MAX_ROOM_BYTES - 7) // 2),  # no kind: the whole room encoded
    ],
)
def test_the_longest_rooms_accepted_have_subjects_nats_takes(longest):
    room = canonical_room(longest, "rooms[0]")
    assert len(room_subject(room).encode()) <= MAX_SUBJECT_BYTES


def test_the_subject_builder_refuses_what_nats_would_not_take():
    """The last guard: a room that skipped `canonical_room` never becomes a subject on the wire."""
    with pytest.raises(ValueError, match="NATS subject"):
        room_subject("custom:" + "x" * 2000)


def test_an_envelope_becomes_one_copy_per_room_with_stable_ids():
    envelope = notifications_pb2.NotificationEnvelope(
        id=str(uuid.uuid4()), event="message.created", rooms=["thread_participant:" + str(IDENTITY), "agents"]
    )
    first, second = room_messages(envelope), room_messages(envelope)
    assert [m.subject for m in first] == [f"agyn.rooms.thread_participant.{IDENTITY}", "agyn.rooms.agents"]
    assert [m.message_id for m in first] == [m.message_id for m in second]  # a republish is deduplicated
    assert len({m.message_id for m in first}) == 2
    assert notifications_pb2.NotificationEnvelope.FromString(first[0].body) == envelope


def test_unique_rooms_collapse_repeats_after_canonicalising():
    assert unique_rooms(
        [f"thread_participant:{IDENTITY}", f" thread_participant:{str(IDENTITY).upper()}"], "rooms"
    ) == [f"thread_participant:{IDENTITY}"]
