"""What the Gateway serves, read from the proto descriptors (gateway-auth-mesh §2.2; DESIGN §2).

Each `<Pkg>Gateway` service forwards every method to the method of the same name (or its
alias, `agyn_common.gateway_surface`) on the package's internal service, with the same
messages. Serving a new package is one `Backend` entry, plus the address setting of its service.

The messages pass through unchanged but for the fields a backend names in `caller_fields`,
which the Gateway sets to the caller's own identity (organizations sheet §4.1:
`ListAccessibleOrganizations` lists the caller's organizations, whatever `identity_id` says).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from agyn_common.gateway_surface import gateway_of, target_method
from connectrpc.method import IdempotencyLevel, MethodInfo, StreamType
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.descriptor import Descriptor, MethodDescriptor, ServiceDescriptor
from google.protobuf.message import Message


@dataclass(frozen=True)
class Backend:
    name: str  # the service's deployable; its address comes from `<name>_address`
    service: str  # full name of the internal service; its gateway comes from the gateway protos
    # Methods open to callers without an identity (they prove themselves in the body).
    anonymous: frozenset[str] = frozenset()
    # Method -> the request field the Gateway overwrites with the caller's identity id (such a
    # method needs an identity).
    caller_fields: Mapping[str, str] = field(default_factory=dict, hash=False)
    # Method -> client headers passed on to the service as they came (the outgoing metadata
    # is otherwise built from scratch: nothing else a client sends reaches a service).
    passed_headers: Mapping[str, tuple[str, ...]] = field(default_factory=dict, hash=False)

    @property
    def package(self) -> str:
        return self.service.rsplit(".", 1)[0]

    @property
    def gateway(self) -> ServiceDescriptor:
        """The `<Pkg>Gateway` service of the gateway protos that fronts this service."""
        return gateway_of(self.service)


BACKENDS: tuple[Backend, ...] = (
    Backend("users", "agynio.api.users.v1.UsersService"),
    Backend(
        "organizations",
        "agynio.api.organizations.v1.OrganizationsService",
        caller_fields={"ListAccessibleOrganizations": "identity_id"},
    ),
    Backend("threads", "agynio.api.threads.v1.ThreadsService"),
    Backend("notifications", "agynio.api.notifications.v1.NotificationsService"),
    Backend("agents", "agynio.api.agents.v1.AgentsService"),
    Backend("files", "agynio.api.files.v1.FilesService"),
    # A runner daemon enrolls with its service token, before it has an identity, and tells
    # where it serves (DESIGN §3).
    Backend(
        "runners",
        "agynio.api.runners.v1.RunnersService",
        anonymous=frozenset({"EnrollRunner"}),
        passed_headers={"EnrollRunner": ("x-runner-address",)},
    ),
    Backend("tracing", "agynio.api.tracing.v1.TracingService"),
    Backend("chat", "agynio.api.chat.v1.ChatService"),
)


@dataclass(frozen=True)
class Route:
    backend: str
    paths: tuple[str, ...]  # every path the method answers on (both service names)
    target: str  # /<internal service>/<method>
    method: MethodInfo[Message, Message]
    anonymous: bool
    caller_field: str | None = None  # set to the caller's identity id before forwarding
    passed_headers: tuple[str, ...] = ()  # client headers forwarded as metadata, as they came

    @property
    def server_streaming(self) -> bool:
        return self.method.stream_type is StreamType.SERVER_STREAM

    @property
    def client_streaming(self) -> bool:
        return self.method.stream_type is StreamType.CLIENT_STREAM


def _message_class(descriptor: Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(descriptor)


def _stream_type(method: MethodDescriptor) -> StreamType:
    if method.client_streaming and method.server_streaming:
        return StreamType.BIDI_STREAM
    if method.client_streaming:
        return StreamType.CLIENT_STREAM
    if method.server_streaming:
        return StreamType.SERVER_STREAM
    return StreamType.UNARY


def routes_of(backend: Backend) -> Iterator[Route]:
    gateway = backend.gateway
    service = descriptor_pool.Default().FindServiceByName(backend.service)
    for method in gateway.methods:
        target = service.methods_by_name.get(target_method(gateway, method.name))
        if target is None or (target.input_type, target.output_type) != (
            method.input_type,
            method.output_type,
        ):
            raise ValueError(
                f"{gateway.full_name}/{method.name} has no matching method on {service.full_name}"
            )
        caller_field = backend.caller_fields.get(method.name)
        if caller_field is not None and caller_field not in method.input_type.fields_by_name:
            raise ValueError(f"{gateway.full_name}/{method.name} has no field {caller_field}")
        stream_type = _stream_type(method)
        if stream_type is StreamType.BIDI_STREAM:
            # No gateway method streams both ways yet.
            raise ValueError(f"{gateway.full_name}/{method.name}: {stream_type.name} is not forwarded yet")
        info = MethodInfo(
            name=method.name,
            service_name=gateway.full_name,
            input=_message_class(method.input_type),
            output=_message_class(method.output_type),
            idempotency_level=IdempotencyLevel.UNKNOWN,
            stream_type=stream_type,
        )
        # DESIGN §2: the contract's name and the name the product documents use.
        names = (gateway.full_name, f"{backend.package}.{gateway.name}")
        yield Route(
            backend=backend.name,
            paths=tuple(f"/{name}/{method.name}" for name in names),
            target=f"/{service.full_name}/{target.name}",
            method=info,
            anonymous=method.name in backend.anonymous,
            caller_field=caller_field,
            passed_headers=backend.passed_headers.get(method.name, ()),
        )
