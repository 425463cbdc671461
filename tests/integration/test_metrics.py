"""Each service's Prometheus metrics, scraped over HTTP from its own port while it runs as a
process (issue 24): calls show under their method and code, the outbox backlog follows a NATS
outage, Subscribe streams are counted while open, the Gateway counts what it answers and whom
it refuses. They stop NATS and read internal ports, which only the local platform allows."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable
from pathlib import Path

import grpc
import httpx
import pytest
from agyn_inprocess.platform_client import Client, as_user
from agynio.api.threads.v1 import threads_pb2
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.local_platform

THREADS = "agynio.api.threads.v1.ThreadsService"
DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "agyn-platform.json"


async def scrape(url: str) -> tuple[str, dict[tuple[str, frozenset[tuple[str, str]]], float]]:
    """The exposition text at `url`, and each sample by (name, labels)."""
    async with httpx.AsyncClient(timeout=5) as http:
        reply = await http.get(url)  # no credential: the port is the scraper's
    reply.raise_for_status()
    samples = {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(reply.text)
        for sample in family.samples
    }
    return reply.text, samples


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def rpcs(samples, method: str, code: int) -> float:
    return value(
        samples,
        "rpc_server_duration_milliseconds_count",
        rpc_system="grpc",
        rpc_service=THREADS,
        rpc_method=method,
        rpc_grpc_status_code=str(code),
    )


async def eventually(url: str, holds: Callable[[dict], bool], timeout: float = 30) -> dict:
    """The samples at `url` once `holds` is true of them (the backlog is measured every 5 s)."""
    async with asyncio.timeout(timeout):
        while True:
            _, samples = await scrape(url)
            if holds(samples):
                return samples
            await asyncio.sleep(0.2)


async def test_calls_show_under_their_method_and_code_and_labels_carry_no_identity(processes):
    client = Client(processes)
    owner, friend = await client.user("olga"), await client.user("fred")
    thread_id = await client.thread_between(owner, friend)
    for n in range(3):
        await client.send(owner, thread_id, f"hello {n}")
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await client.threads.SendMessage(
            threads_pb2.SendMessageRequest(thread_id="not-a-uuid", body="x"), metadata=as_user(owner)
        )
    assert refused.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    text, samples = await scrape(processes.metrics["threads"])
    assert rpcs(samples, "SendMessage", 0) == 3
    assert rpcs(samples, "SendMessage", grpc.StatusCode.INVALID_ARGUMENT.value[0]) == 1
    assert rpcs(samples, "CreateThread", 0) == 1
    assert value(samples, "agyn_threads_messages_sent_total") == 3
    assert value(samples, "agyn_bus_connected") == 1
    assert value(samples, "db_client_connection_max") == 20
    assert value(samples, "db_client_connection_count", state="idle") >= 1
    assert value(samples, "process_cpu_seconds_total") > 0
    for identity in (owner, friend, thread_id):
        assert identity not in text
    await client.close()


async def test_the_outbox_backlog_rises_while_nats_is_away_and_drains_once_it_is_back(processes, nats):
    client = Client(processes)
    owner, friend = await client.user("olga"), await client.user("fred")
    thread_id = await client.thread_between(owner, friend)
    url = processes.metrics["threads"]
    await eventually(url, lambda samples: value(samples, "agyn_outbox_pending_rows") == 0)

    nats.stop()
    for n in range(5):
        await client.send(owner, thread_id, f"while NATS is away {n}")  # stored regardless
    away = await eventually(url, lambda samples: value(samples, "agyn_outbox_pending_rows") >= 5)
    assert value(away, "agyn_bus_connected") == 0
    assert value(away, "agyn_outbox_oldest_age_seconds") > 0
    assert rpcs(away, "SendMessage", 0) == 5

    nats.start()
    back = await eventually(
        url,
        lambda samples: (
            value(samples, "agyn_outbox_pending_rows") == 0 and value(samples, "agyn_bus_connected") == 1
        ),
    )
    assert value(back, "agyn_outbox_oldest_age_seconds") == 0
    assert value(back, "agyn_outbox_publish_latency_seconds_count") >= 5
    await client.close()


async def test_a_subscribe_is_counted_while_open_and_its_deliveries_too(processes):
    client = Client(processes)
    owner, friend = await client.user("olga"), await client.user("fred")
    thread_id = await client.thread_between(owner, friend)
    url = processes.metrics["notifications"]
    stream = await client.subscribe(friend)
    await eventually(url, lambda samples: value(samples, "agyn_notifications_open_streams") == 1)
    await client.send(owner, thread_id, "hello")
    async with asyncio.timeout(10):
        await stream.read()
    await eventually(url, lambda samples: value(samples, "agyn_notifications_envelopes_delivered_total") == 1)
    stream.cancel()
    await eventually(url, lambda samples: value(samples, "agyn_notifications_open_streams") == 0)
    await client.close()


async def test_the_gateway_counts_requests_by_protocol_and_status_and_refused_credentials(processes):
    """And every metric the Grafana dashboard charts is one some service exports."""
    url = processes.metrics["gateway"]
    async with httpx.AsyncClient(base_url=f"http://{processes.addresses['gateway']}", timeout=10) as http:
        refused = await http.post(
            "/api/agynio.api.users.v1.UsersGateway/GetMe",
            content=b"{}",
            headers={
                "content-type": "application/json",
                "authorization": f"Bearer not a token {uuid.uuid4()}",
            },
        )
        anonymous = await http.post(
            "/api/agynio.api.users.v1.UsersGateway/GetMe",
            content=b"{}",
            headers={"content-type": "application/json", "authorization": "Bearer x!y"},
        )
    assert refused.status_code == anonymous.status_code == 401
    samples = await eventually(
        url,
        lambda samples: value(samples, "agyn_gateway_requests_total", protocol="connect", status="401") >= 1,
    )
    assert value(samples, "agyn_gateway_authentication_failures_total", credential="malformed") >= 1
    assert value(samples, "agyn_gateway_open_streams") == 0

    exported: set[str] = set()
    async with httpx.AsyncClient(timeout=5) as http:
        for url in processes.metrics.values():
            text = (await http.get(url)).text
            exported |= {family.name for family in text_string_to_metric_families(text)}
    # Every query selects by job (`{job=~"$service"}`): a metric name is what precedes a `{`.
    charted = set(re.findall(r"\b((?:agyn|rpc|db|process)_[a-z_]+)\{", DASHBOARD.read_text()))
    assert len(charted) >= 15  # the dashboard's queries were read
    suffixes = ("", "_bucket", "_count", "_sum", "_total")
    assert {
        name
        for name in charted
        if not any(name.removesuffix(s) in exported for s in suffixes if name.endswith(s))
    } == set()
