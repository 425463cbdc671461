import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from opentelemetry.proto.trace.v1 import trace_pb2 as _trace_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListSpansOrderBy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIST_SPANS_ORDER_BY_UNSPECIFIED: _ClassVar[ListSpansOrderBy]
    LIST_SPANS_ORDER_BY_START_TIME_DESC: _ClassVar[ListSpansOrderBy]
    LIST_SPANS_ORDER_BY_START_TIME_ASC: _ClassVar[ListSpansOrderBy]

class SpanStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SPAN_STATUS_UNSPECIFIED: _ClassVar[SpanStatus]
    SPAN_STATUS_RUNNING: _ClassVar[SpanStatus]
    SPAN_STATUS_OK: _ClassVar[SpanStatus]
    SPAN_STATUS_ERROR: _ClassVar[SpanStatus]

class TraceStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TRACE_STATUS_UNSPECIFIED: _ClassVar[TraceStatus]
    TRACE_STATUS_RUNNING: _ClassVar[TraceStatus]
    TRACE_STATUS_COMPLETED: _ClassVar[TraceStatus]
    TRACE_STATUS_ERROR: _ClassVar[TraceStatus]

class RunEventAction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_EVENT_ACTION_UNSPECIFIED: _ClassVar[RunEventAction]
    RUN_EVENT_ACTION_REPLAYED: _ClassVar[RunEventAction]
    RUN_EVENT_ACTION_CREATED: _ClassVar[RunEventAction]
    RUN_EVENT_ACTION_UPDATED: _ClassVar[RunEventAction]

class RunEventKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_EVENT_KIND_UNSPECIFIED: _ClassVar[RunEventKind]
    RUN_EVENT_KIND_MESSAGE: _ClassVar[RunEventKind]
    RUN_EVENT_KIND_LLM_CALL: _ClassVar[RunEventKind]
    RUN_EVENT_KIND_TOOL_EXECUTION: _ClassVar[RunEventKind]
    RUN_EVENT_KIND_SUMMARIZATION: _ClassVar[RunEventKind]
    RUN_EVENT_KIND_INJECTION: _ClassVar[RunEventKind]
    RUN_EVENT_KIND_OTHER: _ClassVar[RunEventKind]
LIST_SPANS_ORDER_BY_UNSPECIFIED: ListSpansOrderBy
LIST_SPANS_ORDER_BY_START_TIME_DESC: ListSpansOrderBy
LIST_SPANS_ORDER_BY_START_TIME_ASC: ListSpansOrderBy
SPAN_STATUS_UNSPECIFIED: SpanStatus
SPAN_STATUS_RUNNING: SpanStatus
SPAN_STATUS_OK: SpanStatus
SPAN_STATUS_ERROR: SpanStatus
TRACE_STATUS_UNSPECIFIED: TraceStatus
TRACE_STATUS_RUNNING: TraceStatus
TRACE_STATUS_COMPLETED: TraceStatus
TRACE_STATUS_ERROR: TraceStatus
RUN_EVENT_ACTION_UNSPECIFIED: RunEventAction
RUN_EVENT_ACTION_REPLAYED: RunEventAction
RUN_EVENT_ACTION_CREATED: RunEventAction
RUN_EVENT_ACTION_UPDATED: RunEventAction
RUN_EVENT_KIND_UNSPECIFIED: RunEventKind
RUN_EVENT_KIND_MESSAGE: RunEventKind
RUN_EVENT_KIND_LLM_CALL: RunEventKind
RUN_EVENT_KIND_TOOL_EXECUTION: RunEventKind
RUN_EVENT_KIND_SUMMARIZATION: RunEventKind
RUN_EVENT_KIND_INJECTION: RunEventKind
RUN_EVENT_KIND_OTHER: RunEventKind

class SpanFilter(_message.Message):
    __slots__ = ("trace_id", "parent_span_id", "name", "kind", "start_time_min", "start_time_max", "in_progress", "names", "statuses", "message_id")
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MIN_FIELD_NUMBER: _ClassVar[int]
    START_TIME_MAX_FIELD_NUMBER: _ClassVar[int]
    IN_PROGRESS_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    trace_id: bytes
    parent_span_id: bytes
    name: str
    kind: _trace_pb2.Span.SpanKind
    start_time_min: int
    start_time_max: int
    in_progress: bool
    names: _containers.RepeatedScalarFieldContainer[str]
    statuses: _containers.RepeatedScalarFieldContainer[SpanStatus]
    message_id: str
    def __init__(self, trace_id: _Optional[bytes] = ..., parent_span_id: _Optional[bytes] = ..., name: _Optional[str] = ..., kind: _Optional[_Union[_trace_pb2.Span.SpanKind, str]] = ..., start_time_min: _Optional[int] = ..., start_time_max: _Optional[int] = ..., in_progress: _Optional[bool] = ..., names: _Optional[_Iterable[str]] = ..., statuses: _Optional[_Iterable[_Union[SpanStatus, str]]] = ..., message_id: _Optional[str] = ...) -> None: ...

class ListSpansRequest(_message.Message):
    __slots__ = ("filter", "page_size", "page_token", "order_by", "organization_id")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    filter: SpanFilter
    page_size: int
    page_token: str
    order_by: ListSpansOrderBy
    organization_id: str
    def __init__(self, filter: _Optional[_Union[SpanFilter, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., order_by: _Optional[_Union[ListSpansOrderBy, str]] = ..., organization_id: _Optional[str] = ...) -> None: ...

class ListSpansResponse(_message.Message):
    __slots__ = ("resource_spans", "next_page_token")
    RESOURCE_SPANS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    resource_spans: _containers.RepeatedCompositeFieldContainer[_trace_pb2.ResourceSpans]
    next_page_token: str
    def __init__(self, resource_spans: _Optional[_Iterable[_Union[_trace_pb2.ResourceSpans, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetSpanRequest(_message.Message):
    __slots__ = ("trace_id", "span_id")
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    SPAN_ID_FIELD_NUMBER: _ClassVar[int]
    trace_id: bytes
    span_id: bytes
    def __init__(self, trace_id: _Optional[bytes] = ..., span_id: _Optional[bytes] = ...) -> None: ...

class GetSpanResponse(_message.Message):
    __slots__ = ("resource_spans",)
    RESOURCE_SPANS_FIELD_NUMBER: _ClassVar[int]
    resource_spans: _containers.RepeatedCompositeFieldContainer[_trace_pb2.ResourceSpans]
    def __init__(self, resource_spans: _Optional[_Iterable[_Union[_trace_pb2.ResourceSpans, _Mapping]]] = ...) -> None: ...

class GetTraceRequest(_message.Message):
    __slots__ = ("trace_id",)
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    trace_id: bytes
    def __init__(self, trace_id: _Optional[bytes] = ...) -> None: ...

class GetTraceResponse(_message.Message):
    __slots__ = ("resource_spans",)
    RESOURCE_SPANS_FIELD_NUMBER: _ClassVar[int]
    resource_spans: _containers.RepeatedCompositeFieldContainer[_trace_pb2.ResourceSpans]
    def __init__(self, resource_spans: _Optional[_Iterable[_Union[_trace_pb2.ResourceSpans, _Mapping]]] = ...) -> None: ...

class GetTraceSummaryRequest(_message.Message):
    __slots__ = ("trace_id",)
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    trace_id: bytes
    def __init__(self, trace_id: _Optional[bytes] = ...) -> None: ...

class GetTraceSummaryResponse(_message.Message):
    __slots__ = ("trace_id", "status", "first_span_start_time", "last_span_start_time", "last_span_end_time", "counts_by_name", "counts_by_status", "total_spans")
    class CountsByNameEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class CountsByStatusEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FIRST_SPAN_START_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_SPAN_START_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_SPAN_END_TIME_FIELD_NUMBER: _ClassVar[int]
    COUNTS_BY_NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTS_BY_STATUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SPANS_FIELD_NUMBER: _ClassVar[int]
    trace_id: bytes
    status: TraceStatus
    first_span_start_time: int
    last_span_start_time: int
    last_span_end_time: int
    counts_by_name: _containers.ScalarMap[str, int]
    counts_by_status: _containers.ScalarMap[str, int]
    total_spans: int
    def __init__(self, trace_id: _Optional[bytes] = ..., status: _Optional[_Union[TraceStatus, str]] = ..., first_span_start_time: _Optional[int] = ..., last_span_start_time: _Optional[int] = ..., last_span_end_time: _Optional[int] = ..., counts_by_name: _Optional[_Mapping[str, int]] = ..., counts_by_status: _Optional[_Mapping[str, int]] = ..., total_spans: _Optional[int] = ...) -> None: ...

class GetTraceSpanTotalsRequest(_message.Message):
    __slots__ = ("trace_id", "names", "statuses")
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    trace_id: bytes
    names: _containers.RepeatedScalarFieldContainer[str]
    statuses: _containers.RepeatedScalarFieldContainer[SpanStatus]
    def __init__(self, trace_id: _Optional[bytes] = ..., names: _Optional[_Iterable[str]] = ..., statuses: _Optional[_Iterable[_Union[SpanStatus, str]]] = ...) -> None: ...

class GetTraceSpanTotalsResponse(_message.Message):
    __slots__ = ("span_count", "token_usage")
    SPAN_COUNT_FIELD_NUMBER: _ClassVar[int]
    TOKEN_USAGE_FIELD_NUMBER: _ClassVar[int]
    span_count: int
    token_usage: TokenUsageTotals
    def __init__(self, span_count: _Optional[int] = ..., token_usage: _Optional[_Union[TokenUsageTotals, _Mapping]] = ...) -> None: ...

class TokenUsageTotals(_message.Message):
    __slots__ = ("input_tokens", "output_tokens", "cache_read_input_tokens", "reasoning_tokens", "total_tokens")
    INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    CACHE_READ_INPUT_TOKENS_FIELD_NUMBER: _ClassVar[int]
    REASONING_TOKENS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_TOKENS_FIELD_NUMBER: _ClassVar[int]
    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int
    reasoning_tokens: int
    total_tokens: int
    def __init__(self, input_tokens: _Optional[int] = ..., output_tokens: _Optional[int] = ..., cache_read_input_tokens: _Optional[int] = ..., reasoning_tokens: _Optional[int] = ..., total_tokens: _Optional[int] = ...) -> None: ...

class StreamRunEventsRequest(_message.Message):
    __slots__ = ("organization_id", "trace_id", "workload_id", "kinds", "replay", "include_summary")
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    TRACE_ID_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    REPLAY_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_SUMMARY_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    trace_id: bytes
    workload_id: str
    kinds: _containers.RepeatedScalarFieldContainer[RunEventKind]
    replay: bool
    include_summary: bool
    def __init__(self, organization_id: _Optional[str] = ..., trace_id: _Optional[bytes] = ..., workload_id: _Optional[str] = ..., kinds: _Optional[_Iterable[_Union[RunEventKind, str]]] = ..., replay: _Optional[bool] = ..., include_summary: _Optional[bool] = ...) -> None: ...

class StreamRunEventsResponse(_message.Message):
    __slots__ = ("event", "summary", "replay_complete", "heartbeat")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    REPLAY_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    event: RunEvent
    summary: RunSummary
    replay_complete: ReplayComplete
    heartbeat: Heartbeat
    def __init__(self, event: _Optional[_Union[RunEvent, _Mapping]] = ..., summary: _Optional[_Union[RunSummary, _Mapping]] = ..., replay_complete: _Optional[_Union[ReplayComplete, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...

class RunEvent(_message.Message):
    __slots__ = ("sequence", "action", "kind", "status", "revision", "resource_spans")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_SPANS_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    action: RunEventAction
    kind: RunEventKind
    status: SpanStatus
    revision: int
    resource_spans: _trace_pb2.ResourceSpans
    def __init__(self, sequence: _Optional[int] = ..., action: _Optional[_Union[RunEventAction, str]] = ..., kind: _Optional[_Union[RunEventKind, str]] = ..., status: _Optional[_Union[SpanStatus, str]] = ..., revision: _Optional[int] = ..., resource_spans: _Optional[_Union[_trace_pb2.ResourceSpans, _Mapping]] = ...) -> None: ...

class RunSummary(_message.Message):
    __slots__ = ("status", "first_span_start_time", "last_span_start_time", "last_span_end_time", "counts_by_name", "counts_by_status", "total_spans", "token_usage", "trace_ids")
    class CountsByNameEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class CountsByStatusEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FIRST_SPAN_START_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_SPAN_START_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_SPAN_END_TIME_FIELD_NUMBER: _ClassVar[int]
    COUNTS_BY_NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTS_BY_STATUS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SPANS_FIELD_NUMBER: _ClassVar[int]
    TOKEN_USAGE_FIELD_NUMBER: _ClassVar[int]
    TRACE_IDS_FIELD_NUMBER: _ClassVar[int]
    status: TraceStatus
    first_span_start_time: int
    last_span_start_time: int
    last_span_end_time: int
    counts_by_name: _containers.ScalarMap[str, int]
    counts_by_status: _containers.ScalarMap[str, int]
    total_spans: int
    token_usage: TokenUsageTotals
    trace_ids: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, status: _Optional[_Union[TraceStatus, str]] = ..., first_span_start_time: _Optional[int] = ..., last_span_start_time: _Optional[int] = ..., last_span_end_time: _Optional[int] = ..., counts_by_name: _Optional[_Mapping[str, int]] = ..., counts_by_status: _Optional[_Mapping[str, int]] = ..., total_spans: _Optional[int] = ..., token_usage: _Optional[_Union[TokenUsageTotals, _Mapping]] = ..., trace_ids: _Optional[_Iterable[bytes]] = ...) -> None: ...

class ReplayComplete(_message.Message):
    __slots__ = ("replayed_spans",)
    REPLAYED_SPANS_FIELD_NUMBER: _ClassVar[int]
    replayed_spans: int
    def __init__(self, replayed_spans: _Optional[int] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("server_time",)
    SERVER_TIME_FIELD_NUMBER: _ClassVar[int]
    server_time: _timestamp_pb2.Timestamp
    def __init__(self, server_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
