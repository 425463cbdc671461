"""A tiny service built with agyn_common only, to test the foundation without a real service.

`agyn.probe.v1.Probe` is served through generic handlers over well-known wrapper messages,
so it needs no generated code; its descriptor is added to the default pool here, as generated
code would, so that reflection and the pipeline's idempotency see it. Run as a process:
`python -m agyn_testkit.probe [serve]`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import grpc
import sqlalchemy as sa
from agyn_common.access import AccessBuilder, IdentityRule
from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import failed_precondition, invalid_argument
from agyn_common.server import Runtime, ServiceDefinition, main
from agyn_common.settings import ServiceSettings
from google.protobuf import descriptor_pb2, descriptor_pool, wrappers_pb2
from google.protobuf.message import Message

SERVICE = "agyn.probe.v1.Probe"
MIGRATIONS = Path(__file__).parent / "probe_migrations"
METHODS = {
    "Echo": "StringValue",
    "Sleep": "DoubleValue",
    "WhoAmI": "StringValue",
    "Undeclared": "StringValue",
    "Create": "StringValue",
    "Hold": "Int64Value",
}


def _add_descriptor() -> None:
    wrappers = wrappers_pb2.DESCRIPTOR.name
    methods = [
        descriptor_pb2.MethodDescriptorProto(
            name=name, input_type=f".google.protobuf.{kind}", output_type=f".google.protobuf.{kind}"
        )
        for name, kind in METHODS.items()
    ]
    descriptor_pool.Default().Add(
        descriptor_pb2.FileDescriptorProto(
            name="agyn/probe/v1/probe.proto",
            package="agyn.probe.v1",
            dependency=[wrappers],
            service=[descriptor_pb2.ServiceDescriptorProto(name="Probe", method=methods)],
        )
    )


_add_descriptor()

metadata = sa.MetaData()
notes = sa.Table("notes", metadata, sa.Column("body", sa.Text, primary_key=True))


async def echo(
    request: wrappers_pb2.StringValue, context: grpc.aio.ServicerContext
) -> wrappers_pb2.StringValue:
    """Echoes; a few values fail the way handlers do."""
    if request.value == "":
        raise invalid_argument("value", "must not be empty")
    if request.value == "crash":
        raise RuntimeError("secret stack detail")
    if request.value == "needs-dependency":
        raise failed_precondition(
            "organizations is not available", "DEPENDENCY_UNAVAILABLE", dependency="orgs"
        )
    return wrappers_pb2.StringValue(value=request.value)


async def sleep(
    request: wrappers_pb2.DoubleValue, context: grpc.aio.ServicerContext
) -> wrappers_pb2.DoubleValue:
    await asyncio.sleep(request.value)
    return request


async def whoami(
    request: wrappers_pb2.StringValue, context: grpc.aio.ServicerContext
) -> wrappers_pb2.StringValue:
    return wrappers_pb2.StringValue(value=str(current_caller().require_identity()))


class Notes:
    """`Create` writes a note and answers how many there are; "fail:<body>" writes, then fails.
    `Hold` runs until the test lets go of the advisory lock numbered by the request, so that a
    test knows (from pg_locks) how many calls are running and ends them when it chooses."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, request: wrappers_pb2.StringValue, context: grpc.aio.ServicerContext
    ) -> wrappers_pb2.StringValue:
        failing = request.value.startswith("fail:")
        async with self._db.transaction() as connection:
            await connection.execute(notes.insert().values(body=request.value.removeprefix("fail:")))
            count = (await connection.execute(sa.select(sa.func.count()).select_from(notes))).scalar_one()
        if failing:
            raise invalid_argument("value", "asked to fail after writing")
        return wrappers_pb2.StringValue(value=f"note #{count}")

    async def hold(
        self, request: wrappers_pb2.Int64Value, context: grpc.aio.ServicerContext
    ) -> wrappers_pb2.Int64Value:
        async with self._db.transaction() as connection:
            await connection.execute(sa.select(sa.func.pg_advisory_xact_lock_shared(request.value)))
        return request


def _unary(
    behaviour: Callable[..., Awaitable[Message]], request_type: type[Message]
) -> grpc.RpcMethodHandler:
    return grpc.unary_unary_rpc_method_handler(
        behaviour,
        request_deserializer=request_type.FromString,
        response_serializer=lambda message: message.SerializeToString(),
    )


def register(server: grpc.aio.Server, runtime: Runtime[ServiceSettings]) -> None:
    notes_rpc = Notes(runtime.db)
    handlers = {
        "Echo": _unary(echo, wrappers_pb2.StringValue),
        "Sleep": _unary(sleep, wrappers_pb2.DoubleValue),
        "WhoAmI": _unary(whoami, wrappers_pb2.StringValue),
        "Create": _unary(notes_rpc.create, wrappers_pb2.StringValue),
        "Hold": _unary(notes_rpc.hold, wrappers_pb2.Int64Value),
        # Served but left out of the declaration: nobody may call it.
        "Undeclared": _unary(echo, wrappers_pb2.StringValue),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


ACCESS = (
    AccessBuilder("probe")
    .allow(SERVICE, ["Echo", "Sleep", "Hold"], callers=["gateway"], identity=IdentityRule.OPTIONAL)
    .allow(SERVICE, ["WhoAmI"], callers=["gateway"], identity=IdentityRule.REQUIRED)
    .allow(SERVICE, ["Create"], callers=["gateway", "worker"], identity=IdentityRule.OPTIONAL)
    .idempotent(SERVICE, ["Create"])
    .build()
)

DEFINITION = ServiceDefinition(
    name="probe",
    settings_type=ServiceSettings,
    access=ACCESS,
    grpc_services=(SERVICE,),
    register=register,
    metadata=metadata,
    migrations=MIGRATIONS,
)


if __name__ == "__main__":
    sys.exit(main(DEFINITION))
