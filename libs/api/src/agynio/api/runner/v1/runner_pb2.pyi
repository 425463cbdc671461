import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VolumeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VOLUME_KIND_UNSPECIFIED: _ClassVar[VolumeKind]
    VOLUME_KIND_EPHEMERAL: _ClassVar[VolumeKind]
    VOLUME_KIND_NAMED: _ClassVar[VolumeKind]

class WorkloadStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WORKLOAD_STATUS_UNSPECIFIED: _ClassVar[WorkloadStatus]
    WORKLOAD_STATUS_RUNNING: _ClassVar[WorkloadStatus]
    WORKLOAD_STATUS_STARTING: _ClassVar[WorkloadStatus]
    WORKLOAD_STATUS_STOPPED: _ClassVar[WorkloadStatus]
    WORKLOAD_STATUS_FAILED: _ClassVar[WorkloadStatus]

class ExecExitReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXEC_EXIT_REASON_UNSPECIFIED: _ClassVar[ExecExitReason]
    EXEC_EXIT_REASON_COMPLETED: _ClassVar[ExecExitReason]
    EXEC_EXIT_REASON_TIMEOUT: _ClassVar[ExecExitReason]
    EXEC_EXIT_REASON_IDLE_TIMEOUT: _ClassVar[ExecExitReason]
    EXEC_EXIT_REASON_CANCELLED: _ClassVar[ExecExitReason]
    EXEC_EXIT_REASON_RUNNER_ERROR: _ClassVar[ExecExitReason]
VOLUME_KIND_UNSPECIFIED: VolumeKind
VOLUME_KIND_EPHEMERAL: VolumeKind
VOLUME_KIND_NAMED: VolumeKind
WORKLOAD_STATUS_UNSPECIFIED: WorkloadStatus
WORKLOAD_STATUS_RUNNING: WorkloadStatus
WORKLOAD_STATUS_STARTING: WorkloadStatus
WORKLOAD_STATUS_STOPPED: WorkloadStatus
WORKLOAD_STATUS_FAILED: WorkloadStatus
EXEC_EXIT_REASON_UNSPECIFIED: ExecExitReason
EXEC_EXIT_REASON_COMPLETED: ExecExitReason
EXEC_EXIT_REASON_TIMEOUT: ExecExitReason
EXEC_EXIT_REASON_IDLE_TIMEOUT: ExecExitReason
EXEC_EXIT_REASON_CANCELLED: ExecExitReason
EXEC_EXIT_REASON_RUNNER_ERROR: ExecExitReason

class ReadyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReadyResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: str
    def __init__(self, status: _Optional[str] = ...) -> None: ...

class RunnerError(_message.Message):
    __slots__ = ("code", "message", "details", "retryable")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    details: _containers.ScalarMap[str, str]
    retryable: bool
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ..., retryable: _Optional[bool] = ...) -> None: ...

class EnvVar(_message.Message):
    __slots__ = ("name", "value")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: str
    def __init__(self, name: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...

class VolumeSpec(_message.Message):
    __slots__ = ("name", "kind", "persistent_name", "labels", "additional_properties")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class AdditionalPropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PERSISTENT_NAME_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    name: str
    kind: VolumeKind
    persistent_name: str
    labels: _containers.ScalarMap[str, str]
    additional_properties: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., kind: _Optional[_Union[VolumeKind, str]] = ..., persistent_name: _Optional[str] = ..., labels: _Optional[_Mapping[str, str]] = ..., additional_properties: _Optional[_Mapping[str, str]] = ...) -> None: ...

class VolumeMount(_message.Message):
    __slots__ = ("volume", "mount_path", "read_only")
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    MOUNT_PATH_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    volume: str
    mount_path: str
    read_only: bool
    def __init__(self, volume: _Optional[str] = ..., mount_path: _Optional[str] = ..., read_only: _Optional[bool] = ...) -> None: ...

class InlineFileMount(_message.Message):
    __slots__ = ("path",)
    PATH_FIELD_NUMBER: _ClassVar[int]
    path: str
    def __init__(self, path: _Optional[str] = ...) -> None: ...

class ContainerSpec(_message.Message):
    __slots__ = ("image", "name", "cmd", "entrypoint", "env", "working_dir", "mounts", "required_capabilities", "inline_file_mounts", "additional_properties")
    class AdditionalPropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CMD_FIELD_NUMBER: _ClassVar[int]
    ENTRYPOINT_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    WORKING_DIR_FIELD_NUMBER: _ClassVar[int]
    MOUNTS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    INLINE_FILE_MOUNTS_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    image: str
    name: str
    cmd: _containers.RepeatedScalarFieldContainer[str]
    entrypoint: str
    env: _containers.RepeatedCompositeFieldContainer[EnvVar]
    working_dir: str
    mounts: _containers.RepeatedCompositeFieldContainer[VolumeMount]
    required_capabilities: _containers.RepeatedScalarFieldContainer[str]
    inline_file_mounts: _containers.RepeatedCompositeFieldContainer[InlineFileMount]
    additional_properties: _containers.ScalarMap[str, str]
    def __init__(self, image: _Optional[str] = ..., name: _Optional[str] = ..., cmd: _Optional[_Iterable[str]] = ..., entrypoint: _Optional[str] = ..., env: _Optional[_Iterable[_Union[EnvVar, _Mapping]]] = ..., working_dir: _Optional[str] = ..., mounts: _Optional[_Iterable[_Union[VolumeMount, _Mapping]]] = ..., required_capabilities: _Optional[_Iterable[str]] = ..., inline_file_mounts: _Optional[_Iterable[_Union[InlineFileMount, _Mapping]]] = ..., additional_properties: _Optional[_Mapping[str, str]] = ...) -> None: ...

class DnsConfig(_message.Message):
    __slots__ = ("nameservers", "searches")
    NAMESERVERS_FIELD_NUMBER: _ClassVar[int]
    SEARCHES_FIELD_NUMBER: _ClassVar[int]
    nameservers: _containers.RepeatedScalarFieldContainer[str]
    searches: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, nameservers: _Optional[_Iterable[str]] = ..., searches: _Optional[_Iterable[str]] = ...) -> None: ...

class ImagePullCredential(_message.Message):
    __slots__ = ("registry", "username", "password")
    REGISTRY_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    registry: str
    username: str
    password: str
    def __init__(self, registry: _Optional[str] = ..., username: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class StartWorkloadRequest(_message.Message):
    __slots__ = ("main", "sidecars", "volumes", "init_containers", "dns_config", "image_pull_credentials", "labels", "workload_id", "capabilities", "inline_files", "additional_properties")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class InlineFilesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: bytes
        def __init__(self, key: _Optional[str] = ..., value: _Optional[bytes] = ...) -> None: ...
    class AdditionalPropertiesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    MAIN_FIELD_NUMBER: _ClassVar[int]
    SIDECARS_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    INIT_CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    DNS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PULL_CREDENTIALS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    INLINE_FILES_FIELD_NUMBER: _ClassVar[int]
    ADDITIONAL_PROPERTIES_FIELD_NUMBER: _ClassVar[int]
    main: ContainerSpec
    sidecars: _containers.RepeatedCompositeFieldContainer[ContainerSpec]
    volumes: _containers.RepeatedCompositeFieldContainer[VolumeSpec]
    init_containers: _containers.RepeatedCompositeFieldContainer[ContainerSpec]
    dns_config: DnsConfig
    image_pull_credentials: _containers.RepeatedCompositeFieldContainer[ImagePullCredential]
    labels: _containers.ScalarMap[str, str]
    workload_id: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    inline_files: _containers.ScalarMap[str, bytes]
    additional_properties: _containers.ScalarMap[str, str]
    def __init__(self, main: _Optional[_Union[ContainerSpec, _Mapping]] = ..., sidecars: _Optional[_Iterable[_Union[ContainerSpec, _Mapping]]] = ..., volumes: _Optional[_Iterable[_Union[VolumeSpec, _Mapping]]] = ..., init_containers: _Optional[_Iterable[_Union[ContainerSpec, _Mapping]]] = ..., dns_config: _Optional[_Union[DnsConfig, _Mapping]] = ..., image_pull_credentials: _Optional[_Iterable[_Union[ImagePullCredential, _Mapping]]] = ..., labels: _Optional[_Mapping[str, str]] = ..., workload_id: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., inline_files: _Optional[_Mapping[str, bytes]] = ..., additional_properties: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SidecarInstance(_message.Message):
    __slots__ = ("name", "id", "status")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    name: str
    id: str
    status: str
    def __init__(self, name: _Optional[str] = ..., id: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class WorkloadContainers(_message.Message):
    __slots__ = ("main", "sidecars")
    MAIN_FIELD_NUMBER: _ClassVar[int]
    SIDECARS_FIELD_NUMBER: _ClassVar[int]
    main: str
    sidecars: _containers.RepeatedCompositeFieldContainer[SidecarInstance]
    def __init__(self, main: _Optional[str] = ..., sidecars: _Optional[_Iterable[_Union[SidecarInstance, _Mapping]]] = ...) -> None: ...

class WorkloadFailure(_message.Message):
    __slots__ = ("code", "message", "details")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    details: _containers.ScalarMap[str, str]
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ...) -> None: ...

class StartWorkloadResponse(_message.Message):
    __slots__ = ("id", "containers", "status", "failure")
    ID_FIELD_NUMBER: _ClassVar[int]
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    id: str
    containers: WorkloadContainers
    status: WorkloadStatus
    failure: WorkloadFailure
    def __init__(self, id: _Optional[str] = ..., containers: _Optional[_Union[WorkloadContainers, _Mapping]] = ..., status: _Optional[_Union[WorkloadStatus, str]] = ..., failure: _Optional[_Union[WorkloadFailure, _Mapping]] = ...) -> None: ...

class StopWorkloadRequest(_message.Message):
    __slots__ = ("workload_id", "timeout_sec")
    WORKLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_SEC_FIELD_NUMBER: _ClassVar[int]
    workload_id: str
    timeout_sec: int
    def __init__(self, workload_id: _Optional[str] = ..., timeout_sec: _Optional[int] = ...) -> None: ...

class StopWorkloadResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class RemoveWorkloadRequest(_message.Message):
    __slots__ = ("workload_id", "force", "remove_volumes")
    WORKLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    REMOVE_VOLUMES_FIELD_NUMBER: _ClassVar[int]
    workload_id: str
    force: bool
    remove_volumes: bool
    def __init__(self, workload_id: _Optional[str] = ..., force: _Optional[bool] = ..., remove_volumes: _Optional[bool] = ...) -> None: ...

class RemoveWorkloadResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class InspectWorkloadRequest(_message.Message):
    __slots__ = ("workload_id",)
    WORKLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    workload_id: str
    def __init__(self, workload_id: _Optional[str] = ...) -> None: ...

class TargetMount(_message.Message):
    __slots__ = ("type", "source", "destination", "read_only")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    READ_ONLY_FIELD_NUMBER: _ClassVar[int]
    type: str
    source: str
    destination: str
    read_only: bool
    def __init__(self, type: _Optional[str] = ..., source: _Optional[str] = ..., destination: _Optional[str] = ..., read_only: _Optional[bool] = ...) -> None: ...

class InspectWorkloadResponse(_message.Message):
    __slots__ = ("id", "name", "image", "config_image", "config_labels", "mounts", "state_status", "state_running")
    class ConfigLabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_IMAGE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_LABELS_FIELD_NUMBER: _ClassVar[int]
    MOUNTS_FIELD_NUMBER: _ClassVar[int]
    STATE_STATUS_FIELD_NUMBER: _ClassVar[int]
    STATE_RUNNING_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    image: str
    config_image: str
    config_labels: _containers.ScalarMap[str, str]
    mounts: _containers.RepeatedCompositeFieldContainer[TargetMount]
    state_status: str
    state_running: bool
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., image: _Optional[str] = ..., config_image: _Optional[str] = ..., config_labels: _Optional[_Mapping[str, str]] = ..., mounts: _Optional[_Iterable[_Union[TargetMount, _Mapping]]] = ..., state_status: _Optional[str] = ..., state_running: _Optional[bool] = ...) -> None: ...

class GetWorkloadLabelsRequest(_message.Message):
    __slots__ = ("workload_id",)
    WORKLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    workload_id: str
    def __init__(self, workload_id: _Optional[str] = ...) -> None: ...

class GetWorkloadLabelsResponse(_message.Message):
    __slots__ = ("labels",)
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    LABELS_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.ScalarMap[str, str]
    def __init__(self, labels: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ListWorkloadsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WorkloadListItem(_message.Message):
    __slots__ = ("instance_id", "workload_key")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    WORKLOAD_KEY_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    workload_key: str
    def __init__(self, instance_id: _Optional[str] = ..., workload_key: _Optional[str] = ...) -> None: ...

class ListWorkloadsResponse(_message.Message):
    __slots__ = ("workloads",)
    WORKLOADS_FIELD_NUMBER: _ClassVar[int]
    workloads: _containers.RepeatedCompositeFieldContainer[WorkloadListItem]
    def __init__(self, workloads: _Optional[_Iterable[_Union[WorkloadListItem, _Mapping]]] = ...) -> None: ...

class FindWorkloadsByLabelsRequest(_message.Message):
    __slots__ = ("labels", "all")
    class LabelsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ALL_FIELD_NUMBER: _ClassVar[int]
    labels: _containers.ScalarMap[str, str]
    all: bool
    def __init__(self, labels: _Optional[_Mapping[str, str]] = ..., all: _Optional[bool] = ...) -> None: ...

class FindWorkloadsByLabelsResponse(_message.Message):
    __slots__ = ("target_ids",)
    TARGET_IDS_FIELD_NUMBER: _ClassVar[int]
    target_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, target_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListWorkloadsByVolumeRequest(_message.Message):
    __slots__ = ("volume_name",)
    VOLUME_NAME_FIELD_NUMBER: _ClassVar[int]
    volume_name: str
    def __init__(self, volume_name: _Optional[str] = ...) -> None: ...

class ListWorkloadsByVolumeResponse(_message.Message):
    __slots__ = ("target_ids",)
    TARGET_IDS_FIELD_NUMBER: _ClassVar[int]
    target_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, target_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ListVolumesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VolumeListItem(_message.Message):
    __slots__ = ("instance_id", "volume_key")
    INSTANCE_ID_FIELD_NUMBER: _ClassVar[int]
    VOLUME_KEY_FIELD_NUMBER: _ClassVar[int]
    instance_id: str
    volume_key: str
    def __init__(self, instance_id: _Optional[str] = ..., volume_key: _Optional[str] = ...) -> None: ...

class ListVolumesResponse(_message.Message):
    __slots__ = ("volumes",)
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    volumes: _containers.RepeatedCompositeFieldContainer[VolumeListItem]
    def __init__(self, volumes: _Optional[_Iterable[_Union[VolumeListItem, _Mapping]]] = ...) -> None: ...

class RemoveVolumeRequest(_message.Message):
    __slots__ = ("volume_name", "force")
    VOLUME_NAME_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    volume_name: str
    force: bool
    def __init__(self, volume_name: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class RemoveVolumeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TouchWorkloadRequest(_message.Message):
    __slots__ = ("workload_id",)
    WORKLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    workload_id: str
    def __init__(self, workload_id: _Optional[str] = ...) -> None: ...

class TouchWorkloadResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PutArchiveRequest(_message.Message):
    __slots__ = ("workload_id", "path", "tar_payload")
    WORKLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    TAR_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    workload_id: str
    path: str
    tar_payload: bytes
    def __init__(self, workload_id: _Optional[str] = ..., path: _Optional[str] = ..., tar_payload: _Optional[bytes] = ...) -> None: ...

class PutArchiveResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StreamWorkloadLogsRequest(_message.Message):
    __slots__ = ("workload_id", "follow", "since", "tail", "stdout", "stderr", "timestamps", "container_name", "tail_lines", "since_time")
    WORKLOAD_ID_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    TAIL_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_NAME_FIELD_NUMBER: _ClassVar[int]
    TAIL_LINES_FIELD_NUMBER: _ClassVar[int]
    SINCE_TIME_FIELD_NUMBER: _ClassVar[int]
    workload_id: str
    follow: bool
    since: int
    tail: int
    stdout: bool
    stderr: bool
    timestamps: bool
    container_name: str
    tail_lines: int
    since_time: _timestamp_pb2.Timestamp
    def __init__(self, workload_id: _Optional[str] = ..., follow: _Optional[bool] = ..., since: _Optional[int] = ..., tail: _Optional[int] = ..., stdout: _Optional[bool] = ..., stderr: _Optional[bool] = ..., timestamps: _Optional[bool] = ..., container_name: _Optional[str] = ..., tail_lines: _Optional[int] = ..., since_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StreamWorkloadLogsResponse(_message.Message):
    __slots__ = ("chunk", "end", "error")
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    chunk: LogChunk
    end: LogEnd
    error: RunnerError
    def __init__(self, chunk: _Optional[_Union[LogChunk, _Mapping]] = ..., end: _Optional[_Union[LogEnd, _Mapping]] = ..., error: _Optional[_Union[RunnerError, _Mapping]] = ...) -> None: ...

class LogChunk(_message.Message):
    __slots__ = ("data", "ts")
    DATA_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    ts: _timestamp_pb2.Timestamp
    def __init__(self, data: _Optional[bytes] = ..., ts: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class LogEnd(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StreamEventsRequest(_message.Message):
    __slots__ = ("since", "filters")
    SINCE_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    since: int
    filters: _containers.RepeatedCompositeFieldContainer[EventFilter]
    def __init__(self, since: _Optional[int] = ..., filters: _Optional[_Iterable[_Union[EventFilter, _Mapping]]] = ...) -> None: ...

class EventFilter(_message.Message):
    __slots__ = ("key", "values")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    key: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class StreamEventsResponse(_message.Message):
    __slots__ = ("data", "error")
    DATA_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    data: RunnerEventData
    error: RunnerError
    def __init__(self, data: _Optional[_Union[RunnerEventData, _Mapping]] = ..., error: _Optional[_Union[RunnerError, _Mapping]] = ...) -> None: ...

class RunnerEventData(_message.Message):
    __slots__ = ("json", "ts")
    JSON_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    json: str
    ts: _timestamp_pb2.Timestamp
    def __init__(self, json: _Optional[str] = ..., ts: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExecRequest(_message.Message):
    __slots__ = ("start", "stdin", "resize")
    START_FIELD_NUMBER: _ClassVar[int]
    STDIN_FIELD_NUMBER: _ClassVar[int]
    RESIZE_FIELD_NUMBER: _ClassVar[int]
    start: ExecStartRequest
    stdin: ExecStdin
    resize: ExecResize
    def __init__(self, start: _Optional[_Union[ExecStartRequest, _Mapping]] = ..., stdin: _Optional[_Union[ExecStdin, _Mapping]] = ..., resize: _Optional[_Union[ExecResize, _Mapping]] = ...) -> None: ...

class ExecStartRequest(_message.Message):
    __slots__ = ("request_id", "target_id", "command_argv", "command_shell", "options")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_ID_FIELD_NUMBER: _ClassVar[int]
    COMMAND_ARGV_FIELD_NUMBER: _ClassVar[int]
    COMMAND_SHELL_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    target_id: str
    command_argv: _containers.RepeatedScalarFieldContainer[str]
    command_shell: str
    options: ExecOptions
    def __init__(self, request_id: _Optional[str] = ..., target_id: _Optional[str] = ..., command_argv: _Optional[_Iterable[str]] = ..., command_shell: _Optional[str] = ..., options: _Optional[_Union[ExecOptions, _Mapping]] = ...) -> None: ...

class ExecOptions(_message.Message):
    __slots__ = ("workdir", "env", "timeout_ms", "idle_timeout_ms", "tty", "separate_stderr", "kill_on_timeout", "log_to_pid1", "exit_tail_bytes")
    WORKDIR_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    TTY_FIELD_NUMBER: _ClassVar[int]
    SEPARATE_STDERR_FIELD_NUMBER: _ClassVar[int]
    KILL_ON_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    LOG_TO_PID1_FIELD_NUMBER: _ClassVar[int]
    EXIT_TAIL_BYTES_FIELD_NUMBER: _ClassVar[int]
    workdir: str
    env: _containers.RepeatedCompositeFieldContainer[EnvVar]
    timeout_ms: int
    idle_timeout_ms: int
    tty: bool
    separate_stderr: bool
    kill_on_timeout: bool
    log_to_pid1: bool
    exit_tail_bytes: int
    def __init__(self, workdir: _Optional[str] = ..., env: _Optional[_Iterable[_Union[EnvVar, _Mapping]]] = ..., timeout_ms: _Optional[int] = ..., idle_timeout_ms: _Optional[int] = ..., tty: _Optional[bool] = ..., separate_stderr: _Optional[bool] = ..., kill_on_timeout: _Optional[bool] = ..., log_to_pid1: _Optional[bool] = ..., exit_tail_bytes: _Optional[int] = ...) -> None: ...

class ExecStdin(_message.Message):
    __slots__ = ("data", "eof")
    DATA_FIELD_NUMBER: _ClassVar[int]
    EOF_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    eof: bool
    def __init__(self, data: _Optional[bytes] = ..., eof: _Optional[bool] = ...) -> None: ...

class ExecResize(_message.Message):
    __slots__ = ("cols", "rows")
    COLS_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    cols: int
    rows: int
    def __init__(self, cols: _Optional[int] = ..., rows: _Optional[int] = ...) -> None: ...

class ExecResponse(_message.Message):
    __slots__ = ("started", "stdout", "stderr", "exit", "error")
    STARTED_FIELD_NUMBER: _ClassVar[int]
    STDOUT_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    EXIT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    started: ExecStarted
    stdout: ExecOutput
    stderr: ExecOutput
    exit: ExecExit
    error: ExecError
    def __init__(self, started: _Optional[_Union[ExecStarted, _Mapping]] = ..., stdout: _Optional[_Union[ExecOutput, _Mapping]] = ..., stderr: _Optional[_Union[ExecOutput, _Mapping]] = ..., exit: _Optional[_Union[ExecExit, _Mapping]] = ..., error: _Optional[_Union[ExecError, _Mapping]] = ...) -> None: ...

class ExecStarted(_message.Message):
    __slots__ = ("execution_id", "started_at")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    started_at: _timestamp_pb2.Timestamp
    def __init__(self, execution_id: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExecOutput(_message.Message):
    __slots__ = ("seq", "data", "ts")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    seq: int
    data: bytes
    ts: _timestamp_pb2.Timestamp
    def __init__(self, seq: _Optional[int] = ..., data: _Optional[bytes] = ..., ts: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExecExit(_message.Message):
    __slots__ = ("execution_id", "exit_code", "killed", "reason", "stdout_tail", "stderr_tail", "finished_at")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    KILLED_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    STDOUT_TAIL_FIELD_NUMBER: _ClassVar[int]
    STDERR_TAIL_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    exit_code: int
    killed: bool
    reason: ExecExitReason
    stdout_tail: bytes
    stderr_tail: bytes
    finished_at: _timestamp_pb2.Timestamp
    def __init__(self, execution_id: _Optional[str] = ..., exit_code: _Optional[int] = ..., killed: _Optional[bool] = ..., reason: _Optional[_Union[ExecExitReason, str]] = ..., stdout_tail: _Optional[bytes] = ..., stderr_tail: _Optional[bytes] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExecError(_message.Message):
    __slots__ = ("code", "message", "retryable")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RETRYABLE_FIELD_NUMBER: _ClassVar[int]
    code: str
    message: str
    retryable: bool
    def __init__(self, code: _Optional[str] = ..., message: _Optional[str] = ..., retryable: _Optional[bool] = ...) -> None: ...

class CancelExecutionRequest(_message.Message):
    __slots__ = ("execution_id", "force")
    EXECUTION_ID_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    execution_id: str
    force: bool
    def __init__(self, execution_id: _Optional[str] = ..., force: _Optional[bool] = ...) -> None: ...

class CancelExecutionResponse(_message.Message):
    __slots__ = ("cancelled",)
    CANCELLED_FIELD_NUMBER: _ClassVar[int]
    cancelled: bool
    def __init__(self, cancelled: _Optional[bool] = ...) -> None: ...
