import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ChatStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHAT_STATUS_UNSPECIFIED: _ClassVar[ChatStatus]
    CHAT_STATUS_OPEN: _ClassVar[ChatStatus]
    CHAT_STATUS_CLOSED: _ClassVar[ChatStatus]

class ChatActivityStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CHAT_ACTIVITY_STATUS_UNSPECIFIED: _ClassVar[ChatActivityStatus]
    CHAT_ACTIVITY_STATUS_RUNNING: _ClassVar[ChatActivityStatus]
    CHAT_ACTIVITY_STATUS_PENDING: _ClassVar[ChatActivityStatus]
    CHAT_ACTIVITY_STATUS_FINISHED: _ClassVar[ChatActivityStatus]
CHAT_STATUS_UNSPECIFIED: ChatStatus
CHAT_STATUS_OPEN: ChatStatus
CHAT_STATUS_CLOSED: ChatStatus
CHAT_ACTIVITY_STATUS_UNSPECIFIED: ChatActivityStatus
CHAT_ACTIVITY_STATUS_RUNNING: ChatActivityStatus
CHAT_ACTIVITY_STATUS_PENDING: ChatActivityStatus
CHAT_ACTIVITY_STATUS_FINISHED: ChatActivityStatus

class Chat(_message.Message):
    __slots__ = ("id", "participants", "created_at", "updated_at", "organization_id", "status", "summary", "activity_status", "unread_count", "active_workload_ids")
    ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_STATUS_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_WORKLOAD_IDS_FIELD_NUMBER: _ClassVar[int]
    id: str
    participants: _containers.RepeatedCompositeFieldContainer[ChatParticipant]
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    organization_id: str
    status: ChatStatus
    summary: str
    activity_status: ChatActivityStatus
    unread_count: int
    active_workload_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., participants: _Optional[_Iterable[_Union[ChatParticipant, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., organization_id: _Optional[str] = ..., status: _Optional[_Union[ChatStatus, str]] = ..., summary: _Optional[str] = ..., activity_status: _Optional[_Union[ChatActivityStatus, str]] = ..., unread_count: _Optional[int] = ..., active_workload_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ChatParticipant(_message.Message):
    __slots__ = ("id", "joined_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    JOINED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    joined_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., joined_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ChatMessage(_message.Message):
    __slots__ = ("id", "chat_id", "sender_id", "body", "file_ids", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    FILE_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    chat_id: str
    sender_id: str
    body: str
    file_ids: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., chat_id: _Optional[str] = ..., sender_id: _Optional[str] = ..., body: _Optional[str] = ..., file_ids: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CreateChatRequest(_message.Message):
    __slots__ = ("participant_ids", "organization_id")
    PARTICIPANT_IDS_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    participant_ids: _containers.RepeatedScalarFieldContainer[str]
    organization_id: str
    def __init__(self, participant_ids: _Optional[_Iterable[str]] = ..., organization_id: _Optional[str] = ...) -> None: ...

class CreateChatResponse(_message.Message):
    __slots__ = ("chat",)
    CHAT_FIELD_NUMBER: _ClassVar[int]
    chat: Chat
    def __init__(self, chat: _Optional[_Union[Chat, _Mapping]] = ...) -> None: ...

class GetChatsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "organization_id", "status")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    organization_id: str
    status: ChatStatus
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., organization_id: _Optional[str] = ..., status: _Optional[_Union[ChatStatus, str]] = ...) -> None: ...

class GetChatsResponse(_message.Message):
    __slots__ = ("chats", "next_page_token")
    CHATS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    chats: _containers.RepeatedCompositeFieldContainer[Chat]
    next_page_token: str
    def __init__(self, chats: _Optional[_Iterable[_Union[Chat, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateChatRequest(_message.Message):
    __slots__ = ("chat_id", "status", "summary")
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    chat_id: str
    status: ChatStatus
    summary: str
    def __init__(self, chat_id: _Optional[str] = ..., status: _Optional[_Union[ChatStatus, str]] = ..., summary: _Optional[str] = ...) -> None: ...

class UpdateChatResponse(_message.Message):
    __slots__ = ("chat",)
    CHAT_FIELD_NUMBER: _ClassVar[int]
    chat: Chat
    def __init__(self, chat: _Optional[_Union[Chat, _Mapping]] = ...) -> None: ...

class GetMessagesRequest(_message.Message):
    __slots__ = ("chat_id", "page_size", "page_token")
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    chat_id: str
    page_size: int
    page_token: str
    def __init__(self, chat_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetMessagesResponse(_message.Message):
    __slots__ = ("messages", "next_page_token", "unread_count")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    UNREAD_COUNT_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[ChatMessage]
    next_page_token: str
    unread_count: int
    def __init__(self, messages: _Optional[_Iterable[_Union[ChatMessage, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., unread_count: _Optional[int] = ...) -> None: ...

class SendMessageRequest(_message.Message):
    __slots__ = ("chat_id", "body", "file_ids")
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    FILE_IDS_FIELD_NUMBER: _ClassVar[int]
    chat_id: str
    body: str
    file_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, chat_id: _Optional[str] = ..., body: _Optional[str] = ..., file_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SendMessageResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: ChatMessage
    def __init__(self, message: _Optional[_Union[ChatMessage, _Mapping]] = ...) -> None: ...

class MarkAsReadRequest(_message.Message):
    __slots__ = ("chat_id", "message_ids")
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    chat_id: str
    message_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, chat_id: _Optional[str] = ..., message_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class MarkAsReadResponse(_message.Message):
    __slots__ = ("read_count",)
    READ_COUNT_FIELD_NUMBER: _ClassVar[int]
    read_count: int
    def __init__(self, read_count: _Optional[int] = ...) -> None: ...

class DeleteChatRequest(_message.Message):
    __slots__ = ("chat_id",)
    CHAT_ID_FIELD_NUMBER: _ClassVar[int]
    chat_id: str
    def __init__(self, chat_id: _Optional[str] = ...) -> None: ...

class DeleteChatResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
