"""gRPC reflection on the Gateway's port: what tools such as `buf curl` ask before a call."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import grpc
import pytest
from agyn_inprocess.gateway import DOCUMENTED_USERS_GATEWAY, USERS_GATEWAY
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2

BUF = Path(sys.executable).with_name("buf")  # from buf-bin, a dev dependency


@pytest.fixture
async def admin_token(gateway):
    return await gateway.token_for(await gateway.platform.admin())


class ReflectionClient:
    """One reflection stream; each ask is one request and its response."""

    def __init__(self, channel: grpc.aio.Channel, version: str) -> None:
        open_stream = channel.stream_stream(
            f"/grpc.reflection.{version}.ServerReflection/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
        )
        self._call = open_stream(timeout=10)

    async def ask(self, **request: str) -> reflection_pb2.ServerReflectionResponse:
        await self._call.write(reflection_pb2.ServerReflectionRequest(**request))
        response: reflection_pb2.ServerReflectionResponse = await self._call.read()
        return response

    async def pool_with(self, symbol: str) -> descriptor_pool.DescriptorPool:
        """A pool built only from the files the server sends, asking for any it left out."""
        files: dict[str, descriptor_pb2.FileDescriptorProto] = {}

        def take(response: reflection_pb2.ServerReflectionResponse) -> None:
            assert response.WhichOneof("message_response") == "file_descriptor_response", response
            for serialized in response.file_descriptor_response.file_descriptor_proto:
                proto = descriptor_pb2.FileDescriptorProto.FromString(serialized)
                files[proto.name] = proto

        take(await self.ask(file_containing_symbol=symbol))
        while missing := {d for f in files.values() for d in f.dependency} - set(files):
            for name in missing:
                take(await self.ask(file_by_filename=name))
        pool = descriptor_pool.DescriptorPool()
        added: set[str] = set()
        while len(added) < len(files):  # dependencies first
            for name, proto in files.items():
                if name not in added and set(proto.dependency) <= added:
                    pool.Add(proto)
                    added.add(name)
        return pool

    async def close(self) -> None:
        await self._call.done_writing()


@pytest.mark.parametrize("version", ["v1", "v1alpha"])
async def test_reflection_lists_the_gateway_services_and_resolves_them(gateway, version):
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        client = ReflectionClient(channel, version)
        listed = await client.ask(list_services="")
        names = {service.name for service in listed.list_services_response.service}
        assert {USERS_GATEWAY, DOCUMENTED_USERS_GATEWAY, "grpc.health.v1.Health"} <= names
        assert "agynio.api.threads.v1.ThreadsGateway" in names
        assert "agynio.api.users.v1.UsersService" not in names  # internal: not served here

        for service in (USERS_GATEWAY, DOCUMENTED_USERS_GATEWAY):
            pool = await client.pool_with(service)
            get_me = pool.FindMethodByName(f"{service}.GetMe")
            assert get_me.input_type.full_name == "agynio.api.users.v1.GetMeRequest"
            assert "user" in get_me.output_type.fields_by_name
        # Symbols of methods resolve too; unknown ones are NOT_FOUND within the stream.
        method = await client.ask(file_containing_symbol=f"{DOCUMENTED_USERS_GATEWAY}.GetMe")
        assert method.file_descriptor_response.file_descriptor_proto
        unknown = await client.ask(file_containing_symbol="agynio.api.nothing.v1.Nothing")
        assert unknown.error_response.error_code == grpc.StatusCode.NOT_FOUND.value[0]
        await client.close()


@pytest.mark.parametrize("service", [USERS_GATEWAY, DOCUMENTED_USERS_GATEWAY])
async def test_buf_curl_calls_the_gateway_without_proto_files(gateway, admin_token, service):
    # Run without blocking: the Gateway serves in this event loop.
    process = await asyncio.create_subprocess_exec(
        str(BUF), "curl", "--protocol", "grpc", "--http2-prior-knowledge",
        "-H", f"Authorization: Bearer {admin_token}",
        f"http://{gateway.address}/api/{service}/GetMe",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    assert json.loads(stdout)["clusterRole"] == "CLUSTER_ROLE_ADMIN"
