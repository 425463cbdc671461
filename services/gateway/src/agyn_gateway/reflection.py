"""gRPC server reflection (grpc.reflection.v1 and v1alpha) for what the Gateway serves.

Tools such as `buf curl` and grpcurl ask it for the schema of a method before calling it.
It answers from the descriptors the routes are built from, limited to the files the served
gateway services need: the internal services' own methods stay unlisted, though their
messages are shown since the gateway methods use them. The names the product documents
(`agynio.api.users.v1.UsersGateway`, ...) exist in no .proto file, so each gets a file
made here: the gateway service under its package, with the same methods and messages.

The reflection protocol is a bidirectional stream; connectrpc serves those over HTTP/2.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import grpc
from connectrpc.method import IdempotencyLevel, MethodInfo, StreamType
from connectrpc.request import RequestContext
from connectrpc.server import Endpoint
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf.descriptor import FileDescriptor
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from agyn_gateway.routes import Backend

# v1 and v1alpha have the same messages, field for field: one set of classes serves both.
REFLECTION_SERVICES = ("grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection")


def _documented_name_file(backend: Backend) -> descriptor_pb2.FileDescriptorProto:
    """A file declaring the gateway service under the name the product documents."""
    gateway = descriptor_pb2.FileDescriptorProto()
    backend.gateway.file.CopyToProto(gateway)
    (service,) = (service for service in gateway.service if service.name == backend.gateway.name)
    pkg_dir = backend.package.replace(".", "/")
    return descriptor_pb2.FileDescriptorProto(
        name=f"{pkg_dir}/{backend.name}_gateway.proto",
        package=backend.package,
        dependency=gateway.dependency,
        service=[service],
        syntax=gateway.syntax,
    )


class Schema:
    """The files reflection may show, by name and by the symbols they declare."""

    def __init__(self, backends: Iterable[Backend]) -> None:
        pool = descriptor_pool.Default()
        self.services: list[str] = [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
        self._files: dict[str, bytes] = {}
        self._dependencies: dict[str, list[str]] = {}
        self._symbols: dict[str, str] = {}  # full name of a type, service or method -> file
        roots: list[FileDescriptor] = [health_pb2.DESCRIPTOR]
        for backend in backends:
            roots.append(backend.gateway.file)
            made = _documented_name_file(backend)
            self._add(made)
            self.services += [
                backend.gateway.full_name,
                f"{made.package}.{backend.gateway.name}",
            ]
        pending = list(roots)
        while pending:
            file = pending.pop()
            if file.name in self._files:
                continue
            proto = descriptor_pb2.FileDescriptorProto()
            file.CopyToProto(proto)
            self._add(proto)
            pending.extend(pool.FindFileByName(name) for name in proto.dependency)
        self.services.sort()

    def _add(self, proto: descriptor_pb2.FileDescriptorProto) -> None:
        self._files[proto.name] = proto.SerializeToString()
        self._dependencies[proto.name] = list(proto.dependency)
        prefix = f"{proto.package}." if proto.package else ""

        def add_messages(scope: str, messages: Iterable[descriptor_pb2.DescriptorProto]) -> None:
            for message in messages:
                name = scope + message.name
                self._symbols[name] = proto.name
                for enum in message.enum_type:
                    self._symbols[f"{name}.{enum.name}"] = proto.name
                add_messages(name + ".", message.nested_type)

        add_messages(prefix, proto.message_type)
        for enum in proto.enum_type:
            self._symbols[prefix + enum.name] = proto.name
        for service in proto.service:
            self._symbols[prefix + service.name] = proto.name
            for method in service.method:
                self._symbols[f"{prefix}{service.name}.{method.name}"] = proto.name

    def file_of(self, symbol: str) -> str | None:
        return self._symbols.get(symbol)

    def knows_file(self, name: str) -> bool:
        return name in self._files

    def with_dependencies(self, name: str, sent: set[str]) -> list[bytes]:
        """`name` (even when sent before: the client asks for it again), then every file it
        needs that this stream has not sent yet."""
        sent.add(name)
        found = [self._files[name]]
        pending = list(self._dependencies[name])
        while pending:
            current = pending.pop(0)
            if current in sent:
                continue
            sent.add(current)
            found.append(self._files[current])
            pending.extend(self._dependencies[current])
        return found


def _answer(
    schema: Schema, request: reflection_pb2.ServerReflectionRequest, sent: set[str]
) -> reflection_pb2.ServerReflectionResponse:
    response = reflection_pb2.ServerReflectionResponse(valid_host=request.host, original_request=request)
    kind = request.WhichOneof("message_request")
    file_name: str | None = None
    if kind == "list_services":
        response.list_services_response.service.extend(
            reflection_pb2.ServiceResponse(name=name) for name in schema.services
        )
        return response
    if kind == "file_by_filename":
        file_name = request.file_by_filename if schema.knows_file(request.file_by_filename) else None
    elif kind == "file_containing_symbol":
        file_name = schema.file_of(request.file_containing_symbol)
    elif kind == "all_extension_numbers_of_type" and schema.file_of(request.all_extension_numbers_of_type):
        # The contract declares no extensions.
        response.all_extension_numbers_response.base_type_name = request.all_extension_numbers_of_type
        return response
    if file_name is None:
        response.error_response.error_code = grpc.StatusCode.NOT_FOUND.value[0]
        response.error_response.error_message = "not found"
        return response
    response.file_descriptor_response.file_descriptor_proto.extend(schema.with_dependencies(file_name, sent))
    return response


def reflection_endpoints(backends: Iterable[Backend]) -> dict[str, Any]:
    """Path -> Endpoint of ServerReflectionInfo, under v1 and v1alpha."""
    schema = Schema(backends)

    async def info(
        requests: AsyncIterator[reflection_pb2.ServerReflectionRequest], _context: RequestContext[Any, Any]
    ) -> AsyncIterator[reflection_pb2.ServerReflectionResponse]:
        sent: set[str] = set()
        async for request in requests:
            yield _answer(schema, request, sent)

    endpoints: dict[str, Any] = {}
    for service in REFLECTION_SERVICES:
        method = MethodInfo(
            name="ServerReflectionInfo",
            service_name=service,
            input=reflection_pb2.ServerReflectionRequest,
            output=reflection_pb2.ServerReflectionResponse,
            idempotency_level=IdempotencyLevel.UNKNOWN,
            stream_type=StreamType.BIDI_STREAM,
        )
        endpoints[f"/{service}/ServerReflectionInfo"] = Endpoint.bidi_stream(method, info)
    return endpoints
