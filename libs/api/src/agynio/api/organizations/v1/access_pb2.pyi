from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CheckOrganizationRelationRequest(_message.Message):
    __slots__ = ("identity_id", "organization_id", "relation")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    organization_id: str
    relation: str
    def __init__(self, identity_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., relation: _Optional[str] = ...) -> None: ...

class CheckOrganizationRelationResponse(_message.Message):
    __slots__ = ("allowed",)
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    def __init__(self, allowed: _Optional[bool] = ...) -> None: ...

class OrganizationRelationCheck(_message.Message):
    __slots__ = ("identity_id", "organization_id", "relation", "correlation_id")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    CORRELATION_ID_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    organization_id: str
    relation: str
    correlation_id: str
    def __init__(self, identity_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., relation: _Optional[str] = ..., correlation_id: _Optional[str] = ...) -> None: ...

class BatchCheckOrganizationRelationsRequest(_message.Message):
    __slots__ = ("checks",)
    CHECKS_FIELD_NUMBER: _ClassVar[int]
    checks: _containers.RepeatedCompositeFieldContainer[OrganizationRelationCheck]
    def __init__(self, checks: _Optional[_Iterable[_Union[OrganizationRelationCheck, _Mapping]]] = ...) -> None: ...

class OrganizationRelationCheckResult(_message.Message):
    __slots__ = ("allowed", "error")
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    allowed: bool
    error: str
    def __init__(self, allowed: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class BatchCheckOrganizationRelationsResponse(_message.Message):
    __slots__ = ("results",)
    class ResultsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: OrganizationRelationCheckResult
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[OrganizationRelationCheckResult, _Mapping]] = ...) -> None: ...
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.MessageMap[str, OrganizationRelationCheckResult]
    def __init__(self, results: _Optional[_Mapping[str, OrganizationRelationCheckResult]] = ...) -> None: ...

class ListOrganizationsForRelationRequest(_message.Message):
    __slots__ = ("identity_id", "relation")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    relation: str
    def __init__(self, identity_id: _Optional[str] = ..., relation: _Optional[str] = ...) -> None: ...

class ListOrganizationsForRelationResponse(_message.Message):
    __slots__ = ("organization_ids",)
    ORGANIZATION_IDS_FIELD_NUMBER: _ClassVar[int]
    organization_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, organization_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class OrganizationGrant(_message.Message):
    __slots__ = ("identity_id", "organization_id", "relation")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    organization_id: str
    relation: str
    def __init__(self, identity_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., relation: _Optional[str] = ...) -> None: ...

class WriteOrganizationGrantsRequest(_message.Message):
    __slots__ = ("writes", "deletes")
    WRITES_FIELD_NUMBER: _ClassVar[int]
    DELETES_FIELD_NUMBER: _ClassVar[int]
    writes: _containers.RepeatedCompositeFieldContainer[OrganizationGrant]
    deletes: _containers.RepeatedCompositeFieldContainer[OrganizationGrant]
    def __init__(self, writes: _Optional[_Iterable[_Union[OrganizationGrant, _Mapping]]] = ..., deletes: _Optional[_Iterable[_Union[OrganizationGrant, _Mapping]]] = ...) -> None: ...

class WriteOrganizationGrantsResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
