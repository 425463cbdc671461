from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class IdentityType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IDENTITY_TYPE_UNSPECIFIED: _ClassVar[IdentityType]
    IDENTITY_TYPE_AGENT: _ClassVar[IdentityType]
    IDENTITY_TYPE_RUNNER: _ClassVar[IdentityType]
    IDENTITY_TYPE_USER: _ClassVar[IdentityType]
    IDENTITY_TYPE_APP: _ClassVar[IdentityType]
IDENTITY_TYPE_UNSPECIFIED: IdentityType
IDENTITY_TYPE_AGENT: IdentityType
IDENTITY_TYPE_RUNNER: IdentityType
IDENTITY_TYPE_USER: IdentityType
IDENTITY_TYPE_APP: IdentityType

class RegisterIdentityRequest(_message.Message):
    __slots__ = ("identity_id", "identity_type")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    identity_type: IdentityType
    def __init__(self, identity_id: _Optional[str] = ..., identity_type: _Optional[_Union[IdentityType, str]] = ...) -> None: ...

class RegisterIdentityResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetIdentityTypeRequest(_message.Message):
    __slots__ = ("identity_id",)
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    def __init__(self, identity_id: _Optional[str] = ...) -> None: ...

class GetIdentityTypeResponse(_message.Message):
    __slots__ = ("identity_type",)
    IDENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    identity_type: IdentityType
    def __init__(self, identity_type: _Optional[_Union[IdentityType, str]] = ...) -> None: ...

class BatchGetIdentityTypesRequest(_message.Message):
    __slots__ = ("identity_ids",)
    IDENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    identity_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, identity_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class IdentityTypeEntry(_message.Message):
    __slots__ = ("identity_id", "identity_type")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    identity_type: IdentityType
    def __init__(self, identity_id: _Optional[str] = ..., identity_type: _Optional[_Union[IdentityType, str]] = ...) -> None: ...

class BatchGetIdentityTypesResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[IdentityTypeEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[IdentityTypeEntry, _Mapping]]] = ...) -> None: ...

class SetNicknameRequest(_message.Message):
    __slots__ = ("organization_id", "identity_id", "nickname", "installation_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    INSTALLATION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    identity_id: str
    nickname: str
    installation_id: str
    def __init__(self, organization_id: _Optional[str] = ..., identity_id: _Optional[str] = ..., nickname: _Optional[str] = ..., installation_id: _Optional[str] = ...) -> None: ...

class SetNicknameResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RemoveNicknameRequest(_message.Message):
    __slots__ = ("organization_id", "identity_id", "installation_id")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    INSTALLATION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    identity_id: str
    installation_id: str
    def __init__(self, organization_id: _Optional[str] = ..., identity_id: _Optional[str] = ..., installation_id: _Optional[str] = ...) -> None: ...

class RemoveNicknameResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResolveNicknameRequest(_message.Message):
    __slots__ = ("organization_id", "nickname")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    nickname: str
    def __init__(self, organization_id: _Optional[str] = ..., nickname: _Optional[str] = ...) -> None: ...

class ResolveNicknameResponse(_message.Message):
    __slots__ = ("identity_id", "identity_type", "installation_id")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_TYPE_FIELD_NUMBER: _ClassVar[int]
    INSTALLATION_ID_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    identity_type: IdentityType
    installation_id: str
    def __init__(self, identity_id: _Optional[str] = ..., identity_type: _Optional[_Union[IdentityType, str]] = ..., installation_id: _Optional[str] = ...) -> None: ...

class BatchGetNicknamesRequest(_message.Message):
    __slots__ = ("organization_id", "identity_ids")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    identity_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, organization_id: _Optional[str] = ..., identity_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class NicknameEntry(_message.Message):
    __slots__ = ("identity_id", "nickname")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    nickname: str
    def __init__(self, identity_id: _Optional[str] = ..., nickname: _Optional[str] = ...) -> None: ...

class BatchGetNicknamesResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[NicknameEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[NicknameEntry, _Mapping]]] = ...) -> None: ...
