"""The checks every request passes before its handler runs: strings and timestamps.

PostgreSQL refuses a NUL character in text, and a timestamp outside its range (or one that
datetime cannot hold), with an error that would otherwise surface as INTERNAL. So every
string field of a request, at any depth (repeated, map keys and values, oneofs), must be free
of NUL, and every google.protobuf.Timestamp must be one protobuf allows: 0001-01-01T00:00:00Z
to 9999-12-31T23:59:59Z with nanos in 0..999,999,999. A violation is INVALID_ARGUMENT naming
the field's path, e.g. `participants[0].participant_nickname`.

Only NUL is refused: PostgreSQL stores every other character, and message bodies legitimately
hold newlines and tabs; a field that must not hold other control characters checks that itself.
Invalid UTF-8 never gets this far: it fails to decode.

The walk is driven by the descriptors. Which fields of a message type can lead to a string or a
timestamp is worked out once per type and cached, so a message with none is not walked at all
and only the set fields that matter are visited.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from agyn_common.errors import invalid_argument
from agyn_common.timestamps import MAX_SECONDS, MIN_SECONDS

TIMESTAMP = "google.protobuf.Timestamp"
MAX_NANOS = 999_999_999

# Per message type: the fields to visit (empty: nothing in it can hold a string or timestamp).
_plans: dict[Descriptor, frozenset[FieldDescriptor]] = {}


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and field.message_type.GetOptions().map_entry


def _plan(
    descriptor: Descriptor, visiting: frozenset[Descriptor] = frozenset()
) -> frozenset[FieldDescriptor]:
    """The fields of `descriptor` that can lead to a string or a timestamp."""
    cached = _plans.get(descriptor)
    if cached is not None:
        return cached
    visiting = visiting | {descriptor}
    fields = set()
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            fields.add(field)
        elif field.message_type is not None:
            child = field.message_type
            # A type already being planned (a recursive one such as google.protobuf.Value) is
            # kept: it is visited when set, which costs little and is never wrong.
            if child.full_name == TIMESTAMP or child in visiting or _plan(child, visiting):
                fields.add(field)
    plan = frozenset(fields)
    # A plan made while an enclosing type was still open may have kept a field only because of
    # the cycle; caching it is still sound (it may visit more, never less).
    _plans[descriptor] = plan
    return plan


def check_request(message: Message) -> None:
    """INVALID_ARGUMENT naming the first string holding NUL or the first timestamp out of range."""
    _check_message(message, "")


def _check_message(message: Message, path: str) -> None:
    if message.DESCRIPTOR.full_name == TIMESTAMP:
        _check_timestamp(message, path)
        return
    descriptor: Descriptor = message.DESCRIPTOR  # type: ignore[assignment]  # upb's is the same type
    plan = _plan(descriptor)
    if not plan:
        return
    for field, value in message.ListFields():
        if field not in plan:
            continue
        name = f"{path}.{field.name}" if path else field.name
        if _is_map(field):
            _check_map(field, value, name)
        elif field.is_repeated:
            for index, item in enumerate(value):
                _check_value(field, item, f"{name}[{index}]")
        else:
            _check_value(field, value, name)


def _check_map(field: FieldDescriptor, entries: Mapping[Any, Any], path: str) -> None:
    entry_type = field.message_type
    assert entry_type is not None  # a map field's type is its entry message
    value_field = entry_type.fields_by_name["value"]
    for key, value in entries.items():
        entry = f"{path}[{key!r}]"
        if isinstance(key, str) and "\0" in key:
            raise invalid_argument(entry, "key must not contain NUL characters")
        _check_value(value_field, value, entry)


def _check_value(field: FieldDescriptor, value: Any, path: str) -> None:
    if field.type == FieldDescriptor.TYPE_STRING:
        if "\0" in value:
            raise invalid_argument(path, "must not contain NUL characters")
    elif field.message_type is not None:
        _check_message(value, path)


def _check_timestamp(stamp: Message, path: str) -> None:
    seconds: int = stamp.seconds  # type: ignore[attr-defined]
    nanos: int = stamp.nanos  # type: ignore[attr-defined]
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        raise invalid_argument(path, "must be between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z")
    if not 0 <= nanos <= MAX_NANOS:
        raise invalid_argument(path, f"nanos must be between 0 and {MAX_NANOS}")
