"""The access declaration is enforced in-process: every method admits only its declared callers."""

from __future__ import annotations

import grpc
import pytest
from agyn_common.access import AccessMode
from agyn_common.embedded import free_port
from agyn_common.server import start_service
from agyn_testkit.harness import in_process_settings
from agyn_users.__main__ import DEFINITION
from agyn_users.settings import UsersSettings
from google.protobuf import descriptor_pool

DECLARED = sorted(DEFINITION.access.methods)
OUTSIDER = "files"  # a workload no users method admits


def test_every_served_method_is_declared():
    pool = descriptor_pool.Default()
    served = {
        f"/{service}/{method.name}"
        for service in DEFINITION.grpc_services
        for method in pool.FindServiceByName(service).methods
    }
    assert served == set(DECLARED)


async def _call(channel: grpc.aio.Channel, method: str, metadata) -> grpc.StatusCode:
    call = channel.unary_unary(
        method, request_serializer=lambda _: b"", response_deserializer=lambda data: data
    )
    try:
        await call(b"", metadata=metadata, timeout=10)
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize("method", DECLARED)
async def test_an_undeclared_caller_is_denied(users_service, method):
    assert OUTSIDER not in {
        caller for grant in DEFINITION.access.grants_for(method) for caller in grant.callers
    }
    code = await _call(users_service.channel, method, (("x-agyn-caller", OUTSIDER),))
    assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_a_call_naming_no_workload_is_denied(users_service):
    assert await _call(users_service.channel, DECLARED[0], ()) == grpc.StatusCode.PERMISSION_DENIED


@pytest.fixture
async def mesh_channel(database_factory, nats):
    mesh = in_process_settings(
        UsersSettings,
        database_factory("users", DEFINITION.migrations),
        nats.url,
        organizations_address=f"127.0.0.1:{free_port()}",
        agyn_access_mode=AccessMode.MESH,
        agyn_mesh_namespace="agyn",
    )
    running = await start_service(DEFINITION, mesh)
    channel = grpc.aio.insecure_channel(running.address)
    yield channel
    await channel.close()
    await running.stop(1)


def xfcc(namespace: str, service_account: str) -> tuple[str, str]:
    return (
        "x-forwarded-client-cert",
        f"By=spiffe://cluster.local/ns/agyn/sa/users;Hash=ab;URI=spiffe://cluster.local/ns/{namespace}/sa/{service_account}",
    )


async def test_mesh_mode_reads_the_calling_workload_from_the_client_certificate(mesh_channel):
    resolve = "/agynio.api.users.v1.UsersService/ResolveAPIToken"
    # The gateway may resolve tokens: the call gets past access and fails on the empty token.
    assert await _call(mesh_channel, resolve, (xfcc("agyn", "gateway"),)) == grpc.StatusCode.INVALID_ARGUMENT
    assert await _call(mesh_channel, resolve, (xfcc("agyn", "threads"),)) == grpc.StatusCode.PERMISSION_DENIED
    # Another namespace's gateway, or a self-declared local caller, is nobody in mesh mode.
    assert (
        await _call(mesh_channel, resolve, (xfcc("other", "gateway"),)) == grpc.StatusCode.PERMISSION_DENIED
    )
    assert (
        await _call(mesh_channel, resolve, (("x-agyn-caller", "gateway"),))
        == grpc.StatusCode.PERMISSION_DENIED
    )
