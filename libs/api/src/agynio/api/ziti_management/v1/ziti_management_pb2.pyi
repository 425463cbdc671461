from agynio.api.identity.v1 import identity_pb2 as _identity_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CreateAgentIdentityRequest(_message.Message):
    __slots__ = ("agent_id", "workload_id")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    workload_id: str
    def __init__(self, agent_id: _Optional[str] = ..., workload_id: _Optional[str] = ...) -> None: ...

class CreateAgentIdentityResponse(_message.Message):
    __slots__ = ("ziti_identity_id", "enrollment_jwt")
    ZITI_IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_JWT_FIELD_NUMBER: _ClassVar[int]
    ziti_identity_id: str
    enrollment_jwt: str
    def __init__(self, ziti_identity_id: _Optional[str] = ..., enrollment_jwt: _Optional[str] = ...) -> None: ...

class DeleteIdentityRequest(_message.Message):
    __slots__ = ("ziti_identity_id",)
    ZITI_IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ziti_identity_id: str
    def __init__(self, ziti_identity_id: _Optional[str] = ...) -> None: ...

class DeleteIdentityResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CreateRunnerIdentityRequest(_message.Message):
    __slots__ = ("runner_id", "role_attributes")
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    runner_id: str
    role_attributes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, runner_id: _Optional[str] = ..., role_attributes: _Optional[_Iterable[str]] = ...) -> None: ...

class CreateRunnerIdentityResponse(_message.Message):
    __slots__ = ("ziti_identity_id", "identity_json")
    ZITI_IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_JSON_FIELD_NUMBER: _ClassVar[int]
    ziti_identity_id: str
    identity_json: bytes
    def __init__(self, ziti_identity_id: _Optional[str] = ..., identity_json: _Optional[bytes] = ...) -> None: ...

class DeleteRunnerIdentityRequest(_message.Message):
    __slots__ = ("identity_id", "ziti_service_id")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ZITI_SERVICE_ID_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    ziti_service_id: str
    def __init__(self, identity_id: _Optional[str] = ..., ziti_service_id: _Optional[str] = ...) -> None: ...

class DeleteRunnerIdentityResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResolveIdentityRequest(_message.Message):
    __slots__ = ("ziti_identity_id",)
    ZITI_IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ziti_identity_id: str
    def __init__(self, ziti_identity_id: _Optional[str] = ...) -> None: ...

class ResolveIdentityResponse(_message.Message):
    __slots__ = ("identity_id", "identity_type", "workload_id")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    identity_type: _identity_pb2.IdentityType
    workload_id: str
    def __init__(self, identity_id: _Optional[str] = ..., identity_type: _Optional[_Union[_identity_pb2.IdentityType, str]] = ..., workload_id: _Optional[str] = ...) -> None: ...
