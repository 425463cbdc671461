from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckAgentRelationRequest(_message.Message):
    __slots__ = ("identity_id", "agent_id", "relation")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    agent_id: str
    relation: str
    def __init__(self, identity_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., relation: _Optional[str] = ...) -> None: ...

class CheckAgentRelationResponse(_message.Message):
    __slots__ = ("allowed",)
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    def __init__(self, allowed: _Optional[bool] = ...) -> None: ...

class AgentRelationCheck(_message.Message):
    __slots__ = ("identity_id", "agent_id", "relation", "correlation_id")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    agent_id: str
    relation: str
    correlation_id: str
    def __init__(self, identity_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., relation: _Optional[str] = ..., correlation_id: _Optional[str] = ...) -> None: ...

class BatchCheckAgentRelationsRequest(_message.Message):
    __slots__ = ("checks",)
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    checks: _containers.RepeatedCompositeFieldContainer[AgentRelationCheck]
    def __init__(self, checks: _Optional[_Iterable[_Union[AgentRelationCheck, _Mapping]]] = ...) -> None: ...

class AgentRelationCheckResult(_message.Message):
    __slots__ = ("allowed",)
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    def __init__(self, allowed: _Optional[bool] = ...) -> None: ...

class BatchCheckAgentRelationsResponse(_message.Message):
    __slots__ = ("results",)
    class ResultsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: AgentRelationCheckResult
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[AgentRelationCheckResult, _Mapping]] = ...) -> None: ...
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.MessageMap[str, AgentRelationCheckResult]
    def __init__(self, results: _Optional[_Mapping[str, AgentRelationCheckResult]] = ...) -> None: ...
