"""How the Gateway relays: streams released when clients leave, streams ended when it stops,
a missing backing service, deadlines."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from agyn_common.server import LIVENESS_SERVICE
from agyn_inprocess.gateway import in_process_gateway
from agyn_inprocess.notifications import in_process_notifications
from agyn_testkit.harness import wait_for_health, wait_until
from agynio.api.gateway.v1 import notifications_pb2_grpc as notifications_gateway
from agynio.api.gateway.v1 import users_pb2_grpc as users_gateway
from agynio.api.notifications.v1 import notifications_pb2
from agynio.api.users.v1 import users_pb2
from grpc_health.v1 import health_pb2

SUBSCRIBE = notifications_pb2.SubscribeRequest(rooms=["thread_participant:me"])
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def open_streams(channel, token: str, count: int) -> list:
    stub = notifications_gateway.NotificationsGatewayStub(channel)
    return [stub.Subscribe(SUBSCRIBE, metadata=(("authorization", f"Bearer {token}"),)) for _ in range(count)]


async def test_a_client_leaving_releases_the_downstream_stream(platform, nats, threads):
    async with (
        in_process_notifications(platform, nats.url, max_streams_per_identity=2) as notifications,
        in_process_gateway(platform, nats.url, threads=threads, notifications=notifications) as gateway,
    ):
        user = await platform.user("streams")
        token = await gateway.token_for(user)
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            for _ in range(3):  # twice the per-identity limit in all: each round frees its streams
                calls = await open_streams(channel, token, 2)
                await asyncio.sleep(0.3)
                for call in calls:
                    assert not call.done()
                for call in calls:
                    call.cancel()
                await asyncio.sleep(0.3)
            # While two are open, a third is refused by Notifications, through the Gateway.
            calls = await open_streams(channel, token, 2)
            await asyncio.sleep(0.3)
            (third,) = await open_streams(channel, token, 1)
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                await asyncio.wait_for(third.read(), 10)
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            for call in calls:
                call.cancel()


async def test_stopping_the_gateway_ends_relayed_streams_at_once(platform, nats, threads):
    async with in_process_notifications(platform, nats.url) as notifications:
        gateway_context = in_process_gateway(platform, nats.url, threads=threads, notifications=notifications)
        gateway = await gateway_context.__aenter__()
        user = await platform.user("stopping")
        token = await gateway.token_for(user)
        async with grpc.aio.insecure_channel(gateway.address) as channel:
            (call,) = await open_streams(channel, token, 1)
            await asyncio.sleep(0.5)
            started = time.monotonic()
            stopping = asyncio.create_task(gateway_context.__aexit__(None, None, None))
            with pytest.raises(grpc.aio.AioRpcError) as ended:
                await asyncio.wait_for(call.read(), 10)
            await stopping
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "resume" in ended.value.details()
        assert time.monotonic() - started < 5  # not the whole grace period


@pytest.mark.fresh_platform
async def test_a_backing_service_that_is_away_is_unavailable(platform, nats, threads):
    async with in_process_gateway(platform, nats.url, threads=threads) as gateway:
        admin = await platform.admin()
        token = await gateway.token_for(admin)
        org = await platform.create_org(admin)
        await platform.stop_organizations()
        try:
            reply = await gateway.connect(
                "GetOrganization", {"id": org}, token, service="agynio.api.gateway.v1.OrganizationsGateway"
            )
            assert (reply.status_code, reply.json()["code"]) == (503, "unavailable")
            assert (await gateway.connect("GetMe", {}, token)).status_code == 200  # the rest still serves
        finally:
            await platform.start_organizations()


async def test_unserved_gateways_have_no_routes(platform, nats, threads):
    """Without a Notifications address, NotificationsGateway is not served at all."""
    async with in_process_gateway(platform, nats.url, threads=threads) as gateway:
        admin = await platform.admin()
        reply = await gateway.http.post(
            f"{gateway.url}/agynio.api.gateway.v1.NotificationsGateway/Subscribe",
            content=b"{}",
            headers={
                "authorization": f"Bearer {await gateway.token_for(admin)}",
                "content-type": "application/json",
            },
        )
        assert reply.status_code == 404


async def test_the_client_deadline_reaches_the_service(gateway):
    admin = await gateway.platform.admin()
    token = await gateway.token_for(admin)
    body = notifications_pb2.SubscribeRequest(rooms=["thread_participant:me"])
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        call = notifications_gateway.NotificationsGatewayStub(channel).Subscribe(
            body, metadata=(("authorization", f"Bearer {token}"),), timeout=1.0
        )
        with pytest.raises(grpc.aio.AioRpcError) as ended:
            await asyncio.wait_for(call.read(), 10)
    assert ended.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


async def test_a_grpc_connection_outlives_many_calls(gateway):
    """gRPC clients keep one HTTP/2 connection; it must not be cut after N requests."""
    admin = await gateway.platform.admin()
    token = await gateway.token_for(admin)
    stub_metadata = (("authorization", f"Bearer {token}"),)
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        stub = users_gateway.UsersGatewayStub(channel)
        for _ in range(21):  # past hypercorn's default of 1000 requests per connection
            replies = await asyncio.gather(
                *(stub.GetMe(users_pb2.GetMeRequest(), metadata=stub_metadata, timeout=10) for _ in range(50))
            )
            assert {reply.user.meta.id for reply in replies} == {str(admin)}


async def test_a_stopping_gateway_serves_its_lame_duck_then_fails_no_call(platform, nats, threads):
    """The stop under clients that keep calling, each on a connection of its own: NOT_SERVING
    but serving through the lame duck, then the relayed stream ends for resume, the
    connections close, and no call fails with anything but UNAVAILABLE."""
    async with in_process_notifications(platform, nats.url) as notifications:
        gateway_context = in_process_gateway(
            platform, nats.url, threads=threads, notifications=notifications, shutdown_lame_duck_seconds=60
        )
        gateway = await gateway_context.__aenter__()
        try:
            token = await gateway.token_for(await platform.user("ducky"))
            as_user = (("authorization", f"Bearer {token}"),)
            outcomes: list[tuple[float, grpc.StatusCode]] = []
            until = asyncio.Event()

            async def keep_calling() -> None:
                async with grpc.aio.insecure_channel(gateway.address) as channel:
                    stub = users_gateway.UsersGatewayStub(channel)
                    while not until.is_set():
                        started = time.monotonic()
                        try:
                            await stub.GetMe(users_pb2.GetMeRequest(), metadata=as_user, timeout=10)
                            outcomes.append((started, grpc.StatusCode.OK))
                        except grpc.aio.AioRpcError as error:
                            outcomes.append((started, error.code()))
                            await asyncio.sleep(0.05)

            clients = [asyncio.create_task(keep_calling()) for _ in range(10)]
            async with grpc.aio.insecure_channel(gateway.address) as channel:
                (stream,) = await open_streams(channel, token, 1)
                await wait_until(lambda: len(outcomes) >= 30, timeout=15)
                stopping = asyncio.create_task(gateway.running.stop())
                await wait_for_health(channel, NOT_SERVING)
                not_serving_seen = time.monotonic()
                await wait_for_health(channel, SERVING, service=LIVENESS_SERVICE)
                async with grpc.aio.insecure_channel(gateway.address) as newcomer:  # still served
                    await users_gateway.UsersGatewayStub(newcomer).GetMe(
                        users_pb2.GetMeRequest(), metadata=as_user, timeout=10
                    )
                await wait_until(lambda: any(s > not_serving_seen for s, _ in outcomes), timeout=10)
                assert not stream.done()  # the relayed stream lasts through the lame duck
                gateway.running.hurry()
                with pytest.raises(grpc.aio.AioRpcError) as ended:
                    await asyncio.wait_for(stream.read(), 10)
                assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
                assert "resume with the last cursor" in (ended.value.details() or "")
                await asyncio.wait_for(stopping, 30)
            stopped = time.monotonic()
            await wait_until(lambda: sum(s > stopped for s, _ in outcomes) >= 10, timeout=15)
            until.set()
            await asyncio.gather(*clients)
        finally:
            await gateway_context.__aexit__(None, None, None)
    assert {code for _, code in outcomes} <= {grpc.StatusCode.OK, grpc.StatusCode.UNAVAILABLE}, outcomes
    assert all(code == grpc.StatusCode.OK for started, code in outcomes if started < not_serving_seen)
    assert any(code == grpc.StatusCode.OK for started, code in outcomes if started > not_serving_seen)
