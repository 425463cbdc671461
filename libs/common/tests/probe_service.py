"""A tiny service built with agyn_common only, to test the foundation without a real service.

`agyn.probe.v1.Probe` is served through generic handlers over well-known wrapper messages,
so it needs no generated code. Run as a process: `python probe_service.py [serve]`.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import grpc
from agyn_common.access import AccessBuilder, IdentityRule
from agyn_common.caller import caller_from_metadata
from agyn_common.errors import failed_precondition, invalid_argument
from agyn_common.server import Runtime, ServiceDefinition, main
from agyn_common.settings import ServiceSettings
from google.protobuf import wrappers_pb2

SERVICE = "agyn.probe.v1.Probe"
MIGRATIONS = Path(__file__).parent / "probe_migrations"


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
    caller = caller_from_metadata(context.invocation_metadata())
    return wrappers_pb2.StringValue(value=str(caller.require_identity()))


def _unary(behaviour, request_type):  # type: ignore[no-untyped-def]
    return grpc.unary_unary_rpc_method_handler(
        behaviour,
        request_deserializer=request_type.FromString,
        response_serializer=lambda m: m.SerializeToString(),
    )


def register(server: grpc.aio.Server, runtime: Runtime[ServiceSettings]) -> None:
    handlers = {
        "Echo": _unary(echo, wrappers_pb2.StringValue),
        "Sleep": _unary(sleep, wrappers_pb2.DoubleValue),
        "WhoAmI": _unary(whoami, wrappers_pb2.StringValue),
        # Served but left out of the declaration: nobody may call it.
        "Undeclared": _unary(echo, wrappers_pb2.StringValue),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))


ACCESS = (
    AccessBuilder("probe")
    .allow(SERVICE, ["Echo", "Sleep"], callers=["gateway"], identity=IdentityRule.OPTIONAL)
    .allow(SERVICE, ["WhoAmI"], callers=["gateway"], identity=IdentityRule.REQUIRED)
    .build()
)

DEFINITION = ServiceDefinition(
    name="probe",
    settings_type=ServiceSettings,
    access=ACCESS,
    grpc_services=(SERVICE,),
    register=register,
    migrations=MIGRATIONS,
)


if __name__ == "__main__":
    sys.exit(main(DEFINITION))
