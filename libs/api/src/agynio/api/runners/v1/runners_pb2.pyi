import datetime

from agynio.api.runner.v1 import runner_pb2 as _runner_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SortDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SORT_DIRECTION_UNSPECIFIED: _ClassVar[SortDirection]
    SORT_DIRECTION_ASC: _ClassVar[SortDirection]
    SORT_DIRECTION_DESC: _ClassVar[SortDirection]

class RunnerStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUNNER_STATUS_UNSPECIFIED: _ClassVar[RunnerStatus]
    RUNNER_STATUS_PENDING: _ClassVar[RunnerStatus]
    RUNNER_STATUS_ENROLLED: _ClassVar[RunnerStatus]
    RUNNER_STATUS_OFFLINE: _ClassVar[RunnerStatus]

class WorkloadStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORKLOAD_STATUS_UNSPECIFIED: _ClassVar[WorkloadStatus]
    WORKLOAD_STATUS_STARTING: _ClassVar[WorkloadStatus]
    WORKLOAD_STATUS_RUNNING: _ClassVar[WorkloadStatus]
    WORKLOAD_STATUS_STOPPING: _ClassVar[WorkloadStatus]
    WORKLOAD_STATUS_STOPPED: _ClassVar[WorkloadStatus]
    WORKLOAD_STATUS_FAILED: _ClassVar[WorkloadStatus]

class WorkloadAgentState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORKLOAD_AGENT_STATE_UNSPECIFIED: _ClassVar[WorkloadAgentState]
    WORKLOAD_AGENT_STATE_PROCESSING: _ClassVar[WorkloadAgentState]
    WORKLOAD_AGENT_STATE_IDLE: _ClassVar[WorkloadAgentState]

class WorkloadFailureReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORKLOAD_FAILURE_REASON_UNSPECIFIED: _ClassVar[WorkloadFailureReason]
    WORKLOAD_FAILURE_REASON_START_FAILED: _ClassVar[WorkloadFailureReason]
    WORKLOAD_FAILURE_REASON_IMAGE_PULL_FAILED: _ClassVar[WorkloadFailureReason]
    WORKLOAD_FAILURE_REASON_CONFIG_INVALID: _ClassVar[WorkloadFailureReason]
    WORKLOAD_FAILURE_REASON_CRASHLOOP: _ClassVar[WorkloadFailureReason]
    WORKLOAD_FAILURE_REASON_RUNTIME_LOST: _ClassVar[WorkloadFailureReason]

class ContainerRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTAINER_ROLE_UNSPECIFIED: _ClassVar[ContainerRole]
    CONTAINER_ROLE_MAIN: _ClassVar[ContainerRole]
    CONTAINER_ROLE_SIDECAR: _ClassVar[ContainerRole]
    CONTAINER_ROLE_INIT: _ClassVar[ContainerRole]

class ContainerStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONTAINER_STATUS_UNSPECIFIED: _ClassVar[ContainerStatus]
    CONTAINER_STATUS_RUNNING: _ClassVar[ContainerStatus]
    CONTAINER_STATUS_TERMINATED: _ClassVar[ContainerStatus]
    CONTAINER_STATUS_WAITING: _ClassVar[ContainerStatus]

class ListWorkloadsSortField(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIST_WORKLOADS_SORT_FIELD_UNSPECIFIED: _ClassVar[ListWorkloadsSortField]
    LIST_WORKLOADS_SORT_FIELD_STARTED: _ClassVar[ListWorkloadsSortField]
    LIST_WORKLOADS_SORT_FIELD_AGENT: _ClassVar[ListWorkloadsSortField]
    LIST_WORKLOADS_SORT_FIELD_RUNNER: _ClassVar[ListWorkloadsSortField]
    LIST_WORKLOADS_SORT_FIELD_STATUS: _ClassVar[ListWorkloadsSortField]
    LIST_WORKLOADS_SORT_FIELD_DURATION: _ClassVar[ListWorkloadsSortField]

class VolumeStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VOLUME_STATUS_UNSPECIFIED: _ClassVar[VolumeStatus]
    VOLUME_STATUS_PROVISIONING: _ClassVar[VolumeStatus]
    VOLUME_STATUS_ACTIVE: _ClassVar[VolumeStatus]
    VOLUME_STATUS_DEPROVISIONING: _ClassVar[VolumeStatus]
    VOLUME_STATUS_DELETED: _ClassVar[VolumeStatus]
    VOLUME_STATUS_FAILED: _ClassVar[VolumeStatus]

class AttachmentKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ATTACHMENT_KIND_UNSPECIFIED: _ClassVar[AttachmentKind]
    ATTACHMENT_KIND_AGENT: _ClassVar[AttachmentKind]
    ATTACHMENT_KIND_MCP: _ClassVar[AttachmentKind]
    ATTACHMENT_KIND_HOOK: _ClassVar[AttachmentKind]

class VolumeAttachmentFilterKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VOLUME_ATTACHMENT_FILTER_KIND_UNSPECIFIED: _ClassVar[VolumeAttachmentFilterKind]
    VOLUME_ATTACHMENT_FILTER_KIND_AGENT: _ClassVar[VolumeAttachmentFilterKind]
    VOLUME_ATTACHMENT_FILTER_KIND_MCP: _ClassVar[VolumeAttachmentFilterKind]
    VOLUME_ATTACHMENT_FILTER_KIND_HOOK: _ClassVar[VolumeAttachmentFilterKind]
    VOLUME_ATTACHMENT_FILTER_KIND_UNATTACHED: _ClassVar[VolumeAttachmentFilterKind]

class ListVolumesSortField(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIST_VOLUMES_SORT_FIELD_UNSPECIFIED: _ClassVar[ListVolumesSortField]
    LIST_VOLUMES_SORT_FIELD_NAME: _ClassVar[ListVolumesSortField]
    LIST_VOLUMES_SORT_FIELD_SIZE: _ClassVar[ListVolumesSortField]
    LIST_VOLUMES_SORT_FIELD_STATUS: _ClassVar[ListVolumesSortField]
    LIST_VOLUMES_SORT_FIELD_CREATED: _ClassVar[ListVolumesSortField]
SORT_DIRECTION_UNSPECIFIED: SortDirection
SORT_DIRECTION_ASC: SortDirection
SORT_DIRECTION_DESC: SortDirection
RUNNER_STATUS_UNSPECIFIED: RunnerStatus
RUNNER_STATUS_PENDING: RunnerStatus
RUNNER_STATUS_ENROLLED: RunnerStatus
RUNNER_STATUS_OFFLINE: RunnerStatus
WORKLOAD_STATUS_UNSPECIFIED: WorkloadStatus
WORKLOAD_STATUS_STARTING: WorkloadStatus
WORKLOAD_STATUS_RUNNING: WorkloadStatus
WORKLOAD_STATUS_STOPPING: WorkloadStatus
WORKLOAD_STATUS_STOPPED: WorkloadStatus
WORKLOAD_STATUS_FAILED: WorkloadStatus
WORKLOAD_AGENT_STATE_UNSPECIFIED: WorkloadAgentState
WORKLOAD_AGENT_STATE_PROCESSING: WorkloadAgentState
WORKLOAD_AGENT_STATE_IDLE: WorkloadAgentState
WORKLOAD_FAILURE_REASON_UNSPECIFIED: WorkloadFailureReason
WORKLOAD_FAILURE_REASON_START_FAILED: WorkloadFailureReason
WORKLOAD_FAILURE_REASON_IMAGE_PULL_FAILED: WorkloadFailureReason
WORKLOAD_FAILURE_REASON_CONFIG_INVALID: WorkloadFailureReason
WORKLOAD_FAILURE_REASON_CRASHLOOP: WorkloadFailureReason
WORKLOAD_FAILURE_REASON_RUNTIME_LOST: WorkloadFailureReason
CONTAINER_ROLE_UNSPECIFIED: ContainerRole
CONTAINER_ROLE_MAIN: ContainerRole
CONTAINER_ROLE_SIDECAR: ContainerRole
CONTAINER_ROLE_INIT: ContainerRole
CONTAINER_STATUS_UNSPECIFIED: ContainerStatus
CONTAINER_STATUS_RUNNING: ContainerStatus
CONTAINER_STATUS_TERMINATED: ContainerStatus
CONTAINER_STATUS_WAITING: ContainerStatus
LIST_WORKLOADS_SORT_FIELD_UNSPECIFIED: ListWorkloadsSortField
LIST_WORKLOADS_SORT_FIELD_STARTED: ListWorkloadsSortField
LIST_WORKLOADS_SORT_FIELD_AGENT: ListWorkloadsSortField
LIST_WORKLOADS_SORT_FIELD_RUNNER: ListWorkloadsSortField
LIST_WORKLOADS_SORT_FIELD_STATUS: ListWorkloadsSortField
LIST_WORKLOADS_SORT_FIELD_DURATION: ListWorkloadsSortField
VOLUME_STATUS_UNSPECIFIED: VolumeStatus
VOLUME_STATUS_PROVISIONING: VolumeStatus
VOLUME_STATUS_ACTIVE: VolumeStatus
VOLUME_STATUS_DEPROVISIONING: VolumeStatus
VOLUME_STATUS_DELETED: VolumeStatus
VOLUME_STATUS_FAILED: VolumeStatus
ATTACHMENT_KIND_UNSPECIFIED: AttachmentKind
ATTACHMENT_KIND_AGENT: AttachmentKind
ATTACHMENT_KIND_MCP: AttachmentKind
ATTACHMENT_KIND_HOOK: AttachmentKind
VOLUME_ATTACHMENT_FILTER_KIND_UNSPECIFIED: VolumeAttachmentFilterKind
VOLUME_ATTACHMENT_FILTER_KIND_AGENT: VolumeAttachmentFilterKind
VOLUME_ATTACHMENT_FILTER_KIND_MCP: VolumeAttachmentFilterKind
VOLUME_ATTACHMENT_FILTER_KIND_HOOK: VolumeAttachmentFilterKind
VOLUME_ATTACHMENT_FILTER_KIND_UNATTACHED: VolumeAttachmentFilterKind
LIST_VOLUMES_SORT_FIELD_UNSPECIFIED: ListVolumesSortField
LIST_VOLUMES_SORT_FIELD_NAME: ListVolumesSortField
LIST_VOLUMES_SORT_FIELD_SIZE: ListVolumesSortField
LIST_VOLUMES_SORT_FIELD_STATUS: ListVolumesSortField
LIST_VOLUMES_SORT_FIELD_CREATED: ListVolumesSortField

class EntityMeta(_message.Message):
    __slots__ = ("id", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SampledAtEntry(_message.Message):
    __slots__ = ("id", "sampled_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    SAMPLED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    sampled_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., sampled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Runner(_message.Message):
    __slots__ = ("meta", "name", "organization_id", "identity_id", "status", "labels", "openziti_service_name", "capabilities")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    META_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    OPENZITI_SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    name: str
    organization_id: str
    identity_id: str
    status: RunnerStatus
    labels: _containers.ScalarMap[str, str]
    openziti_service_name: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., name: _Optional[str] = ..., organization_id: _Optional[str] = ..., identity_id: _Optional[str] = ..., status: _Optional[_Union[RunnerStatus, str]] = ..., labels: _Optional[_Mapping[str, str]] = ..., openziti_service_name: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterRunnerRequest(_message.Message):
    __slots__ = ("name", "organization_id", "labels", "capabilities")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    organization_id: str
    labels: _containers.ScalarMap[str, str]
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., organization_id: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., capabilities: _Optional[_Iterable[str]] = ...) -> None: ...

class RegisterRunnerResponse(_message.Message):
    __slots__ = ("runner", "service_token")
    RUNNER_FIELD_NUMBER: _ClassVar[int]
    SERVICE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runner: Runner
    service_token: str
    def __init__(self, runner: _Optional[_Union[Runner, _Mapping]] = ..., service_token: _Optional[str] = ...) -> None: ...

class GetRunnerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetRunnerResponse(_message.Message):
    __slots__ = ("runner",)
    RUNNER_FIELD_NUMBER: _ClassVar[int]
    runner: Runner
    def __init__(self, runner: _Optional[_Union[Runner, _Mapping]] = ...) -> None: ...

class ListRunnersRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "organization_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    organization_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., organization_id: _Optional[str] = ...) -> None: ...

class ListRunnersResponse(_message.Message):
    __slots__ = ("runners", "next_page_token")
    RUNNERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runners: _containers.RepeatedCompositeFieldContainer[Runner]
    next_page_token: str
    def __init__(self, runners: _Optional[_Iterable[_Union[Runner, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateRunnerRequest(_message.Message):
    __slots__ = ("id", "name", "labels", "capabilities")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    labels: _containers.ScalarMap[str, str]
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., capabilities: _Optional[_Iterable[str]] = ...) -> None: ...

class UpdateRunnerResponse(_message.Message):
    __slots__ = ("runner",)
    RUNNER_FIELD_NUMBER: _ClassVar[int]
    runner: Runner
    def __init__(self, runner: _Optional[_Union[Runner, _Mapping]] = ...) -> None: ...

class DeleteRunnerRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteRunnerResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ValidateServiceTokenRequest(_message.Message):
    __slots__ = ("token_hash",)
    TOKEN_HASH_FIELD_NUMBER: _ClassVar[int]
    token_hash: str
    def __init__(self, token_hash: _Optional[str] = ...) -> None: ...

class ValidateServiceTokenResponse(_message.Message):
    __slots__ = ("runner",)
    RUNNER_FIELD_NUMBER: _ClassVar[int]
    runner: Runner
    def __init__(self, runner: _Optional[_Union[Runner, _Mapping]] = ...) -> None: ...

class EnrollRunnerRequest(_message.Message):
    __slots__ = ("service_token",)
    SERVICE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    service_token: str
    def __init__(self, service_token: _Optional[str] = ...) -> None: ...

class EnrollRunnerResponse(_message.Message):
    __slots__ = ("identity_json", "service_name", "identity_id")
    IDENTITY_JSON_FIELD_NUMBER: _ClassVar[int]
    SERVICE_NAME_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    identity_json: bytes
    service_name: str
    identity_id: str
    def __init__(self, identity_json: _Optional[bytes] = ..., service_name: _Optional[str] = ..., identity_id: _Optional[str] = ...) -> None: ...

class Container(_message.Message):
    __slots__ = ("container_id", "name", "role", "image", "status", "reason", "message", "exit_code", "restart_count", "started_at", "finished_at")
    CONTAINER_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    RESTART_COUNT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    container_id: str
    name: str
    role: ContainerRole
    image: str
    status: ContainerStatus
    reason: str
    message: str
    exit_code: int
    restart_count: int
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    def __init__(self, container_id: _Optional[str] = ..., name: _Optional[str] = ..., role: _Optional[_Union[ContainerRole, str]] = ..., image: _Optional[str] = ..., status: _Optional[_Union[ContainerStatus, str]] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., exit_code: _Optional[int] = ..., restart_count: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Workload(_message.Message):
    __slots__ = ("meta", "runner_id", "thread_id", "agent_id", "organization_id", "status", "containers", "ziti_identity_id", "instance_id", "last_activity_at", "last_metering_sampled_at", "removed_at", "allocated_cpu_millicores", "allocated_ram_bytes", "failure_reason", "failure_message", "agent_name", "runner_name", "agent_state")
    META_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    ZITI_IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTIVITY_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_METERING_SAMPLED_AT_FIELD_NUMBER: _ClassVar[int]
    REMOVED_AT_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_CPU_MILLICORES_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_RAM_BYTES_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    FAILURE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    AGENT_NAME_FIELD_NUMBER: _ClassVar[int]
    RUNNER_NAME_FIELD_NUMBER: _ClassVar[int]
    AGENT_STATE_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    runner_id: str
    thread_id: str
    agent_id: str
    organization_id: str
    status: WorkloadStatus
    containers: _containers.RepeatedCompositeFieldContainer[Container]
    ziti_identity_id: str
    instance_id: str
    last_activity_at: _timestamp_pb2.Timestamp
    last_metering_sampled_at: _timestamp_pb2.Timestamp
    removed_at: _timestamp_pb2.Timestamp
    allocated_cpu_millicores: int
    allocated_ram_bytes: int
    failure_reason: WorkloadFailureReason
    failure_message: str
    agent_name: str
    runner_name: str
    agent_state: WorkloadAgentState
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., runner_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., status: _Optional[_Union[WorkloadStatus, str]] = ..., containers: _Optional[_Iterable[_Union[Container, _Mapping]]] = ..., ziti_identity_id: _Optional[str] = ..., instance_id: _Optional[str] = ..., last_activity_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_metering_sampled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., removed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., allocated_cpu_millicores: _Optional[int] = ..., allocated_ram_bytes: _Optional[int] = ..., failure_reason: _Optional[_Union[WorkloadFailureReason, str]] = ..., failure_message: _Optional[str] = ..., agent_name: _Optional[str] = ..., runner_name: _Optional[str] = ..., agent_state: _Optional[_Union[WorkloadAgentState, str]] = ...) -> None: ...

class CreateWorkloadRequest(_message.Message):
    __slots__ = ("id", "runner_id", "thread_id", "agent_id", "organization_id", "status", "containers", "ziti_identity_id", "allocated_cpu_millicores", "allocated_ram_bytes")
    ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    ZITI_IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_CPU_MILLICORES_FIELD_NUMBER: _ClassVar[int]
    ALLOCATED_RAM_BYTES_FIELD_NUMBER: _ClassVar[int]
    id: str
    runner_id: str
    thread_id: str
    agent_id: str
    organization_id: str
    status: WorkloadStatus
    containers: _containers.RepeatedCompositeFieldContainer[Container]
    ziti_identity_id: str
    allocated_cpu_millicores: int
    allocated_ram_bytes: int
    def __init__(self, id: _Optional[str] = ..., runner_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., status: _Optional[_Union[WorkloadStatus, str]] = ..., containers: _Optional[_Iterable[_Union[Container, _Mapping]]] = ..., ziti_identity_id: _Optional[str] = ..., allocated_cpu_millicores: _Optional[int] = ..., allocated_ram_bytes: _Optional[int] = ...) -> None: ...

class CreateWorkloadResponse(_message.Message):
    __slots__ = ("workload",)
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    workload: Workload
    def __init__(self, workload: _Optional[_Union[Workload, _Mapping]] = ...) -> None: ...

class UpdateWorkloadRequest(_message.Message):
    __slots__ = ("id", "status", "containers", "instance_id", "removed_at", "last_metering_sampled_at", "failure_reason", "failure_message")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    REMOVED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_METERING_SAMPLED_AT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    FAILURE_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: WorkloadStatus
    containers: _containers.RepeatedCompositeFieldContainer[Container]
    instance_id: str
    removed_at: _timestamp_pb2.Timestamp
    last_metering_sampled_at: _timestamp_pb2.Timestamp
    failure_reason: WorkloadFailureReason
    failure_message: str
    def __init__(self, id: _Optional[str] = ..., status: _Optional[_Union[WorkloadStatus, str]] = ..., containers: _Optional[_Iterable[_Union[Container, _Mapping]]] = ..., instance_id: _Optional[str] = ..., removed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_metering_sampled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failure_reason: _Optional[_Union[WorkloadFailureReason, str]] = ..., failure_message: _Optional[str] = ...) -> None: ...

class UpdateWorkloadResponse(_message.Message):
    __slots__ = ("workload",)
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    workload: Workload
    def __init__(self, workload: _Optional[_Union[Workload, _Mapping]] = ...) -> None: ...

class UpdateWorkloadStatusRequest(_message.Message):
    __slots__ = ("id", "status", "containers")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: WorkloadStatus
    containers: _containers.RepeatedCompositeFieldContainer[Container]
    def __init__(self, id: _Optional[str] = ..., status: _Optional[_Union[WorkloadStatus, str]] = ..., containers: _Optional[_Iterable[_Union[Container, _Mapping]]] = ...) -> None: ...

class UpdateWorkloadStatusResponse(_message.Message):
    __slots__ = ("workload",)
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    workload: Workload
    def __init__(self, workload: _Optional[_Union[Workload, _Mapping]] = ...) -> None: ...

class TouchWorkloadRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class TouchWorkloadResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteWorkloadRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteWorkloadResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetWorkloadRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetWorkloadResponse(_message.Message):
    __slots__ = ("workload",)
    WORKLOAD_FIELD_NUMBER: _ClassVar[int]
    workload: Workload
    def __init__(self, workload: _Optional[_Union[Workload, _Mapping]] = ...) -> None: ...

class ListWorkloadsSort(_message.Message):
    __slots__ = ("field", "direction")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    field: ListWorkloadsSortField
    direction: SortDirection
    def __init__(self, field: _Optional[_Union[ListWorkloadsSortField, str]] = ..., direction: _Optional[_Union[SortDirection, str]] = ...) -> None: ...

class ListWorkloadsFilter(_message.Message):
    __slots__ = ("agent_id_in", "runner_id_in", "status_in", "started_after", "started_before", "pending_sample")
    AGENT_ID_IN_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_IN_FIELD_NUMBER: _ClassVar[int]
    STATUS_IN_FIELD_NUMBER: _ClassVar[int]
    STARTED_AFTER_FIELD_NUMBER: _ClassVar[int]
    STARTED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    PENDING_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    agent_id_in: _containers.RepeatedScalarFieldContainer[str]
    runner_id_in: _containers.RepeatedScalarFieldContainer[str]
    status_in: _containers.RepeatedScalarFieldContainer[WorkloadStatus]
    started_after: _timestamp_pb2.Timestamp
    started_before: _timestamp_pb2.Timestamp
    pending_sample: bool
    def __init__(self, agent_id_in: _Optional[_Iterable[str]] = ..., runner_id_in: _Optional[_Iterable[str]] = ..., status_in: _Optional[_Iterable[_Union[WorkloadStatus, str]]] = ..., started_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pending_sample: _Optional[bool] = ...) -> None: ...

class ListWorkloadsByThreadRequest(_message.Message):
    __slots__ = ("thread_id", "page_size", "page_token", "agent_id", "statuses")
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    page_size: int
    page_token: str
    agent_id: str
    statuses: _containers.RepeatedScalarFieldContainer[WorkloadStatus]
    def __init__(self, thread_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., agent_id: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[WorkloadStatus, str]]] = ...) -> None: ...

class ListWorkloadsByThreadResponse(_message.Message):
    __slots__ = ("workloads", "next_page_token")
    WORKLOADS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    workloads: _containers.RepeatedCompositeFieldContainer[Workload]
    next_page_token: str
    def __init__(self, workloads: _Optional[_Iterable[_Union[Workload, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListWorkloadsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "statuses", "organization_id", "runner_id", "pending_sample", "filter", "sort")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    PENDING_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    statuses: _containers.RepeatedScalarFieldContainer[WorkloadStatus]
    organization_id: str
    runner_id: str
    pending_sample: bool
    filter: ListWorkloadsFilter
    sort: ListWorkloadsSort
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[WorkloadStatus, str]]] = ..., organization_id: _Optional[str] = ..., runner_id: _Optional[str] = ..., pending_sample: _Optional[bool] = ..., filter: _Optional[_Union[ListWorkloadsFilter, _Mapping]] = ..., sort: _Optional[_Union[ListWorkloadsSort, _Mapping]] = ...) -> None: ...

class ListWorkloadsResponse(_message.Message):
    __slots__ = ("workloads", "next_page_token")
    WORKLOADS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    workloads: _containers.RepeatedCompositeFieldContainer[Workload]
    next_page_token: str
    def __init__(self, workloads: _Optional[_Iterable[_Union[Workload, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class BatchUpdateWorkloadSampledAtRequest(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[SampledAtEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[SampledAtEntry, _Mapping]]] = ...) -> None: ...

class BatchUpdateWorkloadSampledAtResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Volume(_message.Message):
    __slots__ = ("meta", "instance_id", "volume_id", "thread_id", "runner_id", "agent_id", "organization_id", "size_gb", "status", "removed_at", "last_metering_sampled_at", "volume_name", "attachments")
    META_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_GB_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_METERING_SAMPLED_AT_FIELD_NUMBER: _ClassVar[int]
    VOLUME_NAME_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    instance_id: str
    volume_id: str
    thread_id: str
    runner_id: str
    agent_id: str
    organization_id: str
    size_gb: str
    status: VolumeStatus
    removed_at: _timestamp_pb2.Timestamp
    last_metering_sampled_at: _timestamp_pb2.Timestamp
    volume_name: str
    attachments: _containers.RepeatedCompositeFieldContainer[Attachment]
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., instance_id: _Optional[str] = ..., volume_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., runner_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., size_gb: _Optional[str] = ..., status: _Optional[_Union[VolumeStatus, str]] = ..., removed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_metering_sampled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., volume_name: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[Attachment, _Mapping]]] = ...) -> None: ...

class Attachment(_message.Message):
    __slots__ = ("kind", "id", "name")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    kind: AttachmentKind
    id: str
    name: str
    def __init__(self, kind: _Optional[_Union[AttachmentKind, str]] = ..., id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CreateVolumeRequest(_message.Message):
    __slots__ = ("id", "volume_id", "thread_id", "runner_id", "agent_id", "organization_id", "size_gb", "status")
    ID_FIELD_NUMBER: _ClassVar[int]
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    SIZE_GB_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    id: str
    volume_id: str
    thread_id: str
    runner_id: str
    agent_id: str
    organization_id: str
    size_gb: str
    status: VolumeStatus
    def __init__(self, id: _Optional[str] = ..., volume_id: _Optional[str] = ..., thread_id: _Optional[str] = ..., runner_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., organization_id: _Optional[str] = ..., size_gb: _Optional[str] = ..., status: _Optional[_Union[VolumeStatus, str]] = ...) -> None: ...

class CreateVolumeResponse(_message.Message):
    __slots__ = ("volume",)
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    volume: Volume
    def __init__(self, volume: _Optional[_Union[Volume, _Mapping]] = ...) -> None: ...

class UpdateVolumeRequest(_message.Message):
    __slots__ = ("id", "status", "instance_id", "removed_at", "last_metering_sampled_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    REMOVED_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_METERING_SAMPLED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    status: VolumeStatus
    instance_id: str
    removed_at: _timestamp_pb2.Timestamp
    last_metering_sampled_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., status: _Optional[_Union[VolumeStatus, str]] = ..., instance_id: _Optional[str] = ..., removed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_metering_sampled_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UpdateVolumeResponse(_message.Message):
    __slots__ = ("volume",)
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    volume: Volume
    def __init__(self, volume: _Optional[_Union[Volume, _Mapping]] = ...) -> None: ...

class GetVolumeRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetVolumeResponse(_message.Message):
    __slots__ = ("volume",)
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    volume: Volume
    def __init__(self, volume: _Optional[_Union[Volume, _Mapping]] = ...) -> None: ...

class ListVolumesSort(_message.Message):
    __slots__ = ("field", "direction")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    field: ListVolumesSortField
    direction: SortDirection
    def __init__(self, field: _Optional[_Union[ListVolumesSortField, str]] = ..., direction: _Optional[_Union[SortDirection, str]] = ...) -> None: ...

class ListVolumesFilter(_message.Message):
    __slots__ = ("status_in", "runner_id_in", "attached_to_kind_in", "pending_sample", "volume_name_substring")
    STATUS_IN_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_IN_FIELD_NUMBER: _ClassVar[int]
    ATTACHED_TO_KIND_IN_FIELD_NUMBER: _ClassVar[int]
    PENDING_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    VOLUME_NAME_SUBSTRING_FIELD_NUMBER: _ClassVar[int]
    status_in: _containers.RepeatedScalarFieldContainer[VolumeStatus]
    runner_id_in: _containers.RepeatedScalarFieldContainer[str]
    attached_to_kind_in: _containers.RepeatedScalarFieldContainer[VolumeAttachmentFilterKind]
    pending_sample: bool
    volume_name_substring: str
    def __init__(self, status_in: _Optional[_Iterable[_Union[VolumeStatus, str]]] = ..., runner_id_in: _Optional[_Iterable[str]] = ..., attached_to_kind_in: _Optional[_Iterable[_Union[VolumeAttachmentFilterKind, str]]] = ..., pending_sample: _Optional[bool] = ..., volume_name_substring: _Optional[str] = ...) -> None: ...

class ListVolumesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "statuses", "organization_id", "runner_id", "pending_sample", "filter", "sort")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    RUNNER_ID_FIELD_NUMBER: _ClassVar[int]
    PENDING_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    SORT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    statuses: _containers.RepeatedScalarFieldContainer[VolumeStatus]
    organization_id: str
    runner_id: str
    pending_sample: bool
    filter: ListVolumesFilter
    sort: ListVolumesSort
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., statuses: _Optional[_Iterable[_Union[VolumeStatus, str]]] = ..., organization_id: _Optional[str] = ..., runner_id: _Optional[str] = ..., pending_sample: _Optional[bool] = ..., filter: _Optional[_Union[ListVolumesFilter, _Mapping]] = ..., sort: _Optional[_Union[ListVolumesSort, _Mapping]] = ...) -> None: ...

class ListVolumesResponse(_message.Message):
    __slots__ = ("volumes", "next_page_token")
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    volumes: _containers.RepeatedCompositeFieldContainer[Volume]
    next_page_token: str
    def __init__(self, volumes: _Optional[_Iterable[_Union[Volume, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListVolumesByThreadRequest(_message.Message):
    __slots__ = ("thread_id", "page_size", "page_token")
    THREAD_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    thread_id: str
    page_size: int
    page_token: str
    def __init__(self, thread_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListVolumesByThreadResponse(_message.Message):
    __slots__ = ("volumes", "next_page_token")
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    volumes: _containers.RepeatedCompositeFieldContainer[Volume]
    next_page_token: str
    def __init__(self, volumes: _Optional[_Iterable[_Union[Volume, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class BatchUpdateVolumeSampledAtRequest(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[SampledAtEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[SampledAtEntry, _Mapping]]] = ...) -> None: ...

class BatchUpdateVolumeSampledAtResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
