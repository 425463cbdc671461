"""Open Subscribe streams: their JetStream consumers, buffers and ends.

A live stream has its own ordered push consumer on `AGYN_ROOMS`, filtered to the subjects of
its rooms, so NATS routes only what some local stream wants. The consumer's callback never
blocks: it decodes, drops repeats of an envelope (one copy arrives per matching room), and
puts the response in a bounded queue; a full queue ends the stream ("slow consumer").

A resumed stream first replays what the stream holds after its cursor through a pull
consumer, a batch at a time as the client reads (however much piled up, the buffer never
overflows), then goes live from the sequence after the last one replayed: each envelope
once, in order, across the switch.

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

from agyn_common.bus import Bus, consumer_span
from agyn_common.errors import ServiceError, resource_exhausted, unavailable
from agyn_common.metrics import Metrics
from agyn_common.rooms import ROOMS, room_subject
from agynio.api.notifications.v1 import notifications_pb2
from google.protobuf.message import DecodeError
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from opentelemetry import trace
from opentelemetry.trace import Link, Tracer
from prometheus_client import Counter

from agyn_notifications.cursor import Cursor

log = logging.getLogger(__name__)

# Envelope ids a stream remembers to deliver each envelope once; the copies of one envelope
# are published together, so they arrive close to each other.
SEEN_IDS = 1024
_END = None  # queued after a failure to wake the reader
FETCH_TIMEOUT_SECONDS = 5.0
# NATS drops a replay consumer nobody pulled from for this long (a client that stopped
# reading, or a replica that died); the stream then ends and the client resumes.
REPLAY_IDLE_SECONDS = 600.0


class Stream:
    """One Subscribe: the rooms it holds, its consumers, and what waits to be sent."""

    def __init__(
        self, identity: uuid.UUID, rooms: Sequence[str], buffer_size: int, tracer: Tracer, overflowed: Counter
    ) -> None:
        self.identity = identity
        self._overflowed = overflowed
        self._tracer = tracer
        # Made inside Subscribe's span: each delivery links back to it.
        self._subscribe = (Link(trace.get_current_span().get_span_context()),)
        self.rooms = tuple(rooms)
        self._room_set = frozenset(rooms)
        self._subjects = [room_subject(room) for room in self.rooms]
        self._buffer_size = buffer_size
        self._queue: asyncio.Queue[notifications_pb2.SubscribeResponse | None] = asyncio.Queue(
            maxsize=buffer_size
        )
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._failure: ServiceError | None = None
        self._js: JetStreamContext | None = None
        self._live: JetStreamContext.PushSubscription | None = None
        self._replay: tuple[str, JetStreamContext.PullSubscription] | None = None  # and its consumer
        self._replaying: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None

    async def open(self, js: JetStreamContext, resume_after: Cursor | None) -> None:
        """Start the consumer; once this returns, everything published later is delivered."""
        self._js = js
        if resume_after is None:
            await self._go_live(js, ConsumerConfig(deliver_policy=DeliverPolicy.NEW))
            return
        # The other copies of the last delivered envelope follow it: they were seen.
        self._remember(resume_after.envelope_id)
        consumer = await js.add_consumer(
            ROOMS.name,
            ConsumerConfig(
                filter_subjects=self._subjects,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                opt_start_seq=resume_after.sequence + 1,
                ack_policy=AckPolicy.NONE,  # fetched is done: the client's cursor is the position
                mem_storage=True,
                inactive_threshold=REPLAY_IDLE_SECONDS,
            ),
        )
        replay = await js.pull_subscribe_bind(consumer=consumer.name, stream=ROOMS.name)
        self._replay = (consumer.name, replay)
        self._replaying = asyncio.create_task(
            self._replay_then_go_live(js, replay, consumer.num_pending or 0, resume_after.sequence),
            name="notifications-stream-replay",
        )

    async def _replay_then_go_live(
        self, js: JetStreamContext, replay: JetStreamContext.PullSubscription, pending: int, position: int
    ) -> None:
        """Deliver what the stream holds after `position`, paced by the reader, then go live."""
        try:
            while True:
                while pending:
                    messages = await replay.fetch(min(pending, self._buffer_size), FETCH_TIMEOUT_SECONDS)
                    for message in messages:
                        response = self._response(message)
                        if response is not None:
                            await self._queue.put(response)  # waits while the client is behind
                    position = messages[-1].metadata.sequence.stream
                    pending = messages[-1].metadata.num_pending
                # Caught up. Go live only once the reader has taken everything, so that the live
                # consumer starts on an empty buffer; what came meanwhile is replayed first.
                await self._queue.join()
                pending = (await replay.consumer_info()).num_pending or 0
                if not pending:
                    break
            await self._end_replay()
            await self._go_live(
                js, ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=position + 1)
            )
        except Exception as error:  # NATS away, or the consumer dropped: the client resumes
            log.warning("replaying a notification stream failed: %r", error)
            self.fail(unavailable("the notification bus is unavailable; resume with the last cursor"))

    async def _go_live(self, js: JetStreamContext, config: ConsumerConfig) -> None:
        config.filter_subjects = self._subjects
        self._live = await js.subscribe(
            self._subjects[0],  # unused: the filter list wins
            stream=ROOMS.name,
            cb=self._on_live,
            ordered_consumer=True,
            config=config,
        )

    async def _end_replay(self) -> None:
        replay, self._replay = self._replay, None
        if replay is not None and self._js is not None:
            name, subscription = replay
            with contextlib.suppress(Exception):  # the bus may be gone: NATS drops it when idle
                await subscription.unsubscribe()
                await self._js.delete_consumer(ROOMS.name, name)

    def _remember(self, envelope_id: str) -> bool:
        """False when the envelope was already delivered on this stream."""
        if envelope_id in self._seen:
            return False
        self._seen[envelope_id] = None
        if len(self._seen) > SEEN_IDS:
            self._seen.popitem(last=False)
        return True

    async def _on_live(self, message: Msg) -> None:
        if self._failure is not None:
            return
        response = self._response(message)
        if response is None:
            return
        try:
            self._queue.put_nowait(response)
        except asyncio.QueueFull:
            self._overflowed.inc()
            self.fail(
                unavailable("slow consumer: the stream fell too far behind; resume with the last cursor")
            )

    def _response(self, message: Msg) -> notifications_pb2.SubscribeResponse | None:
        """What the client gets for `message`; None for a repeat or an unreadable message."""
        with consumer_span(self._tracer, ROOMS.name, message, self._subscribe) as span:
            try:
                envelope = notifications_pb2.NotificationEnvelope.FromString(message.data)
                cursor = Cursor(message.metadata.sequence.stream, envelope.id).encode()
            except (DecodeError, ValueError) as error:
                log.warning("skipping an unreadable message on %s: %s", message.subject, error)
                return None
            span.set_attribute("messaging.message.id", envelope.id)
            if not self._remember(envelope.id):
                return None
            # Only this stream's rooms: the others would reveal who else was addressed (§8 #15).
            held = [room for room in envelope.rooms if room in self._room_set]
            del envelope.rooms[:]
            envelope.rooms.extend(held)
            return notifications_pb2.SubscribeResponse(envelope=envelope, cursor=cursor)

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
            self._queue.task_done()  # the replay waits for the reader to take everything
            if response is not None:
                return response
        assert self._failure is not None
        raise self._failure

    async def close(self) -> None:
        replaying, self._replaying = self._replaying, None
        if replaying is not None:
            replaying.cancel()
            await asyncio.gather(replaying, return_exceptions=True)
        await self._end_replay()
        live, self._live = self._live, None
        if live is not None:
            with contextlib.suppress(Exception):  # the bus may be gone: nothing left to stop
                await live.unsubscribe()


class Streams:
    """Every open stream of this replica, counted per identity."""

    def __init__(self, bus: Bus, max_per_identity: int, metrics: Metrics) -> None:
        self._max_per_identity = max_per_identity
        # This service's own numbers (its README lists them).
        metrics.reading(
            "agyn_notifications_open_streams",
            "Subscribe streams open on this replica.",
            lambda: float(len(self)),
        )
        self.delivered = metrics.counter(
            "agyn_notifications_envelopes_delivered_total", "Envelopes sent on Subscribe streams."
        )
        self.overflowed = metrics.counter(
            "agyn_notifications_streams_overflowed_total",
            "Streams ended because their client fell too far behind (it resumes with its cursor).",
        )
        self._open: set[Stream] = set()
        self._per_identity: dict[uuid.UUID, int] = {}
        self._closed: str | None = None  # why no stream is taken any more (the server stops)
        # Anything published while the bus was away never reached the consumers.
        bus.on_gap(self._on_gap)

    def add(self, stream: Stream) -> None:
        if self._closed is not None:
            raise unavailable(self._closed)
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

    def close(self, reason: str) -> None:
        """The server stops taking calls: end every open stream, and any opened later at once,
        with UNAVAILABLE; clients resume with their last cursor elsewhere."""
        self._closed = reason
        self.end_all(reason)

    def __len__(self) -> int:
        return len(self._open)
