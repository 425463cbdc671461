"""Open Subscribe streams: their JetStream consumers, buffers and ends.

Each stream has its own ordered push consumer on `AGYN_ROOMS`, filtered to the subjects of
its rooms, so NATS routes only what some local stream wants. The consumer's callback never
blocks: it decodes, drops repeats of an envelope (one copy arrives per matching room), and
puts the response in a bounded queue; a full queue ends the stream ("slow consumer").

Each delivery is a CONSUMER span in the trace of the call that published the envelope,
linked to the Subscribe it went to (that call has a trace of its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import Sequence

import grpc
from agyn_common.bus import Bus, consumer_span
from agyn_common.errors import ServiceError, resource_exhausted
from agyn_common.rooms import ROOMS, room_subject
from agynio.api.notifications.v1 import notifications_pb2
from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from opentelemetry import trace
from opentelemetry.trace import Link, Span, Tracer

from agyn_notifications.cursor import Cursor

log = logging.getLogger(__name__)

# Envelope ids a stream remembers to deliver each envelope once; the copies of one envelope
# are published together, so they arrive close to each other.
SEEN_IDS = 1024
_END = None  # queued after a failure to wake the reader


def unavailable(message: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.UNAVAILABLE, message)


class Stream:
    """One Subscribe: the rooms it holds, its consumer, and what waits to be sent."""

    def __init__(self, identity: uuid.UUID, rooms: Sequence[str], buffer_size: int, tracer: Tracer) -> None:
        self.identity = identity
        self._tracer = tracer
        # Made inside Subscribe's span: each delivery links back to it.
        self._subscribe = (Link(trace.get_current_span().get_span_context()),)
        self.rooms = tuple(rooms)
        self._room_set = frozenset(rooms)
        self._queue: asyncio.Queue[notifications_pb2.SubscribeResponse | None] = asyncio.Queue(
            maxsize=buffer_size
        )
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._failure: ServiceError | None = None
        self._subscription: JetStreamContext.PushSubscription | None = None
        self._closing: asyncio.Task[None] | None = None

    async def open(self, js: JetStreamContext, resume_after: Cursor | None) -> None:
        """Start the consumer; once this returns, everything published later is delivered."""
        subjects = [room_subject(room) for room in self.rooms]
        config = ConsumerConfig(filter_subjects=subjects)
        if resume_after is None:
            config.deliver_policy = DeliverPolicy.NEW
        else:
            config.deliver_policy = DeliverPolicy.BY_START_SEQUENCE
            config.opt_start_seq = resume_after.sequence + 1
            # The other copies of the last delivered envelope follow it: they were seen.
            self._remember(resume_after.envelope_id)
        self._subscription = await js.subscribe(
            subjects[0],  # unused: the filter list wins
            stream=ROOMS.name,
            cb=self._on_message,
            ordered_consumer=True,
            config=config,
        )

    def _remember(self, envelope_id: str) -> bool:
        """False when the envelope was already delivered on this stream."""
        if envelope_id in self._seen:
            return False
        self._seen[envelope_id] = None
        if len(self._seen) > SEEN_IDS:
            self._seen.popitem(last=False)
        return True

    async def _on_message(self, message: Msg) -> None:
        if self._failure is not None:
            return
        with consumer_span(self._tracer, ROOMS.name, message, self._subscribe) as span:
            self._deliver(message, span)

    def _deliver(self, message: Msg, span: Span) -> None:
        try:
            envelope = notifications_pb2.NotificationEnvelope.FromString(message.data)
            cursor = Cursor(message.metadata.sequence.stream, envelope.id).encode()
        except (DecodeError, ValueError) as error:
            log.warning("skipping an unreadable message on %s: %s", message.subject, error)
            return
        span.set_attribute("messaging.message.id", envelope.id)
        if not self._remember(envelope.id):
            return
        # Only this stream's rooms: the others would reveal who else was addressed (§8 #15).
        held = [room for room in envelope.rooms if room in self._room_set]
        del envelope.rooms[:]
        envelope.rooms.extend(held)
        try:
            self._queue.put_nowait(notifications_pb2.SubscribeResponse(envelope=envelope, cursor=cursor))
        except asyncio.QueueFull:
            self.fail(
                unavailable("slow consumer: the stream fell too far behind; resume with the last cursor")
            )

    def fail(self, error: ServiceError) -> None:
        """End the stream with `error` now: what is still queued is dropped (clients resume)."""
        if self._failure is not None:
            return
        self._failure = error
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(_END)
        # Stop the deliveries at once, even while the reader is stuck writing to its client.
        self._closing = asyncio.create_task(self.close(), name="notifications-stream-close")

    async def next(self) -> notifications_pb2.SubscribeResponse:
        """The next response; raises the failure that ended the stream."""
        if self._failure is None:
            response = await self._queue.get()
            if response is not None:
                return response
        assert self._failure is not None
        raise self._failure

    async def close(self) -> None:
        subscription, self._subscription = self._subscription, None
        if subscription is not None:
            with contextlib.suppress(Exception):  # the bus may be gone: nothing left to stop
                await subscription.unsubscribe()


class Streams:
    """Every open stream of this replica, counted per identity."""

    def __init__(self, bus: Bus, max_per_identity: int) -> None:
        self._max_per_identity = max_per_identity
        self._open: set[Stream] = set()
        self._per_identity: dict[uuid.UUID, int] = {}
        # Anything published while the bus was away never reached the consumers.
        bus.on_gap(self._on_gap)

    def add(self, stream: Stream) -> None:
        count = self._per_identity.get(stream.identity, 0)
        if count >= self._max_per_identity:
            raise resource_exhausted(f"at most {self._max_per_identity} notification streams per identity")
        self._per_identity[stream.identity] = count + 1
        self._open.add(stream)

    def remove(self, stream: Stream) -> None:
        if stream not in self._open:
            return
        self._open.discard(stream)
        count = self._per_identity[stream.identity] - 1
        if count:
            self._per_identity[stream.identity] = count
        else:
            del self._per_identity[stream.identity]

    def _on_gap(self) -> None:
        self.end_all("the notification bus connection was interrupted; resume with the last cursor")

    def end_all(self, reason: str) -> None:
        """End every open stream with UNAVAILABLE; clients resume with their last cursor."""
        for stream in list(self._open):
            stream.fail(unavailable(reason))

    def __len__(self) -> int:
        return len(self._open)
