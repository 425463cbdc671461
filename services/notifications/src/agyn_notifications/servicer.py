"""NotificationsService: Publish puts an envelope on the bus; Subscribe streams a room set.

Rooms live in the JetStream stream `AGYN_ROOMS`, one copy of an envelope per room on the
room's subject (DESIGN §5), so a stream can resume from a cursor while the stream keeps it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
from agyn_common.bus import Bus
from agyn_common.caller import current_caller
from agyn_common.errors import ServiceError, invalid_argument, unavailable
from agyn_common.rooms import ROOMS, room_messages, unique_rooms
from agynio.api.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from nats.errors import Error as NatsError
from nats.js.client import JetStreamContext

from agyn_notifications.cursor import Cursor, decode_cursor
from agyn_notifications.rooms_access import MAX_ROOMS, RoomAccess, has_me_id, requested_rooms
from agyn_notifications.streams import Stream, Streams

log = logging.getLogger(__name__)

MAX_ENVELOPE_BYTES = 1024 * 1024  # the default NATS max_payload
PUBLISH_TIMEOUT_SECONDS = 2.0
STREAM_INFO_TIMEOUT_SECONDS = 2.0
FLUSH_TIMEOUT_SECONDS = 2
# Consumers created at once: a burst of subscribers queues here instead of timing out in NATS.
OPENING_AT_ONCE = 32

pb = notifications_pb2


class NotificationsServicer(notifications_pb2_grpc.NotificationsServiceServicer):
    def __init__(self, bus: Bus, rooms: RoomAccess, streams: Streams, *, buffer_size: int) -> None:
        self._bus = bus
        self._rooms = rooms
        self._streams = streams
        self._buffer_size = buffer_size
        self._opening = asyncio.Semaphore(OPENING_AT_ONCE)

    async def Publish(
        self, request: pb.PublishRequest, context: grpc.aio.ServicerContext
    ) -> pb.PublishResponse:
        event = request.event.strip()
        if not event:
            raise invalid_argument("event", "event required")
        if not request.rooms:
            raise invalid_argument("rooms", "at least one room required")
        if len(request.rooms) > MAX_ROOMS:
            raise invalid_argument("rooms", f"at most {MAX_ROOMS} rooms")
        for index, room in enumerate(request.rooms):
            if has_me_id(room):
                raise invalid_argument(f"rooms[{index}]", "`me` is for subscribers; publish to the real id")
        rooms = unique_rooms(request.rooms, "rooms")
        if not request.HasField("payload"):
            raise invalid_argument("payload", "payload required")
        envelope = pb.NotificationEnvelope(
            id=str(uuid.uuid4()), source=request.source, event=event, rooms=rooms, payload=request.payload
        )
        envelope.ts.FromDatetime(datetime.now(UTC))
        if envelope.ByteSize() > MAX_ENVELOPE_BYTES:
            raise invalid_argument("payload", f"the envelope is larger than {MAX_ENVELOPE_BYTES} bytes")
        js = self._jetstream()
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                # Every copy must be stored before we answer; the message id makes a retried
                # copy land once.
                await asyncio.gather(
                    *(
                        js.publish(
                            copy.subject,
                            copy.body,
                            timeout=PUBLISH_TIMEOUT_SECONDS,
                            headers={"Nats-Msg-Id": str(copy.message_id)},
                        )
                        for copy in room_messages(envelope)
                    )
                )
        except (NatsError, TimeoutError) as error:
            log.warning("publishing %s to %d rooms failed: %r", event, len(rooms), error)
            raise unavailable("publish failed: the notification bus is unavailable") from error
        return pb.PublishResponse(id=envelope.id, ts=envelope.ts)

    async def Subscribe(
        self, request: pb.SubscribeRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.SubscribeResponse]:
        identity = current_caller().require_identity()
        rooms = requested_rooms(request.rooms, identity)
        cursor = decode_cursor(request.resume_after, "resume_after") if request.resume_after.strip() else None
        await self._rooms.authorize(identity, rooms)
        stream = Stream(identity, rooms, self._buffer_size, self._bus.tracer, self._streams.overflowed)
        self._streams.add(stream)  # RESOURCE_EXHAUSTED past the per-identity limit
        try:
            js = self._jetstream()
            if cursor is not None:
                await self._check_kept(js, cursor)
            try:
                async with self._opening:
                    await stream.open(js, cursor)
                    await self._bus.client.flush(timeout=FLUSH_TIMEOUT_SECONDS)  # interest is live
            except (NatsError, TimeoutError) as error:
                raise unavailable("the notification bus is unavailable") from error
            # Only now: a client that pulls state once headers arrive cannot miss an event.
            await context.send_initial_metadata(())
            while True:
                response = await stream.next()
                self._streams.delivered.inc()
                yield response
        finally:
            self._streams.remove(stream)
            await stream.close()

    def _jetstream(self) -> JetStreamContext:
        if not self._bus.connected:
            raise unavailable("the notification bus is unavailable")
        return self._bus.jetstream

    @staticmethod
    async def _check_kept(js: JetStreamContext, cursor: Cursor) -> None:
        """OUT_OF_RANGE when the stream no longer holds what followed the cursor."""
        try:
            async with asyncio.timeout(STREAM_INFO_TIMEOUT_SECONDS):
                info = await js.stream_info(ROOMS.name)
        except (NatsError, TimeoutError) as error:
            raise unavailable("the notification bus is unavailable") from error
        # A sequence past the end means the stream was recreated: the cursor means nothing now.
        if info.state.first_seq > cursor.sequence + 1 or cursor.sequence > info.state.last_seq:
            raise ServiceError(
                grpc.StatusCode.OUT_OF_RANGE,
                "resume_after: the stream no longer keeps this position; pull the current state",
            )
