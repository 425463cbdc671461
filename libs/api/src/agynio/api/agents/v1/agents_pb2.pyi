import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AgentAvailability(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGENT_AVAILABILITY_UNSPECIFIED: _ClassVar[AgentAvailability]
    AGENT_AVAILABILITY_INTERNAL: _ClassVar[AgentAvailability]
    AGENT_AVAILABILITY_PRIVATE: _ClassVar[AgentAvailability]

class AgentRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGENT_ROLE_UNSPECIFIED: _ClassVar[AgentRole]
    AGENT_ROLE_OWNER: _ClassVar[AgentRole]
    AGENT_ROLE_MAINTAINER: _ClassVar[AgentRole]
    AGENT_ROLE_PARTICIPANT: _ClassVar[AgentRole]
AGENT_AVAILABILITY_UNSPECIFIED: AgentAvailability
AGENT_AVAILABILITY_INTERNAL: AgentAvailability
AGENT_AVAILABILITY_PRIVATE: AgentAvailability
AGENT_ROLE_UNSPECIFIED: AgentRole
AGENT_ROLE_OWNER: AgentRole
AGENT_ROLE_MAINTAINER: AgentRole
AGENT_ROLE_PARTICIPANT: AgentRole

class EntityMeta(_message.Message):
    __slots__ = ("id", "created_at", "updated_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    created_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ComputeResources(_message.Message):
    __slots__ = ("requests_cpu", "requests_memory", "limits_cpu", "limits_memory")
    REQUESTS_CPU_FIELD_NUMBER: _ClassVar[int]
    REQUESTS_MEMORY_FIELD_NUMBER: _ClassVar[int]
    LIMITS_CPU_FIELD_NUMBER: _ClassVar[int]
    LIMITS_MEMORY_FIELD_NUMBER: _ClassVar[int]
    requests_cpu: str
    requests_memory: str
    limits_cpu: str
    limits_memory: str
    def __init__(self, requests_cpu: _Optional[str] = ..., requests_memory: _Optional[str] = ..., limits_cpu: _Optional[str] = ..., limits_memory: _Optional[str] = ...) -> None: ...

class Agent(_message.Message):
    __slots__ = ("meta", "name", "role", "model", "description", "configuration", "image", "resources", "init_image", "organization_id", "nickname", "idle_timeout", "capabilities", "availability")
    META_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONFIGURATION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    INIT_IMAGE_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    name: str
    role: str
    model: str
    description: str
    configuration: str
    image: str
    resources: ComputeResources
    init_image: str
    organization_id: str
    nickname: str
    idle_timeout: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    availability: AgentAvailability
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., name: _Optional[str] = ..., role: _Optional[str] = ..., model: _Optional[str] = ..., description: _Optional[str] = ..., configuration: _Optional[str] = ..., image: _Optional[str] = ..., resources: _Optional[_Union[ComputeResources, _Mapping]] = ..., init_image: _Optional[str] = ..., organization_id: _Optional[str] = ..., nickname: _Optional[str] = ..., idle_timeout: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., availability: _Optional[_Union[AgentAvailability, str]] = ...) -> None: ...

class CreateAgentRequest(_message.Message):
    __slots__ = ("name", "role", "model", "description", "configuration", "image", "resources", "organization_id", "init_image", "nickname", "idle_timeout", "capabilities", "availability")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONFIGURATION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    INIT_IMAGE_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    name: str
    role: str
    model: str
    description: str
    configuration: str
    image: str
    resources: ComputeResources
    organization_id: str
    init_image: str
    nickname: str
    idle_timeout: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    availability: AgentAvailability
    def __init__(self, name: _Optional[str] = ..., role: _Optional[str] = ..., model: _Optional[str] = ..., description: _Optional[str] = ..., configuration: _Optional[str] = ..., image: _Optional[str] = ..., resources: _Optional[_Union[ComputeResources, _Mapping]] = ..., organization_id: _Optional[str] = ..., init_image: _Optional[str] = ..., nickname: _Optional[str] = ..., idle_timeout: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., availability: _Optional[_Union[AgentAvailability, str]] = ...) -> None: ...

class CreateAgentResponse(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: Agent
    def __init__(self, agent: _Optional[_Union[Agent, _Mapping]] = ...) -> None: ...

class GetAgentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetAgentResponse(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: Agent
    def __init__(self, agent: _Optional[_Union[Agent, _Mapping]] = ...) -> None: ...

class ResolveAgentIdentityRequest(_message.Message):
    __slots__ = ("identity_id",)
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    identity_id: str
    def __init__(self, identity_id: _Optional[str] = ...) -> None: ...

class ResolveAgentIdentityResponse(_message.Message):
    __slots__ = ("agent_id", "organization_id")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    organization_id: str
    def __init__(self, agent_id: _Optional[str] = ..., organization_id: _Optional[str] = ...) -> None: ...

class UpdateAgentRequest(_message.Message):
    __slots__ = ("id", "name", "role", "model", "description", "configuration", "image", "resources", "init_image", "nickname", "idle_timeout", "capabilities", "availability")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CONFIGURATION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    INIT_IMAGE_FIELD_NUMBER: _ClassVar[int]
    NICKNAME_FIELD_NUMBER: _ClassVar[int]
    IDLE_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    role: str
    model: str
    description: str
    configuration: str
    image: str
    resources: ComputeResources
    init_image: str
    nickname: str
    idle_timeout: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    availability: AgentAvailability
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., role: _Optional[str] = ..., model: _Optional[str] = ..., description: _Optional[str] = ..., configuration: _Optional[str] = ..., image: _Optional[str] = ..., resources: _Optional[_Union[ComputeResources, _Mapping]] = ..., init_image: _Optional[str] = ..., nickname: _Optional[str] = ..., idle_timeout: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., availability: _Optional[_Union[AgentAvailability, str]] = ...) -> None: ...

class UpdateAgentResponse(_message.Message):
    __slots__ = ("agent",)
    AGENT_FIELD_NUMBER: _ClassVar[int]
    agent: Agent
    def __init__(self, agent: _Optional[_Union[Agent, _Mapping]] = ...) -> None: ...

class DeleteAgentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteAgentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "organization_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    organization_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., organization_id: _Optional[str] = ...) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ("agents", "next_page_token")
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[Agent]
    next_page_token: str
    def __init__(self, agents: _Optional[_Iterable[_Union[Agent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class AgentRoleAssignment(_message.Message):
    __slots__ = ("agent_id", "identity_id", "role")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    identity_id: str
    role: AgentRole
    def __init__(self, agent_id: _Optional[str] = ..., identity_id: _Optional[str] = ..., role: _Optional[_Union[AgentRole, str]] = ...) -> None: ...

class SetAgentRoleRequest(_message.Message):
    __slots__ = ("agent_id", "identity_id", "role")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    identity_id: str
    role: AgentRole
    def __init__(self, agent_id: _Optional[str] = ..., identity_id: _Optional[str] = ..., role: _Optional[_Union[AgentRole, str]] = ...) -> None: ...

class SetAgentRoleResponse(_message.Message):
    __slots__ = ("assignment",)
    ASSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    assignment: AgentRoleAssignment
    def __init__(self, assignment: _Optional[_Union[AgentRoleAssignment, _Mapping]] = ...) -> None: ...

class RemoveAgentRoleRequest(_message.Message):
    __slots__ = ("agent_id", "identity_id")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    IDENTITY_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    identity_id: str
    def __init__(self, agent_id: _Optional[str] = ..., identity_id: _Optional[str] = ...) -> None: ...

class RemoveAgentRoleResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAgentRolesRequest(_message.Message):
    __slots__ = ("agent_id",)
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    def __init__(self, agent_id: _Optional[str] = ...) -> None: ...

class ListAgentRolesResponse(_message.Message):
    __slots__ = ("assignments",)
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[AgentRoleAssignment]
    def __init__(self, assignments: _Optional[_Iterable[_Union[AgentRoleAssignment, _Mapping]]] = ...) -> None: ...

class ListMyAgentRolesRequest(_message.Message):
    __slots__ = ("organization_id",)
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    organization_id: str
    def __init__(self, organization_id: _Optional[str] = ...) -> None: ...

class ListMyAgentRolesResponse(_message.Message):
    __slots__ = ("assignments",)
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    assignments: _containers.RepeatedCompositeFieldContainer[AgentRoleAssignment]
    def __init__(self, assignments: _Optional[_Iterable[_Union[AgentRoleAssignment, _Mapping]]] = ...) -> None: ...

class Volume(_message.Message):
    __slots__ = ("meta", "persistent", "mount_path", "size", "description", "ttl")
    META_FIELD_NUMBER: _ClassVar[int]
    PERSISTENT_FIELD_NUMBER: _ClassVar[int]
    MOUNT_PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    persistent: bool
    mount_path: str
    size: str
    description: str
    ttl: str
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., persistent: _Optional[bool] = ..., mount_path: _Optional[str] = ..., size: _Optional[str] = ..., description: _Optional[str] = ..., ttl: _Optional[str] = ...) -> None: ...

class CreateVolumeRequest(_message.Message):
    __slots__ = ("persistent", "mount_path", "size", "description", "organization_id", "ttl")
    PERSISTENT_FIELD_NUMBER: _ClassVar[int]
    MOUNT_PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    persistent: bool
    mount_path: str
    size: str
    description: str
    organization_id: str
    ttl: str
    def __init__(self, persistent: _Optional[bool] = ..., mount_path: _Optional[str] = ..., size: _Optional[str] = ..., description: _Optional[str] = ..., organization_id: _Optional[str] = ..., ttl: _Optional[str] = ...) -> None: ...

class CreateVolumeResponse(_message.Message):
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

class UpdateVolumeRequest(_message.Message):
    __slots__ = ("id", "persistent", "mount_path", "size", "description", "ttl")
    ID_FIELD_NUMBER: _ClassVar[int]
    PERSISTENT_FIELD_NUMBER: _ClassVar[int]
    MOUNT_PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    id: str
    persistent: bool
    mount_path: str
    size: str
    description: str
    ttl: str
    def __init__(self, id: _Optional[str] = ..., persistent: _Optional[bool] = ..., mount_path: _Optional[str] = ..., size: _Optional[str] = ..., description: _Optional[str] = ..., ttl: _Optional[str] = ...) -> None: ...

class UpdateVolumeResponse(_message.Message):
    __slots__ = ("volume",)
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    volume: Volume
    def __init__(self, volume: _Optional[_Union[Volume, _Mapping]] = ...) -> None: ...

class DeleteVolumeRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteVolumeResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListVolumesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "organization_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    organization_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., organization_id: _Optional[str] = ...) -> None: ...

class ListVolumesResponse(_message.Message):
    __slots__ = ("volumes", "next_page_token")
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    volumes: _containers.RepeatedCompositeFieldContainer[Volume]
    next_page_token: str
    def __init__(self, volumes: _Optional[_Iterable[_Union[Volume, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class VolumeAttachment(_message.Message):
    __slots__ = ("meta", "volume_id", "agent_id", "mcp_id", "hook_id")
    META_FIELD_NUMBER: _ClassVar[int]
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MCP_ID_FIELD_NUMBER: _ClassVar[int]
    HOOK_ID_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    volume_id: str
    agent_id: str
    mcp_id: str
    hook_id: str
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., volume_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., mcp_id: _Optional[str] = ..., hook_id: _Optional[str] = ...) -> None: ...

class CreateVolumeAttachmentRequest(_message.Message):
    __slots__ = ("volume_id", "agent_id", "mcp_id", "hook_id")
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MCP_ID_FIELD_NUMBER: _ClassVar[int]
    HOOK_ID_FIELD_NUMBER: _ClassVar[int]
    volume_id: str
    agent_id: str
    mcp_id: str
    hook_id: str
    def __init__(self, volume_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., mcp_id: _Optional[str] = ..., hook_id: _Optional[str] = ...) -> None: ...

class CreateVolumeAttachmentResponse(_message.Message):
    __slots__ = ("volume_attachment",)
    VOLUME_ATTACHMENT_FIELD_NUMBER: _ClassVar[int]
    volume_attachment: VolumeAttachment
    def __init__(self, volume_attachment: _Optional[_Union[VolumeAttachment, _Mapping]] = ...) -> None: ...

class GetVolumeAttachmentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetVolumeAttachmentResponse(_message.Message):
    __slots__ = ("volume_attachment",)
    VOLUME_ATTACHMENT_FIELD_NUMBER: _ClassVar[int]
    volume_attachment: VolumeAttachment
    def __init__(self, volume_attachment: _Optional[_Union[VolumeAttachment, _Mapping]] = ...) -> None: ...

class DeleteVolumeAttachmentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteVolumeAttachmentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListVolumeAttachmentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "volume_id", "agent_id", "mcp_id", "hook_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    VOLUME_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MCP_ID_FIELD_NUMBER: _ClassVar[int]
    HOOK_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    volume_id: str
    agent_id: str
    mcp_id: str
    hook_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., volume_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., mcp_id: _Optional[str] = ..., hook_id: _Optional[str] = ...) -> None: ...

class ListVolumeAttachmentsResponse(_message.Message):
    __slots__ = ("volume_attachments", "next_page_token")
    VOLUME_ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    volume_attachments: _containers.RepeatedCompositeFieldContainer[VolumeAttachment]
    next_page_token: str
    def __init__(self, volume_attachments: _Optional[_Iterable[_Union[VolumeAttachment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ImagePullSecretAttachment(_message.Message):
    __slots__ = ("meta", "image_pull_secret_id", "agent_id", "mcp_id", "hook_id")
    META_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PULL_SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MCP_ID_FIELD_NUMBER: _ClassVar[int]
    HOOK_ID_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    image_pull_secret_id: str
    agent_id: str
    mcp_id: str
    hook_id: str
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., image_pull_secret_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., mcp_id: _Optional[str] = ..., hook_id: _Optional[str] = ...) -> None: ...

class CreateImagePullSecretAttachmentRequest(_message.Message):
    __slots__ = ("image_pull_secret_id", "agent_id", "mcp_id", "hook_id")
    IMAGE_PULL_SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MCP_ID_FIELD_NUMBER: _ClassVar[int]
    HOOK_ID_FIELD_NUMBER: _ClassVar[int]
    image_pull_secret_id: str
    agent_id: str
    mcp_id: str
    hook_id: str
    def __init__(self, image_pull_secret_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., mcp_id: _Optional[str] = ..., hook_id: _Optional[str] = ...) -> None: ...

class CreateImagePullSecretAttachmentResponse(_message.Message):
    __slots__ = ("image_pull_secret_attachment",)
    IMAGE_PULL_SECRET_ATTACHMENT_FIELD_NUMBER: _ClassVar[int]
    image_pull_secret_attachment: ImagePullSecretAttachment
    def __init__(self, image_pull_secret_attachment: _Optional[_Union[ImagePullSecretAttachment, _Mapping]] = ...) -> None: ...

class GetImagePullSecretAttachmentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetImagePullSecretAttachmentResponse(_message.Message):
    __slots__ = ("image_pull_secret_attachment",)
    IMAGE_PULL_SECRET_ATTACHMENT_FIELD_NUMBER: _ClassVar[int]
    image_pull_secret_attachment: ImagePullSecretAttachment
    def __init__(self, image_pull_secret_attachment: _Optional[_Union[ImagePullSecretAttachment, _Mapping]] = ...) -> None: ...

class DeleteImagePullSecretAttachmentRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteImagePullSecretAttachmentResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListImagePullSecretAttachmentsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "image_pull_secret_id", "agent_id", "mcp_id", "hook_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    IMAGE_PULL_SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MCP_ID_FIELD_NUMBER: _ClassVar[int]
    HOOK_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    image_pull_secret_id: str
    agent_id: str
    mcp_id: str
    hook_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., image_pull_secret_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., mcp_id: _Optional[str] = ..., hook_id: _Optional[str] = ...) -> None: ...

class ListImagePullSecretAttachmentsResponse(_message.Message):
    __slots__ = ("image_pull_secret_attachments", "next_page_token")
    IMAGE_PULL_SECRET_ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    image_pull_secret_attachments: _containers.RepeatedCompositeFieldContainer[ImagePullSecretAttachment]
    next_page_token: str
    def __init__(self, image_pull_secret_attachments: _Optional[_Iterable[_Union[ImagePullSecretAttachment, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Mcp(_message.Message):
    __slots__ = ("meta", "agent_id", "image", "command", "resources", "description", "name")
    META_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    agent_id: str
    image: str
    command: str
    resources: ComputeResources
    description: str
    name: str
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., agent_id: _Optional[str] = ..., image: _Optional[str] = ..., command: _Optional[str] = ..., resources: _Optional[_Union[ComputeResources, _Mapping]] = ..., description: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CreateMcpRequest(_message.Message):
    __slots__ = ("agent_id", "image", "command", "resources", "description", "name")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    image: str
    command: str
    resources: ComputeResources
    description: str
    name: str
    def __init__(self, agent_id: _Optional[str] = ..., image: _Optional[str] = ..., command: _Optional[str] = ..., resources: _Optional[_Union[ComputeResources, _Mapping]] = ..., description: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class CreateMcpResponse(_message.Message):
    __slots__ = ("mcp",)
    MCP_FIELD_NUMBER: _ClassVar[int]
    mcp: Mcp
    def __init__(self, mcp: _Optional[_Union[Mcp, _Mapping]] = ...) -> None: ...

class GetMcpRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetMcpResponse(_message.Message):
    __slots__ = ("mcp",)
    MCP_FIELD_NUMBER: _ClassVar[int]
    mcp: Mcp
    def __init__(self, mcp: _Optional[_Union[Mcp, _Mapping]] = ...) -> None: ...

class UpdateMcpRequest(_message.Message):
    __slots__ = ("id", "image", "command", "resources", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    COMMAND_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    image: str
    command: str
    resources: ComputeResources
    description: str
    def __init__(self, id: _Optional[str] = ..., image: _Optional[str] = ..., command: _Optional[str] = ..., resources: _Optional[_Union[ComputeResources, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class UpdateMcpResponse(_message.Message):
    __slots__ = ("mcp",)
    MCP_FIELD_NUMBER: _ClassVar[int]
    mcp: Mcp
    def __init__(self, mcp: _Optional[_Union[Mcp, _Mapping]] = ...) -> None: ...

class DeleteMcpRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteMcpResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMcpsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "agent_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    agent_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class ListMcpsResponse(_message.Message):
    __slots__ = ("mcps", "next_page_token")
    MCPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    mcps: _containers.RepeatedCompositeFieldContainer[Mcp]
    next_page_token: str
    def __init__(self, mcps: _Optional[_Iterable[_Union[Mcp, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Skill(_message.Message):
    __slots__ = ("meta", "agent_id", "name", "body", "description")
    META_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    agent_id: str
    name: str
    body: str
    description: str
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., agent_id: _Optional[str] = ..., name: _Optional[str] = ..., body: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class CreateSkillRequest(_message.Message):
    __slots__ = ("agent_id", "name", "body", "description")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    name: str
    body: str
    description: str
    def __init__(self, agent_id: _Optional[str] = ..., name: _Optional[str] = ..., body: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class CreateSkillResponse(_message.Message):
    __slots__ = ("skill",)
    SKILL_FIELD_NUMBER: _ClassVar[int]
    skill: Skill
    def __init__(self, skill: _Optional[_Union[Skill, _Mapping]] = ...) -> None: ...

class GetSkillRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetSkillResponse(_message.Message):
    __slots__ = ("skill",)
    SKILL_FIELD_NUMBER: _ClassVar[int]
    skill: Skill
    def __init__(self, skill: _Optional[_Union[Skill, _Mapping]] = ...) -> None: ...

class UpdateSkillRequest(_message.Message):
    __slots__ = ("id", "name", "body", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    body: str
    description: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., body: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class UpdateSkillResponse(_message.Message):
    __slots__ = ("skill",)
    SKILL_FIELD_NUMBER: _ClassVar[int]
    skill: Skill
    def __init__(self, skill: _Optional[_Union[Skill, _Mapping]] = ...) -> None: ...

class DeleteSkillRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteSkillResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListSkillsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "agent_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    agent_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class ListSkillsResponse(_message.Message):
    __slots__ = ("skills", "next_page_token")
    SKILLS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    skills: _containers.RepeatedCompositeFieldContainer[Skill]
    next_page_token: str
    def __init__(self, skills: _Optional[_Iterable[_Union[Skill, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Hook(_message.Message):
    __slots__ = ("meta", "agent_id", "event", "function", "image", "resources", "description")
    META_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    agent_id: str
    event: str
    function: str
    image: str
    resources: ComputeResources
    description: str
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., agent_id: _Optional[str] = ..., event: _Optional[str] = ..., function: _Optional[str] = ..., image: _Optional[str] = ..., resources: _Optional[_Union[ComputeResources, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class CreateHookRequest(_message.Message):
    __slots__ = ("agent_id", "event", "function", "image", "resources", "description")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    event: str
    function: str
    image: str
    resources: ComputeResources
    description: str
    def __init__(self, agent_id: _Optional[str] = ..., event: _Optional[str] = ..., function: _Optional[str] = ..., image: _Optional[str] = ..., resources: _Optional[_Union[ComputeResources, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class CreateHookResponse(_message.Message):
    __slots__ = ("hook",)
    HOOK_FIELD_NUMBER: _ClassVar[int]
    hook: Hook
    def __init__(self, hook: _Optional[_Union[Hook, _Mapping]] = ...) -> None: ...

class GetHookRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetHookResponse(_message.Message):
    __slots__ = ("hook",)
    HOOK_FIELD_NUMBER: _ClassVar[int]
    hook: Hook
    def __init__(self, hook: _Optional[_Union[Hook, _Mapping]] = ...) -> None: ...

class UpdateHookRequest(_message.Message):
    __slots__ = ("id", "event", "function", "image", "resources", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    event: str
    function: str
    image: str
    resources: ComputeResources
    description: str
    def __init__(self, id: _Optional[str] = ..., event: _Optional[str] = ..., function: _Optional[str] = ..., image: _Optional[str] = ..., resources: _Optional[_Union[ComputeResources, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class UpdateHookResponse(_message.Message):
    __slots__ = ("hook",)
    HOOK_FIELD_NUMBER: _ClassVar[int]
    hook: Hook
    def __init__(self, hook: _Optional[_Union[Hook, _Mapping]] = ...) -> None: ...

class DeleteHookRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteHookResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListHooksRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "agent_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    agent_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class ListHooksResponse(_message.Message):
    __slots__ = ("hooks", "next_page_token")
    HOOKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    hooks: _containers.RepeatedCompositeFieldContainer[Hook]
    next_page_token: str
    def __init__(self, hooks: _Optional[_Iterable[_Union[Hook, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Env(_message.Message):
    __slots__ = ("meta", "name", "description", "agent_id", "mcp_id", "hook_id", "value", "secret_id")
    META_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MCP_ID_FIELD_NUMBER: _ClassVar[int]
    HOOK_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    name: str
    description: str
    agent_id: str
    mcp_id: str
    hook_id: str
    value: str
    secret_id: str
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., agent_id: _Optional[str] = ..., mcp_id: _Optional[str] = ..., hook_id: _Optional[str] = ..., value: _Optional[str] = ..., secret_id: _Optional[str] = ...) -> None: ...

class CreateEnvRequest(_message.Message):
    __slots__ = ("name", "description", "agent_id", "mcp_id", "hook_id", "value", "secret_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MCP_ID_FIELD_NUMBER: _ClassVar[int]
    HOOK_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    agent_id: str
    mcp_id: str
    hook_id: str
    value: str
    secret_id: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., agent_id: _Optional[str] = ..., mcp_id: _Optional[str] = ..., hook_id: _Optional[str] = ..., value: _Optional[str] = ..., secret_id: _Optional[str] = ...) -> None: ...

class CreateEnvResponse(_message.Message):
    __slots__ = ("env",)
    ENV_FIELD_NUMBER: _ClassVar[int]
    env: Env
    def __init__(self, env: _Optional[_Union[Env, _Mapping]] = ...) -> None: ...

class GetEnvRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetEnvResponse(_message.Message):
    __slots__ = ("env",)
    ENV_FIELD_NUMBER: _ClassVar[int]
    env: Env
    def __init__(self, env: _Optional[_Union[Env, _Mapping]] = ...) -> None: ...

class UpdateEnvRequest(_message.Message):
    __slots__ = ("id", "name", "description", "value", "secret_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SECRET_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    description: str
    value: str
    secret_id: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., value: _Optional[str] = ..., secret_id: _Optional[str] = ...) -> None: ...

class UpdateEnvResponse(_message.Message):
    __slots__ = ("env",)
    ENV_FIELD_NUMBER: _ClassVar[int]
    env: Env
    def __init__(self, env: _Optional[_Union[Env, _Mapping]] = ...) -> None: ...

class DeleteEnvRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteEnvResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListEnvsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "agent_id", "mcp_id", "hook_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MCP_ID_FIELD_NUMBER: _ClassVar[int]
    HOOK_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    agent_id: str
    mcp_id: str
    hook_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., agent_id: _Optional[str] = ..., mcp_id: _Optional[str] = ..., hook_id: _Optional[str] = ...) -> None: ...

class ListEnvsResponse(_message.Message):
    __slots__ = ("envs", "next_page_token")
    ENVS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    envs: _containers.RepeatedCompositeFieldContainer[Env]
    next_page_token: str
    def __init__(self, envs: _Optional[_Iterable[_Union[Env, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class InitScript(_message.Message):
    __slots__ = ("meta", "script", "description", "agent_id", "mcp_id", "hook_id")
    META_FIELD_NUMBER: _ClassVar[int]
    SCRIPT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MCP_ID_FIELD_NUMBER: _ClassVar[int]
    HOOK_ID_FIELD_NUMBER: _ClassVar[int]
    meta: EntityMeta
    script: str
    description: str
    agent_id: str
    mcp_id: str
    hook_id: str
    def __init__(self, meta: _Optional[_Union[EntityMeta, _Mapping]] = ..., script: _Optional[str] = ..., description: _Optional[str] = ..., agent_id: _Optional[str] = ..., mcp_id: _Optional[str] = ..., hook_id: _Optional[str] = ...) -> None: ...

class CreateInitScriptRequest(_message.Message):
    __slots__ = ("script", "description", "agent_id", "mcp_id", "hook_id")
    SCRIPT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MCP_ID_FIELD_NUMBER: _ClassVar[int]
    HOOK_ID_FIELD_NUMBER: _ClassVar[int]
    script: str
    description: str
    agent_id: str
    mcp_id: str
    hook_id: str
    def __init__(self, script: _Optional[str] = ..., description: _Optional[str] = ..., agent_id: _Optional[str] = ..., mcp_id: _Optional[str] = ..., hook_id: _Optional[str] = ...) -> None: ...

class CreateInitScriptResponse(_message.Message):
    __slots__ = ("init_script",)
    INIT_SCRIPT_FIELD_NUMBER: _ClassVar[int]
    init_script: InitScript
    def __init__(self, init_script: _Optional[_Union[InitScript, _Mapping]] = ...) -> None: ...

class GetInitScriptRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class GetInitScriptResponse(_message.Message):
    __slots__ = ("init_script",)
    INIT_SCRIPT_FIELD_NUMBER: _ClassVar[int]
    init_script: InitScript
    def __init__(self, init_script: _Optional[_Union[InitScript, _Mapping]] = ...) -> None: ...

class UpdateInitScriptRequest(_message.Message):
    __slots__ = ("id", "script", "description")
    ID_FIELD_NUMBER: _ClassVar[int]
    SCRIPT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    script: str
    description: str
    def __init__(self, id: _Optional[str] = ..., script: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class UpdateInitScriptResponse(_message.Message):
    __slots__ = ("init_script",)
    INIT_SCRIPT_FIELD_NUMBER: _ClassVar[int]
    init_script: InitScript
    def __init__(self, init_script: _Optional[_Union[InitScript, _Mapping]] = ...) -> None: ...

class DeleteInitScriptRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class DeleteInitScriptResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListInitScriptsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "agent_id", "mcp_id", "hook_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    MCP_ID_FIELD_NUMBER: _ClassVar[int]
    HOOK_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    agent_id: str
    mcp_id: str
    hook_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., agent_id: _Optional[str] = ..., mcp_id: _Optional[str] = ..., hook_id: _Optional[str] = ...) -> None: ...

class ListInitScriptsResponse(_message.Message):
    __slots__ = ("init_scripts", "next_page_token")
    INIT_SCRIPTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    init_scripts: _containers.RepeatedCompositeFieldContainer[InitScript]
    next_page_token: str
    def __init__(self, init_scripts: _Optional[_Iterable[_Union[InitScript, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
