import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ThreadStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    THREAD_STATUS_UNSPECIFIED: _ClassVar[ThreadStatus]
    THREAD_STATUS_ACTIVE: _ClassVar[ThreadStatus]
    THREAD_STATUS_ARCHIVED: _ClassVar[ThreadStatus]
    THREAD_STATUS_DEGRADED: _ClassVar[ThreadStatus]

class MessageOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MESSAGE_ORDER_UNSPECIFIED: _ClassVar[MessageOrder]
    MESSAGE_ORDER_OLDEST_FIRST: _ClassVar[MessageOrder]
    MESSAGE_ORDER_NEWEST_FIRST: _ClassVar[MessageOrder]

class SortDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SORT_DIRECTION_UNSPECIFIED: _ClassVar[SortDirection]
    SORT_DIRECTION_ASC: _ClassVar[SortDirection]
    SORT_DIRECTION_DESC: _ClassVar[SortDirection]

class ListOrganizationThreadsSortField(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIST_ORGANIZATION_THREADS_SORT_FIELD_UNSPECIFIED: _ClassVar[ListOrganizationThreadsSortField]
    LIST_ORGANIZATION_THREADS_SORT_FIELD_CREATED: _ClassVar[ListOrganizationThreadsSortField]
    LIST_ORGANIZATION_THREADS_SORT_FIELD_UPDATED: _ClassVar[ListOrganizationThreadsSortField]
    LIST_ORGANIZATION_THREADS_SORT_FIELD_MESSAGE_COUNT: _ClassVar[ListOrganizationThreadsSortField]
    LIST_ORGANIZATION_THREADS_SORT_FIELD_STATUS: _ClassVar[ListOrganizationThreadsSortField]
THREAD_STATUS_UNSPECIFIED: ThreadStatus
THREAD_STATUS_ACTIVE: ThreadStatus
THREAD_STATUS_ARCHIVED: ThreadStatus
THREAD_STATUS_DEGRADED: ThreadStatus
MESSAGE_ORDER_UNSPECIFIED: MessageOrder
MESSAGE_ORDER_OLDEST_FIRST: MessageOrder
MESSAGE_ORDER_NEWEST_FIRST: MessageOrder
SORT_DIRECTION_UNSPECIFIED: SortDirection
SORT_DIRECTION_ASC: SortDirection
SORT_DIRECTION_DESC: SortDirection
LIST_ORGANIZATION_THREADS_SORT_FIELD_UNSPECIFIED: ListOrganizationThreadsSortField
LIST_ORGANIZATION_THREADS_SORT_FIELD_CREATED: ListOrganizationThreadsSortField
LIST_ORGANIZATION_THREADS_SORT_FIELD_UPDATED: ListOrganizationThreadsSortField
LIST_ORGANIZATION_THREADS_SORT_FIELD_MESSAGE_COUNT: ListOrganizationThreadsSortField
LIST_ORGANIZATION_THREADS_SORT_FIELD_STATUS: ListOrganizationThreadsSortField

class Thread(_message.Message):
    __slots__ = ("id", "participants", "status", "created_at", "updated_at", "organization_id", "message_count")
    ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    id: str
    participants: _containers.RepeatedCompositeFieldContainer[Participant]
    status: ThreadStatus
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    organization_id: str
    message_count: int
    def __init__(self, id: _Optional[str] = ..., participants: _Optional[_Iterable[_Union[Participant, _Mapping]]] = ..., status: _Optional[_Union[ThreadStatus, str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., organization_id: _Optional[str] = ..., message_count: _Optional[int] = ...) -> None: ...

class Participant(_message.Message):
    __slots__ = ("id", "joined_at", "passive", "nickname")
    ID_FIELD_NUMBER: _ClassVar[int]
    JOINED_AT_FIELD_NUMBER: _ClassVar[int]
    PASSIVE_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    joined_at: _timestamp_pb2.Timestamp
    passive: bool
    nickname: str
    def __init__(self, id: _Optional[str] = ..., joined_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., passive: _Optional[bool] = ..., nickname: _Optional[str] = ...) -> None: ...

class Message(_message.Message):
    __slots__ = ("id", "thread_id", "sender_id", "body", "file_ids", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    FILE_IDS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    thread_id: str
    sender_id: str
    body: str
    file_ids: _containers.RepeatedScalarFieldContainer[str]
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., thread_id: _Optional[str] = ..., sender_id: _Optional[str] = ..., body: _Optional[str] = ..., file_ids: _Optional[_Iterable[str]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MessageRecipient(_message.Message):
    __slots__ = ("message_id", "thread_id", "participant_id", "acked_at")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    ACKED_AT_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    thread_id: str
    participant_id: str
    acked_at: _timestamp_pb2.Timestamp
    def __init__(self, message_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., participant_id: _Optional[str] = ..., acked_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ParticipantIdentifier(_message.Message):
    __slots__ = ("participant_id", "participant_nickname")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_NICKNAME_FIELD_NUMBER: _ClassVar[int]
    participant_id: str
    participant_nickname: str
    def __init__(self, participant_id: _Optional[str] = ..., participant_nickname: _Optional[str] = ...) -> None: ...

class CreateThreadRequest(_message.Message):
    __slots__ = ("participant_ids", "participants", "organization_id")
    PARTICIPANT_IDS_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    participant_ids: _containers.RepeatedScalarFieldContainer[str]
    participants: _containers.RepeatedCompositeFieldContainer[ParticipantIdentifier]
    organization_id: str
    def __init__(self, participant_ids: _Optional[_Iterable[str]] = ..., participants: _Optional[_Iterable[_Union[ParticipantIdentifier, _Mapping]]] = ..., organization_id: _Optional[str] = ...) -> None: ...

class CreateThreadResponse(_message.Message):
    __slots__ = ("thread",)
    THREAD_FIELD_NUMBER: _ClassVar[int]
    thread: Thread
    def __init__(self, thread: _Optional[_Union[Thread, _Mapping]] = ...) -> None: ...

class ArchiveThreadRequest(_message.Message):
    __slots__ = ("thread_id",)
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    def __init__(self, thread_id: _Optional[str] = ...) -> None: ...

class ArchiveThreadResponse(_message.Message):
    __slots__ = ("thread",)
    THREAD_FIELD_NUMBER: _ClassVar[int]
    thread: Thread
    def __init__(self, thread: _Optional[_Union[Thread, _Mapping]] = ...) -> None: ...

class DegradeThreadRequest(_message.Message):
    __slots__ = ("thread_id", "reason")
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    reason: str
    def __init__(self, thread_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DegradeThreadResponse(_message.Message):
    __slots__ = ("thread",)
    THREAD_FIELD_NUMBER: _ClassVar[int]
    thread: Thread
    def __init__(self, thread: _Optional[_Union[Thread, _Mapping]] = ...) -> None: ...

class AddParticipantRequest(_message.Message):
    __slots__ = ("thread_id", "participant_id", "organization_id", "passive", "participant")
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    PASSIVE_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    participant_id: str
    organization_id: str
    passive: bool
    participant: ParticipantIdentifier
    def __init__(self, thread_id: _Optional[str] = ..., participant_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., passive: _Optional[bool] = ..., participant: _Optional[_Union[ParticipantIdentifier, _Mapping]] = ...) -> None: ...

class AddParticipantResponse(_message.Message):
    __slots__ = ("thread",)
    THREAD_FIELD_NUMBER: _ClassVar[int]
    thread: Thread
    def __init__(self, thread: _Optional[_Union[Thread, _Mapping]] = ...) -> None: ...

class SendMessageRequest(_message.Message):
    __slots__ = ("thread_id", "sender_id", "body", "file_ids")
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    SENDER_ID_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    FILE_IDS_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    sender_id: str
    body: str
    file_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, thread_id: _Optional[str] = ..., sender_id: _Optional[str] = ..., body: _Optional[str] = ..., file_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class SendMessageResponse(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: Message
    def __init__(self, message: _Optional[_Union[Message, _Mapping]] = ...) -> None: ...

class GetThreadsRequest(_message.Message):
    __slots__ = ("participant_id", "page_size", "page_token")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    participant_id: str
    page_size: int
    page_token: str
    def __init__(self, participant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetThreadsResponse(_message.Message):
    __slots__ = ("threads", "next_page_token")
    THREADS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    threads: _containers.RepeatedCompositeFieldContainer[Thread]
    next_page_token: str
    def __init__(self, threads: _Optional[_Iterable[_Union[Thread, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListOrganizationThreadsFilter(_message.Message):
    __slots__ = ("status_in", "participant_id_in", "created_after", "created_before")
    STATUS_IN_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANT_ID_IN_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    status_in: _containers.RepeatedScalarFieldContainer[ThreadStatus]
    participant_id_in: _containers.RepeatedScalarFieldContainer[str]
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    def __init__(self, status_in: _Optional[_Iterable[_Union[ThreadStatus, str]]] = ..., participant_id_in: _Optional[_Iterable[str]] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListOrganizationThreadsSort(_message.Message):
    __slots__ = ("field", "direction")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    field: ListOrganizationThreadsSortField
    direction: SortDirection
    def __init__(self, field: _Optional[_Union[ListOrganizationThreadsSortField, str]] = ..., direction: _Optional[_Union[SortDirection, str]] = ...) -> None: ...

class ListOrganizationThreadsRequest(_message.Message):
    __slots__ = ("organization_id", "filter", "sort", "page_size", "page_token")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    filter: ListOrganizationThreadsFilter
    sort: ListOrganizationThreadsSort
    page_size: int
    page_token: str
    def __init__(self, organization_id: _Optional[str] = ..., filter: _Optional[_Union[ListOrganizationThreadsFilter, _Mapping]] = ..., sort: _Optional[_Union[ListOrganizationThreadsSort, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListOrganizationThreadsResponse(_message.Message):
    __slots__ = ("threads", "next_page_token")
    THREADS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    threads: _containers.RepeatedCompositeFieldContainer[Thread]
    next_page_token: str
    def __init__(self, threads: _Optional[_Iterable[_Union[Thread, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetOrganizationThreadsRequest(_message.Message):
    __slots__ = ("organization_id", "page_size", "page_token", "status")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    page_size: int
    page_token: str
    status: ThreadStatus
    def __init__(self, organization_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., status: _Optional[_Union[ThreadStatus, str]] = ...) -> None: ...

class GetOrganizationThreadsResponse(_message.Message):
    __slots__ = ("threads", "next_page_token")
    THREADS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    threads: _containers.RepeatedCompositeFieldContainer[Thread]
    next_page_token: str
    def __init__(self, threads: _Optional[_Iterable[_Union[Thread, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetThreadRequest(_message.Message):
    __slots__ = ("thread_id",)
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    def __init__(self, thread_id: _Optional[str] = ...) -> None: ...

class GetThreadResponse(_message.Message):
    __slots__ = ("thread",)
    THREAD_FIELD_NUMBER: _ClassVar[int]
    thread: Thread
    def __init__(self, thread: _Optional[_Union[Thread, _Mapping]] = ...) -> None: ...

class GetMessagesRequest(_message.Message):
    __slots__ = ("thread_id", "page_size", "page_token", "order")
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    page_size: int
    page_token: str
    order: MessageOrder
    def __init__(self, thread_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., order: _Optional[_Union[MessageOrder, str]] = ...) -> None: ...

class GetMessagesResponse(_message.Message):
    __slots__ = ("messages", "next_page_token")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    next_page_token: str
    def __init__(self, messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetUnackedMessagesRequest(_message.Message):
    __slots__ = ("participant_id", "page_size", "page_token", "thread_id")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    participant_id: str
    page_size: int
    page_token: str
    thread_id: str
    def __init__(self, participant_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., thread_id: _Optional[str] = ...) -> None: ...

class GetUnackedMessagesResponse(_message.Message):
    __slots__ = ("messages", "next_page_token")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[Message]
    next_page_token: str
    def __init__(self, messages: _Optional[_Iterable[_Union[Message, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetUnackedMessageCountsRequest(_message.Message):
    __slots__ = ("participant_id",)
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    participant_id: str
    def __init__(self, participant_id: _Optional[str] = ...) -> None: ...

class GetUnackedMessageCountsResponse(_message.Message):
    __slots__ = ("counts_by_thread_id",)
    class CountsByThreadIdEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    COUNTS_BY_THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    counts_by_thread_id: _containers.ScalarMap[str, int]
    def __init__(self, counts_by_thread_id: _Optional[_Mapping[str, int]] = ...) -> None: ...

class AckMessagesRequest(_message.Message):
    __slots__ = ("participant_id", "message_ids")
    PARTICIPANT_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_IDS_FIELD_NUMBER: _ClassVar[int]
    participant_id: str
    message_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, participant_id: _Optional[str] = ..., message_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AckMessagesResponse(_message.Message):
    __slots__ = ("acked_count",)
    ACKED_COUNT_FIELD_NUMBER: _ClassVar[int]
    acked_count: int
    def __init__(self, acked_count: _Optional[int] = ...) -> None: ...
