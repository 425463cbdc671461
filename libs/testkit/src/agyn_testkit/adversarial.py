"""Adversarial requests built from message descriptors, for the robustness suite.

`RequestWalker.requests(descriptor)` gives, for any request message type, a bounded and
deterministic (seeded) list of requests: the empty one, a plausible one (real ids where a
field's name says what it holds), that plausible one with each field in turn set to every
adversarial value of its type, and random mixes of plausible and adversarial values. Nothing
here knows a service: a new request type is covered by having a descriptor.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import math
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
import h2.config
import h2.connection
import h2.events
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

# protobuf's stubs type descriptors as its pure-Python classes, and their message_type and
# enum_type as optional; upb hands out its own classes. Descriptors are `Any` here.
Field = Any
MessageType = Any

TIMESTAMP = "google.protobuf.Timestamp"
# Nested messages deeper than this are left empty (google.protobuf.Value recurses for ever).
MAX_DEPTH = 3
# "Many items" in a repeated field or a map; short items, so the request stays under grpc's 4 MB.
MANY = 500
VERY_LONG = 10_000
# Mixes of plausible and adversarial values over every field, per request type.
MIXES = 12

_INT32 = (0, -1, 2**31 - 1, -(2**31))
_INT64 = (0, -1, 2**63 - 1, -(2**63))
_UINT32 = (0, 2**32 - 1)
_UINT64 = (0, 2**64 - 1)
_FLOATS = (math.nan, math.inf, -math.inf, -0.0, 3.0e38)
_BYTES = (b"", b"\x00", b"\xff\xfe" * (VERY_LONG // 2), b"\x80not utf-8")

_INTEGERS: dict[int, tuple[int, ...]] = {
    FieldDescriptor.TYPE_INT32: _INT32,
    FieldDescriptor.TYPE_SINT32: _INT32,
    FieldDescriptor.TYPE_SFIXED32: _INT32,
    FieldDescriptor.TYPE_INT64: _INT64,
    FieldDescriptor.TYPE_SINT64: _INT64,
    FieldDescriptor.TYPE_SFIXED64: _INT64,
    FieldDescriptor.TYPE_UINT32: _UINT32,
    FieldDescriptor.TYPE_FIXED32: _UINT32,
    FieldDescriptor.TYPE_UINT64: _UINT64,
    FieldDescriptor.TYPE_FIXED64: _UINT64,
}
_FLOAT_TYPES = (FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE)

# (seconds, nanos): past either end of what PostgreSQL and RFC 3339 hold, nanos out of range.
_TIMESTAMPS = (
    (2**62, 0),
    (-(2**62), 0),
    (253_402_300_800, 0),  # 10000-01-01
    (-62_135_596_801, 0),  # the year 0
    (0, 10**9),
    (0, -1),
    (0, 0),
)


def adversarial_strings(rng: random.Random) -> tuple[str, ...]:
    return (
        "",
        " ",
        "x" * VERY_LONG,
        "\x00",
        "a\x00b",
        "\x01\x07\x08\x1b\x7f",
        "\t\n\r",
        "not-a-uuid",
        str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        str(uuid.UUID(int=rng.getrandbits(128), version=4)).upper(),
        "{" + str(uuid.UUID(int=rng.getrandbits(128), version=4)) + "}",
        "00000000-0000-0000-0000-000000000000",
        "ünïcødé 🙂 \u202e\u200b",
        "' OR 1=1; --",
        "%s%n%x",
        "../../etc/passwd",
        "thread_participant:me",
        "a." * 200,
        # Garbage page tokens: not base64, base64 of junk, base64 of JSON of the wrong shape.
        "!!!not base64!!!",
        base64.urlsafe_b64encode(rng.randbytes(48)).decode(),
        base64.urlsafe_b64encode(b'{"after": [1, 2], "id": null}').decode(),
        base64.urlsafe_b64encode(b"\x00" * 16).decode().rstrip("="),
    )


@dataclass(frozen=True)
class Case:
    """One request and what was done to it, for the failure report."""

    label: str
    request: Message


class RequestWalker:
    def __init__(self, seed: int, real_ids: Mapping[str, str]) -> None:
        """`real_ids`: a plausible value by field name (`organization_id` → an existing organization);
        `<name>s` (repeated) takes the value of `<name>`."""
        self._seed = seed
        self._real_ids = real_ids
        self._strings = adversarial_strings(random.Random(seed))

    # --- the plausible request ------------------------------------------------------------------

    def _plausible_string(self, field: Field) -> str:
        name = field.name
        if field.is_repeated and name.endswith("s"):
            name = name[:-1]
        return self._real_ids.get(name, "robust")

    def _plausible_scalar(self, field: Field) -> Any:
        if field.type == FieldDescriptor.TYPE_STRING:
            return self._plausible_string(field)
        if field.type == FieldDescriptor.TYPE_BYTES:
            return b"robust"
        if field.type == FieldDescriptor.TYPE_BOOL:
            return False
        if field.type == FieldDescriptor.TYPE_ENUM:
            values = field.enum_type.values
            return values[1].number if len(values) > 1 else values[0].number
        if field.type in _FLOAT_TYPES:
            return 1.0
        return 10  # a page size, a limit, a count

    def fill_plausible(self, message: Any, depth: int) -> None:
        descriptor = message.DESCRIPTOR
        if descriptor.full_name == TIMESTAMP:
            message.seconds = 1_900_000_000  # 2030: in the future, within every range
            return
        if depth > MAX_DEPTH:
            return
        for field in descriptor.fields:
            if field.containing_oneof is not None and field.containing_oneof.fields[0] is not field:
                continue  # one member per oneof
            if _is_map(field):
                self._put_entry(
                    message, field, self._plausible_scalar(field.message_type.fields_by_name["key"]), depth
                )
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                child = (
                    getattr(message, field.name).add() if field.is_repeated else getattr(message, field.name)
                )
                child.SetInParent()  # present even when none of its fields is set
                self.fill_plausible(child, depth + 1)
            elif field.is_repeated:
                getattr(message, field.name).append(self._plausible_scalar(field))
            else:
                setattr(message, field.name, self._plausible_scalar(field))

    def plausible(self, descriptor: MessageType) -> Message:
        message = message_factory.GetMessageClass(descriptor)()
        self.fill_plausible(message, 0)
        return message

    # --- adversarial values ---------------------------------------------------------------------

    def _scalar_values(self, field: Field) -> tuple[Any, ...]:
        kind = field.type
        if kind == FieldDescriptor.TYPE_STRING:
            return (*self._strings, *self._real_ids.values())
        if kind == FieldDescriptor.TYPE_BYTES:
            return _BYTES
        if kind == FieldDescriptor.TYPE_BOOL:
            return (True, False)
        if kind == FieldDescriptor.TYPE_ENUM:
            known = tuple(value.number for value in field.enum_type.values)
            return (*known, max(known) + 1, 99, -1, 2**31 - 1)
        if kind in _FLOAT_TYPES:
            return _FLOATS
        return _INTEGERS[kind]

    def _leaf_mutations(self, field: Field) -> Iterator[tuple[str, Any]]:
        """(label, how to set it) for `field` on a message: a callable taking the parent."""
        if field.is_repeated and not _is_map(field) and field.type != FieldDescriptor.TYPE_MESSAGE:
            plausible = self._plausible_scalar(field)
            yield "empty", lambda parent: parent.ClearField(field.name)
            yield f"{MANY} items", lambda parent: getattr(parent, field.name).extend([plausible] * MANY)
            for value in self._scalar_values(field):
                yield (
                    f"[{_short(value)}]",
                    lambda parent, value=value: _replace_repeated(parent, field.name, [value]),
                )
            return
        for value in self._scalar_values(field):
            yield _short(value), lambda parent, value=value: setattr(parent, field.name, value)

    def _mutations(self, descriptor: MessageType, depth: int) -> Iterator[tuple[str, Any]]:
        """Every (label, mutate(message)) that sets one field, at any depth, adversarially."""
        if descriptor.full_name == TIMESTAMP:
            for seconds, nanos in _TIMESTAMPS:

                def set_time(message: Any, seconds: int = seconds, nanos: int = nanos) -> None:
                    message.seconds, message.nanos = seconds, nanos

                yield f"seconds={seconds} nanos={nanos}", set_time
            return
        if depth > MAX_DEPTH:
            return
        for field in descriptor.fields:
            if _is_map(field):
                yield from self._map_mutations(field, depth)
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                child = field.message_type
                yield f"{field.name}: unset", lambda message, field=field: message.ClearField(field.name)
                if field.is_repeated:
                    yield (
                        f"{field.name}: {MANY} items",
                        lambda message, field=field: _many_messages(message, field, self),
                    )
                for label, mutate in self._mutations(child, depth + 1):
                    yield (
                        f"{field.name}.{label}",
                        lambda message, field=field, mutate=mutate: mutate(_first(message, field)),
                    )
            else:
                for label, mutate in self._leaf_mutations(field):
                    yield f"{field.name}={label}", mutate

    def _put_entry(self, message: Message, field: Field, key: Any, depth: int) -> None:
        """A plausible value at `key` of map `field`."""
        target = getattr(message, field.name)
        value_field = field.message_type.fields_by_name["value"]
        if value_field.type == FieldDescriptor.TYPE_MESSAGE:
            self.fill_plausible(target[key], depth + 1)
        else:
            target[key] = self._plausible_scalar(value_field)

    def _map_mutations(self, field: Field, depth: int) -> Iterator[tuple[str, Any]]:
        key_field, value_field = (field.message_type.fields_by_name[name] for name in ("key", "value"))
        keys = self._scalar_values(key_field)

        def put(message: Message, key: Any) -> None:
            self._put_entry(message, field, key, depth)

        for key in keys:
            yield f"{field.name}[{_short(key)}]", lambda message, key=key: put(message, key)

        def put_many(message: Message) -> None:
            for index in range(MANY):
                put(message, _nth_key(key_field, index))

        yield f"{field.name}: {MANY} entries", put_many
        if value_field.type == FieldDescriptor.TYPE_MESSAGE:
            for label, mutate in self._mutations(value_field.message_type, depth + 1):
                yield (
                    f"{field.name}[k].{label}",
                    lambda message, mutate=mutate: mutate(getattr(message, field.name)["k"]),
                )

    # --- the requests ---------------------------------------------------------------------------

    def _mix(self, descriptor: MessageType, rng: random.Random) -> Message:
        """The plausible request with each mutation applied at random, about one in four."""
        message = self.plausible(descriptor)
        for _, mutate in self._mutations(descriptor, 0):
            if rng.random() < 0.25:
                mutate(message)
        return message

    def requests(self, descriptor: MessageType, limit: int) -> list[Case]:
        """At most `limit` requests of type `descriptor`, the same ones on every run."""
        rng = random.Random(f"{self._seed}:{descriptor.full_name}")
        cls = message_factory.GetMessageClass(descriptor)
        first = [Case("empty", cls()), Case("plausible", self.plausible(descriptor))]
        single = []
        for label, mutate in self._mutations(descriptor, 0):
            message = self.plausible(descriptor)
            mutate(message)
            single.append(Case(label, message))
        mixes = [Case(f"mix {index}", self._mix(descriptor, rng)) for index in range(MIXES)]
        rest = single + mixes
        room = max(limit - len(first), 0)
        chosen = sorted(rng.sample(range(len(rest)), room)) if len(rest) > room else range(len(rest))
        return first + [rest[index] for index in chosen]


def _is_map(field: Field) -> bool:
    return bool(field.type == FieldDescriptor.TYPE_MESSAGE and field.message_type.GetOptions().map_entry)


def _first(message: Message, field: Field) -> Message:
    """The message in `field`: the field itself, or the first element of a repeated field."""
    value = getattr(message, field.name)
    if not field.is_repeated:
        return value  # type: ignore[no-any-return]
    return value[0] if len(value) else value.add()  # type: ignore[no-any-return]


def _many_messages(message: Message, field: Field, walker: RequestWalker) -> None:
    items = getattr(message, field.name)
    for _ in range(MANY):
        walker.fill_plausible(items.add(), 1)


def _replace_repeated(message: Message, name: str, values: list[Any]) -> None:
    message.ClearField(name)
    getattr(message, name).extend(values)


def _nth_key(key_field: Field, index: int) -> Any:
    return f"key-{index}" if key_field.type == FieldDescriptor.TYPE_STRING else index


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}...({len(text)} chars)"


# --- the outcomes ---------------------------------------------------------------------------------

# What no call may end with: a server fault, a call still unanswered past its deadline
# (DEADLINE_EXCEEDED from grpc, HUNG when even the client's own guard ran out), or a call
# the server dropped with its connection (CLOSED, from `raw_grpc_status`).
FAILING = frozenset({"INTERNAL", "UNKNOWN", "DATA_LOSS", "DEADLINE_EXCEEDED", "HUNG", "CLOSED"})


@dataclass
class Tally:
    """Outcomes (a status name, or an HTTP status) per service, and the calls that failed."""

    counts: dict[str, Counter[str]] = dataclasses.field(default_factory=dict)
    failures: list[str] = dataclasses.field(default_factory=list)

    def record(self, service: str, outcome: str, failed: bool, what: Callable[[], str]) -> None:
        self.counts.setdefault(service, Counter())[outcome] += 1
        if failed:
            self.failures.append(f"{service}: {outcome} {what()}")

    def summary(self, title: str) -> list[str]:
        lines = [f"{title}: requests and outcomes per service"]
        for service, counts in self.counts.items():
            outcomes = ", ".join(f"{outcome} {count}" for outcome, count in sorted(counts.items()))
            lines.append(f"  {service:<14} {sum(counts.values()):>6}  {outcomes}")
        return lines


# The tallies of the run by suite ("gRPC", "Connect"), for the terminal summary.
TALLIES = pytest.StashKey[dict[str, Tally]]()


# --- a gRPC call by hand --------------------------------------------------------------------------


async def raw_grpc_status(
    address: str,
    path: str,
    payload: bytes,
    headers: list[tuple[bytes, bytes]],
    deadline: float,
    stream_window: float | None,
) -> str:
    """The grpc-status name of a request (one message) sent over HTTP/2 by hand, with headers grpcio
    refuses to send (values that are not ASCII). OPEN for a stream (`stream_window` set) still
    serving after that long; RESET / CLOSED when the server ends the stream or the connection
    without a status; HUNG when nothing came within `deadline`."""
    host, _, port = address.rpartition(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    connection = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, validate_outbound_headers=False)
    )
    connection.initiate_connection()
    stream = connection.get_next_available_stream_id()
    connection.send_headers(
        stream,
        [
            (b":method", b"POST"),
            (b":scheme", b"http"),
            (b":path", path.encode()),
            (b":authority", address.encode()),
            (b"content-type", b"application/grpc"),
            (b"te", b"trailers"),
            *headers,
        ],
    )
    body = b"\x00" + len(payload).to_bytes(4, "big") + payload
    frame = connection.max_outbound_frame_size  # the payloads here fit the initial window
    for start in range(0, len(body), frame):
        connection.send_data(stream, body[start : start + frame], end_stream=start + frame >= len(body))
    writer.write(connection.data_to_send())
    try:
        async with asyncio.timeout(stream_window or deadline):
            while True:
                data = await reader.read(65536)
                if not data:
                    return "CLOSED"
                for event in connection.receive_data(data):
                    if isinstance(event, h2.events.ResponseReceived | h2.events.TrailersReceived):
                        status = dict(event.headers).get(b"grpc-status")
                        if status is not None:
                            return str(_STATUS_NAMES.get(int(status), f"grpc-status {int(status)}"))
                    elif isinstance(event, h2.events.DataReceived):
                        connection.acknowledge_received_data(event.flow_controlled_length, stream)
                    elif isinstance(event, h2.events.StreamReset):
                        return "RESET"
                writer.write(connection.data_to_send())
    except TimeoutError:
        return "OPEN" if stream_window is not None else "HUNG"
    finally:
        writer.close()


_STATUS_NAMES = {code.value[0]: code.name for code in grpc.StatusCode}
