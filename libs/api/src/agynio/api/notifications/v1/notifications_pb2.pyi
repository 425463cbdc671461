import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class NotificationEnvelope(_message.Message):
    __slots__ = ("id", "ts", "source", "event", "rooms", "payload")
    ID_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    ROOMS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    id: str
    ts: _timestamp_pb2.Timestamp
    source: str
    event: str
    rooms: _containers.RepeatedScalarFieldContainer[str]
    payload: _struct_pb2.Struct
    def __init__(self, id: _Optional[str] = ..., ts: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ..., event: _Optional[str] = ..., rooms: _Optional[_Iterable[str]] = ..., payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class PublishRequest(_message.Message):
    __slots__ = ("event", "rooms", "payload", "source")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    ROOMS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    event: str
    rooms: _containers.RepeatedScalarFieldContainer[str]
    payload: _struct_pb2.Struct
    source: str
    def __init__(self, event: _Optional[str] = ..., rooms: _Optional[_Iterable[str]] = ..., payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., source: _Optional[str] = ...) -> None: ...

class PublishResponse(_message.Message):
    __slots__ = ("id", "ts")
    ID_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    id: str
    ts: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., ts: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("rooms", "resume_after")
    ROOMS_FIELD_NUMBER: _ClassVar[int]
    RESUME_AFTER_FIELD_NUMBER: _ClassVar[int]
    rooms: _containers.RepeatedScalarFieldContainer[str]
    resume_after: str
    def __init__(self, rooms: _Optional[_Iterable[str]] = ..., resume_after: _Optional[str] = ...) -> None: ...

class SubscribeResponse(_message.Message):
    __slots__ = ("envelope", "cursor")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    envelope: NotificationEnvelope
    cursor: str
    def __init__(self, envelope: _Optional[_Union[NotificationEnvelope, _Mapping]] = ..., cursor: _Optional[str] = ...) -> None: ...
