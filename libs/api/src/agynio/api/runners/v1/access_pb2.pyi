from agynio.api.runners.v1 import runners_pb2 as _runners_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ThreadAgent(_message.Message):
    __slots__ = ("thread_id", "agent_id")
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    agent_id: str
    def __init__(self, thread_id: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class GetLatestThreadWorkloadsRequest(_message.Message):
    __slots__ = ("pairs",)
    PAIRS_FIELD_NUMBER: _ClassVar[int]
    pairs: _containers.RepeatedCompositeFieldContainer[ThreadAgent]
    def __init__(self, pairs: _Optional[_Iterable[_Union[ThreadAgent, _Mapping]]] = ...) -> None: ...

class LatestThreadWorkload(_message.Message):
    __slots__ = ("thread_id", "agent_id", "workload")
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    agent_id: str
    workload: _runners_pb2.Workload
    def __init__(self, thread_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., workload: _Optional[_Union[_runners_pb2.Workload, _Mapping]] = ...) -> None: ...

class GetLatestThreadWorkloadsResponse(_message.Message):
    __slots__ = ("latest",)
    LATEST_FIELD_NUMBER: _ClassVar[int]
    latest: _containers.RepeatedCompositeFieldContainer[LatestThreadWorkload]
    def __init__(self, latest: _Optional[_Iterable[_Union[LatestThreadWorkload, _Mapping]]] = ...) -> None: ...
