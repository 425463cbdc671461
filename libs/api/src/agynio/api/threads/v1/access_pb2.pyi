from agynio.api.threads.v1 import threads_pb2 as _threads_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetParticipantThreadsRequest(_message.Message):
    __slots__ = ("thread_ids",)
    THREAD_IDS_FIELD_NUMBER: _ClassVar[int]
    thread_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, thread_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetParticipantThreadsResponse(_message.Message):
    __slots__ = ("threads",)
    THREADS_FIELD_NUMBER: _ClassVar[int]
    threads: _containers.RepeatedCompositeFieldContainer[_threads_pb2.Thread]
    def __init__(self, threads: _Optional[_Iterable[_Union[_threads_pb2.Thread, _Mapping]]] = ...) -> None: ...
