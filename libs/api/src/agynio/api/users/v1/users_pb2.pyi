import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ClusterRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CLUSTER_ROLE_UNSPECIFIED: _ClassVar[ClusterRole]
    CLUSTER_ROLE_ADMIN: _ClassVar[ClusterRole]

class DeviceStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEVICE_STATUS_UNSPECIFIED: _ClassVar[DeviceStatus]
    DEVICE_STATUS_PENDING: _ClassVar[DeviceStatus]
    DEVICE_STATUS_ENROLLED: _ClassVar[DeviceStatus]
CLUSTER_ROLE_UNSPECIFIED: ClusterRole
CLUSTER_ROLE_ADMIN: ClusterRole
DEVICE_STATUS_UNSPECIFIED: DeviceStatus
DEVICE_STATUS_PENDING: DeviceStatus
DEVICE_STATUS_ENROLLED: DeviceStatus

class EntityMeta(_message.Message):
    __slots__ = ("id", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class User(_message.Message):
    __slots__ = ("meta", "oidc_subject", "name", "email", "photo_url", "nickname", "username")
    META_FIELD_NUMBER: _ClassVar[int]
    OIDC_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHOTO_URL_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    oidc_subject: str
    name: str
    email: str
    photo_url: str
    nickname: str
    username: str
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., oidc_subject: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., photo_url: _Optional[str] = ..., nickname: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class Device(_message.Message):
    __slots__ = ("meta", "user_identity_id", "name", "openziti_identity_id", "status")
    META_FIELD_NUMBER: _ClassVar[int]
    USER_IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPENZITI_IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    user_identity_id: str
    name: str
    openziti_identity_id: str
    status: DeviceStatus
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., user_identity_id: _Optional[str] = ..., name: _Optional[str] = ..., openziti_identity_id: _Optional[str] = ..., status: _Optional[_Union[DeviceStatus, str]] = ...) -> None: ...

class ResolveOrCreateUserRequest(_message.Message):
    __slots__ = ("oidc_subject", "name", "email", "photo_url", "preferred_username")
    OIDC_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHOTO_URL_FIELD_NUMBER: _ClassVar[int]
    PREFERRED_USERNAME_FIELD_NUMBER: _ClassVar[int]
    oidc_subject: str
    name: str
    email: str
    photo_url: str
    preferred_username: str
    def __init__(self, oidc_subject: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., photo_url: _Optional[str] = ..., preferred_username: _Optional[str] = ...) -> None: ...

class ResolveOrCreateUserResponse(_message.Message):
    __slots__ = ("user", "created")
    USER_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    user: User
    created: bool
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., created: _Optional[bool] = ...) -> None: ...

class GetUserRequest(_message.Message):
    __slots__ = ("identity_id",)
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    def __init__(self, identity_id: _Optional[str] = ...) -> None: ...

class GetUserResponse(_message.Message):
    __slots__ = ("user", "cluster_role")
    USER_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ROLE_FIELD_NUMBER: _ClassVar[int]
    user: User
    cluster_role: ClusterRole
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., cluster_role: _Optional[_Union[ClusterRole, str]] = ...) -> None: ...

class GetUserByOIDCSubjectRequest(_message.Message):
    __slots__ = ("oidc_subject",)
    OIDC_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    oidc_subject: str
    def __init__(self, oidc_subject: _Optional[str] = ...) -> None: ...

class GetUserByOIDCSubjectResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: User
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class BatchGetUsersRequest(_message.Message):
    __slots__ = ("identity_ids",)
    IDENTITY_IDS_FIELD_NUMBER: _ClassVar[int]
    identity_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, identity_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetUsersResponse(_message.Message):
    __slots__ = ("users",)
    USERS_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[User]
    def __init__(self, users: _Optional[_Iterable[_Union[User, _Mapping]]] = ...) -> None: ...

class UpdateUserRequest(_message.Message):
    __slots__ = ("identity_id", "name", "email", "photo_url", "nickname", "cluster_role", "username")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    PHOTO_URL_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ROLE_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    name: str
    email: str
    photo_url: str
    nickname: str
    cluster_role: ClusterRole
    username: str
    def __init__(self, identity_id: _Optional[str] = ..., name: _Optional[str] = ..., email: _Optional[str] = ..., photo_url: _Optional[str] = ..., nickname: _Optional[str] = ..., cluster_role: _Optional[_Union[ClusterRole, str]] = ..., username: _Optional[str] = ...) -> None: ...

class UpdateUserResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: User
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class GetMeRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetMeResponse(_message.Message):
    __slots__ = ("user", "cluster_role")
    USER_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ROLE_FIELD_NUMBER: _ClassVar[int]
    user: User
    cluster_role: ClusterRole
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., cluster_role: _Optional[_Union[ClusterRole, str]] = ...) -> None: ...

class UpdateMeRequest(_message.Message):
    __slots__ = ("name", "username")
    NAME_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    username: str
    def __init__(self, name: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class UpdateMeResponse(_message.Message):
    __slots__ = ("user", "cluster_role")
    USER_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ROLE_FIELD_NUMBER: _ClassVar[int]
    user: User
    cluster_role: ClusterRole
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ..., cluster_role: _Optional[_Union[ClusterRole, str]] = ...) -> None: ...

class UserDirectoryEntry(_message.Message):
    __slots__ = ("identity_id", "username", "name", "photo_url")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PHOTO_URL_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    username: str
    name: str
    photo_url: str
    def __init__(self, identity_id: _Optional[str] = ..., username: _Optional[str] = ..., name: _Optional[str] = ..., photo_url: _Optional[str] = ...) -> None: ...

class SearchUsersRequest(_message.Message):
    __slots__ = ("prefix", "limit")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    limit: int
    def __init__(self, prefix: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class SearchUsersResponse(_message.Message):
    __slots__ = ("users",)
    USERS_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[UserDirectoryEntry]
    def __init__(self, users: _Optional[_Iterable[_Union[UserDirectoryEntry, _Mapping]]] = ...) -> None: ...

class ListUsersRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListUsersResponse(_message.Message):
    __slots__ = ("users", "next_page_token")
    USERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    users: _containers.RepeatedCompositeFieldContainer[User]
    next_page_token: str
    def __init__(self, users: _Optional[_Iterable[_Union[User, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CreateUserRequest(_message.Message):
    __slots__ = ("oidc_subject", "name", "nickname", "photo_url", "cluster_role", "username")
    OIDC_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    PHOTO_URL_FIELD_NUMBER: _ClassVar[int]
    CLUSTER_ROLE_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    oidc_subject: str
    name: str
    nickname: str
    photo_url: str
    cluster_role: ClusterRole
    username: str
    def __init__(self, oidc_subject: _Optional[str] = ..., name: _Optional[str] = ..., nickname: _Optional[str] = ..., photo_url: _Optional[str] = ..., cluster_role: _Optional[_Union[ClusterRole, str]] = ..., username: _Optional[str] = ...) -> None: ...

class CreateUserResponse(_message.Message):
    __slots__ = ("user",)
    USER_FIELD_NUMBER: _ClassVar[int]
    user: User
    def __init__(self, user: _Optional[_Union[User, _Mapping]] = ...) -> None: ...

class DeleteUserRequest(_message.Message):
    __slots__ = ("identity_id",)
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    def __init__(self, identity_id: _Optional[str] = ...) -> None: ...

class DeleteUserResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class APIToken(_message.Message):
    __slots__ = ("id", "identity_id", "name", "token_prefix", "expires_at", "created_at", "last_used_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TOKEN_PREFIX_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_USED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    identity_id: str
    name: str
    token_prefix: str
    expires_at: _timestamp_pb2.Timestamp
    created_at: _timestamp_pb2.Timestamp
    last_used_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., identity_id: _Optional[str] = ..., name: _Optional[str] = ..., token_prefix: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_used_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateAPITokenRequest(_message.Message):
    __slots__ = ("name", "expires_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateAPITokenResponse(_message.Message):
    __slots__ = ("token", "plaintext_token")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    PLAINTEXT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    token: APIToken
    plaintext_token: str
    def __init__(self, token: _Optional[_Union[APIToken, _Mapping]] = ..., plaintext_token: _Optional[str] = ...) -> None: ...

class ListAPITokensRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAPITokensResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[APIToken]
    def __init__(self, tokens: _Optional[_Iterable[_Union[APIToken, _Mapping]]] = ...) -> None: ...

class RevokeAPITokenRequest(_message.Message):
    __slots__ = ("token_id",)
    TOKEN_ID_FIELD_NUMBER: _ClassVar[int]
    token_id: str
    def __init__(self, token_id: _Optional[str] = ...) -> None: ...

class RevokeAPITokenResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ResolveAPITokenRequest(_message.Message):
    __slots__ = ("token_hash",)
    TOKEN_HASH_FIELD_NUMBER: _ClassVar[int]
    token_hash: str
    def __init__(self, token_hash: _Optional[str] = ...) -> None: ...

class ResolveAPITokenResponse(_message.Message):
    __slots__ = ("identity_id", "token")
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    token: APIToken
    def __init__(self, identity_id: _Optional[str] = ..., token: _Optional[_Union[APIToken, _Mapping]] = ...) -> None: ...

class CreateDeviceRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateDeviceResponse(_message.Message):
    __slots__ = ("device", "enrollment_jwt")
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    ENROLLMENT_JWT_FIELD_NUMBER: _ClassVar[int]
    device: Device
    enrollment_jwt: str
    def __init__(self, device: _Optional[_Union[Device, _Mapping]] = ..., enrollment_jwt: _Optional[str] = ...) -> None: ...

class ListDevicesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListDevicesResponse(_message.Message):
    __slots__ = ("devices", "next_page_token")
    DEVICES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    devices: _containers.RepeatedCompositeFieldContainer[Device]
    next_page_token: str
    def __init__(self, devices: _Optional[_Iterable[_Union[Device, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteDeviceRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteDeviceResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
