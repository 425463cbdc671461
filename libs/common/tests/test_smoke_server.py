import grpc
from agyn_common.access import AccessBuilder
from agyn_common.server import ServiceDefinition, start_service
from agyn_common.settings import ServiceSettings
from grpc_health.v1 import health_pb2, health_pb2_grpc


async def test_health_serving(database_factory, nats):
    definition = ServiceDefinition(
        name="probe",
        settings_type=ServiceSettings,
        access=AccessBuilder("probe").build(),
        grpc_services=(),
        register=lambda server, runtime: None,
    )
    settings = ServiceSettings(
        database_url=database_factory("probe", None), nats_url=nats.url, grpc_host="127.0.0.1", grpc_port=0
    )
    running = await start_service(definition, settings)
    try:
        async with grpc.aio.insecure_channel(running.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for _ in range(50):
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=""))
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    break
                import asyncio

                await asyncio.sleep(0.1)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        await running.stop(1)
