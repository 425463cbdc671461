"""The method table applied by the pipeline: idempotency keys end to end, and one service's
tables beside another's of the same name in one process."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import grpc
import pytest
import sqlalchemy as sa
from agyn_common.access import AccessBuilder, AccessMode, AccessPolicy, IdentityRule
from agyn_common.idempotency import create_idempotency_table
from agyn_common.outbox import create_outbox_table
from agyn_common.pipeline import RpcPipeline, current_tracer
from agyn_common.server import Runtime, ServiceDefinition, start_service
from agyn_common.settings import ServiceSettings
from agyn_testkit.harness import in_process_settings, read_events
from agynio.api.notifications.v1 import notifications_pb2
from google.protobuf import wrappers_pb2
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url


def keyed(
    key: str | None, *, identity: uuid.UUID | None = None, caller: str = "gateway"
) -> list[tuple[str, str]]:
    pairs = [("x-agyn-caller", caller)]
    if key is not None:
        pairs.append(("idempotency-key", key))
    if identity is not None:
        pairs.append(("x-identity-id", str(identity)))
    return pairs


async def create(probe, body: str, metadata: list[tuple[str, str]]) -> str:
    reply = await probe.method("Create")(wrappers_pb2.StringValue(value=body), metadata=metadata, timeout=10)
    return str(reply.value)


async def test_same_key_replays_the_first_response(probe):
    assert await create(probe, "a", keyed("k1")) == "note #1"
    assert await create(probe, "a", keyed("k1")) == "note #1"  # no second write: "a" would clash
    assert await create(probe, "b", keyed("k2")) == "note #2"


async def test_without_a_key_every_call_runs(probe):
    assert await create(probe, "a", keyed(None)) == "note #1"
    with pytest.raises(grpc.aio.AioRpcError):  # ran again: the same note clashes
        await create(probe, "a", keyed(None))


async def test_same_key_different_request_is_failed_precondition(probe):
    await create(probe, "a", keyed("k1"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(probe, "b", keyed("k1"))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "idempotency-key" in (caught.value.details() or "")


async def test_keys_are_scoped_by_identity_or_else_by_workload(probe):
    alice, bob = uuid.uuid4(), uuid.uuid4()
    assert await create(probe, "a", keyed("k", identity=alice)) == "note #1"
    assert await create(probe, "b", keyed("k", identity=bob)) == "note #2"
    assert await create(probe, "c", keyed("k", caller="gateway")) == "note #3"
    assert await create(probe, "d", keyed("k", caller="worker")) == "note #4"
    assert await create(probe, "a", keyed("k", identity=alice)) == "note #1"


async def test_a_failed_call_keeps_neither_its_key_nor_its_writes(probe):
    for _ in range(2):  # the key was not kept: the same request runs (and fails) again
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await create(probe, "fail:a", keyed("k1"))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    # The failed call's note was rolled back with it: "a" is free and the first note.
    assert await create(probe, "a", keyed("k1")) == "note #1"


async def test_concurrent_duplicates_run_once(probe):
    replies = await asyncio.gather(*(create(probe, "a", keyed("k1")) for _ in range(5)))
    assert replies == ["note #1"] * 5


async def test_an_overlong_key_is_invalid_argument(probe):
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await create(probe, "a", keyed("k" * 300))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (caught.value.details() or "").startswith("idempotency-key:")


def test_a_streaming_method_cannot_be_idempotent():
    service = notifications_pb2.DESCRIPTOR.services_by_name["NotificationsService"].full_name
    table = (
        AccessBuilder("notifications")
        .allow(service, ["Subscribe"], callers=["gateway"], identity=IdentityRule.REQUIRED)
        .idempotent(service, ["Subscribe"])
        .build()
    )
    with pytest.raises(ValueError, match="cannot be idempotent"):
        RpcPipeline(AccessPolicy(table, AccessMode.LOCAL), current_tracer(None), idempotency=None)


# --- two services with a table of the same name, in one process (DESIGN §4) ----------------


def volume_service(name: str, extra_column: str) -> ServiceDefinition[ServiceSettings]:
    """A service with its own `volumes` table (different columns per service) whose one
    method writes a volume and emits an event in the same transaction."""
    service = f"agyn.{name}.v1.Volumes"
    metadata = sa.MetaData()
    volumes = sa.Table(
        "volumes",
        metadata,
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column(extra_column, sa.Text, nullable=False),
    )

    def register(server: grpc.aio.Server, runtime: Runtime[ServiceSettings]) -> None:
        async def add(request: wrappers_pb2.StringValue, context: object) -> wrappers_pb2.StringValue:
            async with runtime.db.transaction() as connection:
                await connection.execute(volumes.insert().values(id=request.value, **{extra_column: name}))
                await runtime.outbox.emit_event(connection, name, "volume.created", {"id": request.value})
                count = (
                    await connection.execute(sa.select(sa.func.count()).select_from(volumes))
                ).scalar_one()
            return wrappers_pb2.StringValue(value=f"{name}:{count}")

        handler = grpc.unary_unary_rpc_method_handler(
            add,
            request_deserializer=wrappers_pb2.StringValue.FromString,
            response_serializer=lambda message: message.SerializeToString(),
        )
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, {"Add": handler}),))

    return ServiceDefinition(
        name=name,
        settings_type=ServiceSettings,
        access=AccessBuilder(name).allow(service, ["Add"], ["gateway"], IdentityRule.NONE).build(),
        grpc_services=(service,),
        register=register,
        metadata=metadata,
    )


def create_schema(url: str, metadata: sa.MetaData) -> None:
    engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as connection:
        metadata.create_all(connection)

        class Op:  # what a migration's `op` offers the shared-table helpers
            @staticmethod
            def get_bind() -> sa.Connection:
                return connection

        create_outbox_table(Op)
        create_idempotency_table(Op)
    engine.dispose()


@pytest.fixture
async def agents_and_runners(database_factory, nats) -> AsyncIterator[dict[str, str]]:
    definitions = [volume_service("agentsprobe", "agent_id"), volume_service("runnersprobe", "runner_id")]
    addresses, running = {}, []
    try:
        for definition in definitions:
            url = database_factory(definition.name, None)
            assert definition.metadata is not None
            await asyncio.to_thread(create_schema, url, definition.metadata)
            service = await start_service(definition, in_process_settings(ServiceSettings, url, nats.url))
            running.append(service)
            addresses[definition.name] = service.address
        yield addresses
    finally:
        for service in running:
            await service.stop(grace=1)


async def test_two_services_with_a_volumes_table_run_in_one_process(agents_and_runners, nats):
    replies = {}
    for name, address in agents_and_runners.items():
        async with grpc.aio.insecure_channel(address) as channel:
            add = channel.unary_unary(
                f"/agyn.{name}.v1.Volumes/Add",
                request_serializer=lambda message: message.SerializeToString(),
                response_deserializer=wrappers_pb2.StringValue.FromString,
            )
            replies[name] = [
                (await add(wrappers_pb2.StringValue(value=f"v{i}"), metadata=keyed(None), timeout=10)).value
                for i in (1, 2)
            ]
    # Each service wrote its own table, with its own columns.
    assert replies == {
        "agentsprobe": ["agentsprobe:1", "agentsprobe:2"],
        "runnersprobe": ["runnersprobe:1", "runnersprobe:2"],
    }
    # And each relayed its events from its own outbox.
    for name in agents_and_runners:
        events = await read_events(
            nats.url, f"agyn.events.{name}.volume.created", lambda seen: len(seen) >= 2, settle=0.2
        )
        assert [event["data"]["id"] for event in events] == ["v1", "v2"]
