from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class GetChatStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetChatStatusResponse(_message.Message):
    __slots__ = ("service", "schema_revision")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_REVISION_FIELD_NUMBER: _ClassVar[int]
    service: str
    schema_revision: str
    def __init__(self, service: _Optional[str] = ..., schema_revision: _Optional[str] = ...) -> None: ...
