"""The probe service as a real process: settings at start, JSON logs, OTLP export, SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pty
import signal
import subprocess
import sys

import grpc
import pytest
from agyn_common.embedded import free_port
from agyn_testkit import probe as probe_service
from agyn_testkit.harness import wait_for_health
from google.protobuf import wrappers_pb2
from grpc_health.v1 import health_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

GATEWAY = (("x-agyn-caller", "gateway"),)


def run_probe(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, probe_service.__file__, *args],
        env={"PATH": os.environ["PATH"], **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({}, "agyn-probe: bad settings: DATABASE_URL is required"),
        (
            {"DATABASE_URL": "postgresql://x/y", "GRPC_PORT": "eighty"},
            "agyn-probe: bad settings: GRPC_PORT Input should be a valid integer, "
            "unable to parse string as an integer",
        ),
        (
            {"DATABASE_URL": "postgresql://x/y", "AGYN_ACCESS_MODE": "open"},
            "agyn-probe: bad settings: AGYN_ACCESS_MODE Input should be 'mesh', 'local' or 'network'",
        ),
        (
            {"DATABASE_URL": "postgresql://x/y", "LOG_FORMAT": "xml"},
            "agyn-probe: bad settings: LOG_FORMAT Input should be 'auto', 'json' or 'text'",
        ),
    ],
)
def test_a_bad_setting_exits_2_with_one_line_naming_it(env, line):
    result = run_probe(env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [line]


LOG_ONE_LINE = """
import logging
from agyn_common.logs import configure_logging
from agyn_common.settings import ServiceSettings

configure_logging("probe", log_format=ServiceSettings(database_url="").log_format)
logging.getLogger("agyn.probe").warning("hello")
"""


@pytest.mark.parametrize(
    ("terminal", "log_format", "json_expected"),
    [(True, None, False), (False, None, True), (True, "json", True), (False, "text", False)],
)
def test_logs_are_text_on_a_terminal_and_json_elsewhere(terminal, log_format, json_expected):
    env = {"PATH": os.environ["PATH"], **({"LOG_FORMAT": log_format} if log_format else {})}
    if terminal:
        controller, terminal_end = pty.openpty()
        with os.fdopen(controller, "rb") as reader:
            subprocess.run([sys.executable, "-c", LOG_ONE_LINE], env=env, stderr=terminal_end, timeout=60)
            os.close(terminal_end)
            written = b""
            with contextlib.suppress(OSError):  # EIO: the child's end is closed, all is read
                while chunk := reader.read1(4096):
                    written += chunk
    else:
        written = subprocess.run(
            [sys.executable, "-c", LOG_ONE_LINE], env=env, stderr=subprocess.PIPE, timeout=60
        ).stderr
    (line,) = written.decode().splitlines()
    if json_expected:
        assert json.loads(line)["message"] == "hello"
    else:
        assert line.endswith(" WARNING probe agyn.probe: hello")


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    """An OTLP/gRPC trace receiver that keeps what it is sent."""

    def __init__(self) -> None:
        self.requests: list[trace_service_pb2.ExportTraceServiceRequest] = []

    async def Export(self, request, context):
        self.requests.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()

    def spans(self) -> list[tuple[str, str, str]]:
        """(service.name, span name, trace id) of every span received."""
        found = []
        for request in self.requests:
            for resource_spans in request.resource_spans:
                attributes = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        found.append((attributes.get("service.name", ""), span.name, span.trace_id.hex()))
        return found


def serving_environment(database_url: str, nats_url: str, port: int, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "NATS_URL": nats_url,
        "GRPC_HOST": "127.0.0.1",
        "GRPC_PORT": str(port),
        "METRICS_PORT": "0",
        "AGYN_ACCESS_MODE": "local",
        **extra,
    }


async def test_sigterm_lets_running_calls_finish_closes_the_port_and_exits_0(probe_database, nats):
    collector = Collector()
    collector_server = grpc.aio.server()
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(collector, collector_server)
    collector_port = collector_server.add_insecure_port("127.0.0.1:0")
    await collector_server.start()

    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        probe_service.__file__,
        env=serving_environment(
            probe_database,
            nats.url,
            port,
            SHUTDOWN_GRACE_SECONDS="15",
            OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector_port}",
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    address = f"127.0.0.1:{port}"
    try:
        async with grpc.aio.insecure_channel(address) as channel:
            await wait_for_health(channel, health_pb2.HealthCheckResponse.SERVING, timeout=60)
            echo = channel.unary_unary(
                f"/{probe_service.SERVICE}/Echo",
                request_serializer=wrappers_pb2.StringValue.SerializeToString,
                response_deserializer=wrappers_pb2.StringValue.FromString,
            )
            with pytest.raises(grpc.aio.AioRpcError):
                await echo(wrappers_pb2.StringValue(value="crash"), metadata=GATEWAY, timeout=10)
            sleep = channel.unary_unary(
                f"/{probe_service.SERVICE}/Sleep",
                request_serializer=wrappers_pb2.DoubleValue.SerializeToString,
                response_deserializer=wrappers_pb2.DoubleValue.FromString,
            )
            # A grpc.aio call starts when it is made; it is awaited further down.
            slow_calls = [
                sleep(wrappers_pb2.DoubleValue(value=3.0), metadata=GATEWAY, timeout=30) for _ in range(3)
            ]
            await asyncio.sleep(1.0)
            process.send_signal(signal.SIGTERM)
            await asyncio.sleep(0.5)

            async with grpc.aio.insecure_channel(address) as late_channel:
                late_echo = late_channel.unary_unary(
                    f"/{probe_service.SERVICE}/Echo",
                    request_serializer=wrappers_pb2.StringValue.SerializeToString,
                    response_deserializer=wrappers_pb2.StringValue.FromString,
                )
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await late_echo(wrappers_pb2.StringValue(value="late"), metadata=GATEWAY, timeout=5)
                assert refused.value.code() == grpc.StatusCode.UNAVAILABLE

            replies = await asyncio.gather(*slow_calls)
            assert [reply.value for reply in replies] == [3.0, 3.0, 3.0]
        async with asyncio.timeout(30):
            _, stderr = await process.communicate()
        assert process.returncode == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await collector_server.stop(0)

    # Every line on stderr is one JSON object; the crash's line carries the trace it happened in.
    entries = [json.loads(line) for line in stderr.decode().splitlines()]
    assert all(entry["service"] == "probe" for entry in entries)
    messages = [entry["message"] for entry in entries]
    assert "stopping: NOT_SERVING, still serving for the 0s lame duck" in messages
    assert messages[-1] == "stopped"
    (crash,) = [entry for entry in entries if entry["message"].startswith("unhandled error")]
    assert "secret stack detail" in crash["error"]

    # The spans went to the collector over OTLP, the crash's among them.
    exported = collector.spans()
    assert ("probe", f"{probe_service.SERVICE}/Echo", crash["trace_id"]) in exported
    assert sum(1 for _, name, _ in exported if name == f"{probe_service.SERVICE}/Sleep") == 3


async def test_sigterm_while_nats_is_down_still_exits_0(probe_database, nats):
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        probe_service.__file__,
        env=serving_environment(probe_database, nats.url, port),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await wait_for_health(channel, health_pb2.HealthCheckResponse.SERVING, timeout=60)
            nats.stop()
            await wait_for_health(channel, health_pb2.HealthCheckResponse.NOT_SERVING)
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            _, stderr = await process.communicate()
        assert process.returncode == 0, stderr.decode()[-2000:]
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert json.loads(stderr.decode().splitlines()[-1])["message"] == "stopped"
