"""Publish: validation, who may call, and what lands on the rooms stream."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import grpc
from agyn_common.rooms import room_subject
from agyn_inprocess.notifications import Notifications, participant, payload, pb
from agyn_testkit.calls import expect_error, metadata
from agyn_testkit.harness import read_events

BAD = grpc.StatusCode.INVALID_ARGUMENT


async def test_publish_returns_a_new_envelope_id_and_time(notifications: Notifications) -> None:
    room = participant(uuid.uuid4())
    first = await notifications.publish([room], text="hi")
    second = await notifications.publish([room], text="hi")
    assert uuid.UUID(first.id).version == 4
    assert first.id != second.id  # not idempotent
    assert abs(first.ts.ToDatetime(UTC) - datetime.now(UTC)) < timedelta(seconds=5)


async def test_publish_puts_one_canonical_copy_per_room_on_the_bus(
    notifications: Notifications, nats
) -> None:
    identity = uuid.uuid4()
    upper = f"  thread_participant:{str(identity).upper()} "
    reply = await notifications.publish([upper, participant(identity), "organization:" + str(identity)])
    envelopes = await read_events(
        nats.url,
        room_subject(participant(identity)),
        lambda found: any(e.id == reply.id for e in found),
        settle=0.3,
        decode=pb.NotificationEnvelope.FromString,
    )
    mine = [e for e in envelopes if e.id == reply.id]
    assert len(mine) == 1  # duplicates collapsed after canonicalisation
    assert list(mine[0].rooms) == [participant(identity), f"organization:{identity}"]
    assert mine[0].source == "threads" and mine[0].event == "message.created"


BAD_REQUESTS = [
    ({"event": "  ", "rooms": ["egress_rules"]}, "event", "event required"),
    ({"event": "e", "rooms": []}, "rooms", "at least one room required"),
    ({"event": "e", "rooms": ["egress_rules"] * 257}, "rooms", "at most 256 rooms"),
    ({"event": "e", "rooms": ["egress_rules", " "]}, "rooms[1]", "room is empty"),
    ({"event": "e", "rooms": ["agent:not-a-uuid"]}, "rooms[0]", "UUID"),
    ({"event": "e", "rooms": ["trace:abc"]}, "rooms[0]", "32 hexadecimal"),
    ({"event": "e", "rooms": ["egress_rules", "thread_participant:me"]}, "rooms[1]", "me"),
    ({"event": "e", "rooms": ["custom: me"]}, "rooms[0]", "me"),
    # Once enough to make NATS close the service's connection for good.
    ({"event": "e", "rooms": ["egress_rules", "custom:" + "x" * 5000]}, "rooms[1]", "longer than"),
]


async def test_publish_rejects_bad_input_naming_the_field(notifications: Notifications) -> None:
    for request_fields, field, message in BAD_REQUESTS:
        request = pb.PublishRequest(payload=payload(), **request_fields)
        await expect_error(
            notifications.stub.Publish(request, metadata=metadata(caller="threads")),
            BAD,
            f"{field}: ",
            message,
        )


async def test_publish_needs_a_payload_and_limits_its_size(notifications: Notifications) -> None:
    call = notifications.stub.Publish(
        pb.PublishRequest(event="e", rooms=["egress_rules"]), metadata=metadata(caller="threads")
    )
    await expect_error(call, BAD, "payload: payload required")
    # An empty object is a payload.
    await notifications.stub.Publish(
        pb.PublishRequest(event="e", rooms=["egress_rules"], payload=payload()),
        metadata=metadata(caller="threads"),
    )
    await expect_error(notifications.publish(["egress_rules"], blob="x" * (1024 * 1024)), BAD, "payload: ")


async def test_only_platform_producers_may_publish(notifications: Notifications) -> None:
    for caller in ("threads", "runners", "agents", "tracing"):
        await notifications.publish(["egress_rules"], caller=caller)
    for other in ("gateway", "agents-orchestrator", "users", None):
        call = notifications.stub.Publish(
            pb.PublishRequest(event="e", rooms=["egress_rules"], payload=payload()),
            metadata=metadata(uuid.uuid4(), caller=other),
        )
        await expect_error(call, grpc.StatusCode.PERMISSION_DENIED)
