"""Serving a service: start-up, health, and a graceful stop.

Start: settings are already validated; migrate under the advisory lock; open the database
and (in the background) the bus; start the gRPC server with the RPC pipeline, the health
service and reflection. Health is SERVING only while the database answers and NATS is
connected (the readiness probe); the `liveness` entry is SERVING while the process serves at
all, so Kubernetes restarts a hung process but not one waiting for its dependencies.
Stop (SIGTERM/SIGINT), one sequence, as gRPC servers and Envoy do it:
  1. health goes NOT_SERVING at once (the `liveness` entry stays SERVING), and every call that
     arrives is still served for the lame duck (`SHUTDOWN_LAME_DUCK_SECONDS`): time for
     Kubernetes to take the pod out of its Service, whose clients keep calling meanwhile;
  2. the server stops taking calls at the transport: HTTP/2 GOAWAY on every connection (a
     client sends its next call elsewhere) and the port closes. grpc.aio's `server.stop`
     does both, but it also cancels the calls gRPC's core holds and Python has not started;
     so a call that arrives just before waits at the server's door (`agyn_common.gate`)
     until the GOAWAY is out, then runs: no accepted call is refused or cancelled (short of
     clients that never leave a quiet moment, see there);
     a service's HTTP port (`Runtime.serve_http`) closes at the same moment, its HTTP/2
     clients told before the door closed to open no new stream; its requests pass the same
     door and are waited for with the calls;
  3. endless calls (streams) are ended with UNAVAILABLE (`Runtime.on_stopping`; their
     clients resume elsewhere), and every other accepted call finishes within the grace
     period (`SHUTDOWN_GRACE_SECONDS`); what still runs after it is cancelled, and so is a
     health Watch (it never ends by itself) once the service's own calls are done;
  4. everything closes and the process exits 0.
A second signal ends the lame duck at once. Without a lame duck (the default: local runs and
tests) the stop takes no longer than the running calls do.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import grpc
import sqlalchemy as sa
from google.protobuf.internal import api_implementation
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.sdk.trace import TracerProvider

from agyn_common.access import AccessPolicy, ServiceAccess
from agyn_common.bus import EVENTS, Bus, StreamSpec
from agyn_common.clients import ServiceChannels
from agyn_common.commandline import parse_command
from agyn_common.db import Database
from agyn_common.http_serving import HttpServer, HttpService, Route, bind_http_servers
from agyn_common.idempotency import Idempotency
from agyn_common.logs import configure_logging
from agyn_common.metrics import Metrics, RpcOutcomes
from agyn_common.migrations import migrate
from agyn_common.outbox import Outbox
from agyn_common.pipeline import RpcPipeline, current_tracer
from agyn_common.settings import ServiceSettings, load_settings
from agyn_common.telemetry import configure_tracing

log = logging.getLogger(__name__)

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)

HEALTH_INTERVAL_SECONDS = 1.0
# The health entry the liveness probe asks for: independent of the database and NATS.
LIVENESS_SERVICE = "liveness"
HOUSEKEEPING_INTERVAL_SECONDS = 3600.0
# Once the service's own calls are done, what may still run are health and reflection calls;
# a health Watch never ends by itself, so it gets this long, then is cancelled.
OPEN_CALLS_SECONDS = 1.0


@dataclass
class Runtime(Generic[SettingsT]):
    """The resources a service's servicers are built from."""

    settings: SettingsT
    bus: Bus
    channels: ServiceChannels  # to call other services
    database: Database | None  # None for a stateless service
    outbox_or_none: Outbox | None
    idempotency: Idempotency | None
    metrics: Metrics  # the service adds its own numbers here (served when METRICS_PORT is set)
    stopping_callbacks: list[Callable[[], None]] = field(default_factory=list)
    stopped_callbacks: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    background: dict[str, Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=dict)
    http: dict[str, HttpService] = field(default_factory=dict)

    def run_in_background(self, name: str, loop: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run `loop()` as a task from start until the stop sequence cancels it, after the
        last call: a service's own periodic work (a sweep), one task per replica."""
        self.background[name] = loop

    def serve_http(self, name: str, port: int, routes: Sequence[Route], *, max_body_bytes: int) -> None:
        """Serve `routes` over plain HTTP on `port` (0: any free one) beside the gRPC port, on
        its host: through the calls' door, with their spans and metrics, in their stop
        (`agyn_common.http_serving`). The port taken is `RunningService.http_ports[name]`.
        Every path must be open in the access declaration (`open_http_to_any_workload`)."""
        self.http[name] = HttpService(port, tuple(routes), max_body_bytes)

    def run_periodically(self, name: str, seconds: float, once: Callable[[], Awaitable[object]]) -> None:
        """Await `once()` at start and then every `seconds` (a sweep), as `run_in_background`;
        a round that fails (the database away) is logged, and the next one tries again."""

        async def loop() -> None:
            while True:
                try:
                    await once()
                except Exception as error:
                    log.warning("%s failed: %s", name, error)
                await asyncio.sleep(seconds)

        self.run_in_background(name, loop)

    def on_stopping(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the service stops taking calls (after the lame duck, with the
        GOAWAY sent), before it waits for the calls still running: endless calls such as
        streams end then, instead of using up the grace period."""
        self.stopping_callbacks.append(callback)

    def on_stopped(self, callback: Callable[[], Awaitable[None]]) -> None:
        """Await `callback` once the server has stopped (no call runs any more), before the
        bus and channels close: what the service itself started (child processes, files it
        writes) ends here."""
        self.stopped_callbacks.append(callback)

    @property
    def db(self) -> Database:
        if self.database is None:
            raise RuntimeError("this service is stateless: it has no database")
        return self.database

    @property
    def outbox(self) -> Outbox:
        if self.outbox_or_none is None:
            raise RuntimeError("this service is stateless: it has no outbox")
        return self.outbox_or_none


@dataclass(frozen=True)
class Command(Generic[SettingsT]):
    """A command of a service's own. Its arguments are parsed before the settings are read,
    so `--help` and a usage error need no settings in the environment."""

    parser: argparse.ArgumentParser
    run: Callable[[SettingsT, argparse.Namespace], int]


@dataclass(frozen=True)
class ServiceDefinition(Generic[SettingsT]):
    name: str
    settings_type: type[SettingsT]
    access: ServiceAccess
    grpc_services: tuple[str, ...]  # full names, for health and reflection
    register: Callable[[grpc.aio.Server, Runtime[SettingsT]], None]
    # The service's own tables (DESIGN §4); the outbox and idempotency tables are made on it.
    # None for a stateless service: no database, no outbox, and health follows NATS alone.
    metadata: sa.MetaData | None
    migrations: Path | None = None
    streams: tuple[StreamSpec, ...] = (EVENTS,)
    # Extra commands: `python -m agyn_<name> <command> [arguments]`.
    commands: dict[str, Command[SettingsT]] = field(default_factory=dict)
    # Run once at start, before the server takes calls (what a local run must create first).
    prepare: Callable[[Runtime[SettingsT]], Awaitable[None]] | None = None
    # Names of spans never recorded, nor what runs under them (agyn_common.telemetry).
    unrecorded_spans: tuple[str, ...] = ()


class RunningService(Generic[SettingsT]):
    def __init__(
        self,
        definition: ServiceDefinition[SettingsT],
        runtime: Runtime[SettingsT],
        server: grpc.aio.Server,
        health_servicer: health.aio.HealthServicer,
        pipeline: RpcPipeline,
        port: int,
        http_servers: dict[str, HttpServer] | None = None,
    ) -> None:
        self.definition = definition
        self.runtime = runtime
        self.server = server
        self.health = health_servicer
        self.pipeline = pipeline
        self.port = port
        self.http_servers = http_servers or {}
        self._tasks: list[asyncio.Task[None]] = []
        self._health_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._hurry = asyncio.Event()  # the lame duck ends now
        self._stopped = False  # stop() was called: a second call has nothing to do
        self.metrics_port: int | None = None  # where /metrics is served, when it is

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def http_ports(self) -> dict[str, int]:
        """The port of each HTTP port the service serves (`Runtime.serve_http`), by name."""
        return {name: http.port for name, http in self.http_servers.items()}

    def start_background(self) -> None:
        self._health_task = asyncio.create_task(self._follow_dependencies(), name="health")
        self._tasks = [self._health_task]
        if self.runtime.database is not None:
            self._tasks += [
                asyncio.create_task(self.runtime.outbox.run(self.runtime.bus), name="outbox-relay"),
                asyncio.create_task(self._housekeeping(), name="housekeeping"),
            ]
            if self.metrics_port is not None:
                self._tasks.append(
                    asyncio.create_task(self.runtime.outbox.watch_backlog(), name="outbox-backlog")
                )
        self._tasks += [
            asyncio.create_task(loop(), name=name) for name, loop in self.runtime.background.items()
        ]

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once when the service stops."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    async def _set_status(self, status: int) -> None:
        for name in ("", *self.definition.grpc_services):
            await self.health.set(name, status)

    async def _follow_dependencies(self) -> None:
        serving = health_pb2.HealthCheckResponse.SERVING
        not_serving = health_pb2.HealthCheckResponse.NOT_SERVING
        while not self._stopping.is_set():
            try:
                if self.runtime.database is not None:
                    async with asyncio.timeout(2):  # not wait_for: in 3.11 it can swallow a cancel
                        await self.runtime.database.ping()
                database_ok = True
            except Exception as error:
                log.warning("database check failed: %s", error)
                database_ok = False
            await self._set_status(serving if database_ok and self.runtime.bus.connected else not_serving)
            await self._pause(HEALTH_INTERVAL_SECONDS)

    async def _housekeeping(self) -> None:
        idempotency = self.runtime.idempotency
        while idempotency is not None and not self._stopping.is_set():
            try:
                await idempotency.purge_expired()
            except Exception as error:
                log.warning("housekeeping failed: %s", error)
            await self._pause(HOUSEKEEPING_INTERVAL_SECONDS)

    def hurry(self) -> None:
        """End the lame duck of a stop now (a second SIGTERM or Ctrl-C does this)."""
        self._hurry.set()

    async def stop(self, grace: float | None = None, lame_duck: float | None = None) -> None:
        """The stop sequence (module docstring): NOT_SERVING while still serving for
        `lame_duck` seconds, then no new calls (GOAWAY), the calls accepted finish within
        `grace` seconds, then everything closes. Both default to the settings."""
        if self._stopped:
            return
        self._stopped = True
        settings = self.runtime.settings
        grace = settings.shutdown_grace_seconds if grace is None else grace
        lame_duck = settings.shutdown_lame_duck_seconds if lame_duck is None else lame_duck
        loop = asyncio.get_running_loop()
        await self._go_not_serving()
        if lame_duck > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(lame_duck):
                    await self._hurry.wait()
            log.info("lame duck over: taking no new calls, letting the accepted ones finish")
        gate = self.pipeline.gate  # the HTTP requests pass it too
        for http in self.http_servers.values():
            await http.refuse_new_streams()
        if not await gate.close_door():
            log.warning("calls kept arriving: sending GOAWAY without a quiet moment")
        deadline = loop.time() + grace
        server_stopped = asyncio.ensure_future(self.server.stop(grace))
        # grpc.aio's stop sends the GOAWAY and closes the port synchronously in its first step
        # (grpc_server_shutdown_and_notify), before it waits for the calls: run that step.
        await asyncio.sleep(0)
        for http in self.http_servers.values():
            await http.stop_taking_requests()
        for callback in self.runtime.stopping_callbacks:
            callback()
        gate.open_door()
        still_running = await gate.drain(max(deadline - loop.time(), 0.0))
        if still_running:
            log.warning(
                "%d calls still running after the %gs grace period: cancelling them", still_running, grace
            )
            self.pipeline.grace_over = True
            await self.server.stop(0)
        # What may be left are health and reflection calls, a health Watch among them.
        _, open_calls = await asyncio.wait(
            {server_stopped}, timeout=min(OPEN_CALLS_SECONDS, max(deadline - loop.time(), 0.0))
        )
        if open_calls:
            await self.server.stop(0)
        await server_stopped
        for http in self.http_servers.values():
            await http.wait_closed(max(deadline - loop.time(), 0.0) + OPEN_CALLS_SECONDS)
        for stopped in self.runtime.stopped_callbacks:
            try:
                await stopped()
            except Exception:
                log.exception("a stop callback failed")
        # The loops end on the event; the cancel interrupts one that is mid-await. A library
        # may swallow a cancel, so the event, not the cancel, is what guarantees the end.
        self._stopping.set()
        if self.runtime.outbox_or_none is not None:
            self.runtime.outbox_or_none.stop()
        for task in self._tasks:
            task.cancel()
        _, stuck = await asyncio.wait(self._tasks, timeout=5)
        for task in stuck:
            log.warning("background task %s did not stop", task.get_name())
        if self.runtime.outbox_or_none is not None:
            with contextlib.suppress(Exception):
                await self.runtime.outbox_or_none.relay_once(self.runtime.bus)  # best effort; rows persist
        await self.runtime.channels.close()
        await self.runtime.bus.close()
        self.runtime.metrics.close()
        if self.runtime.database is not None:
            await self.runtime.database.close()

    async def _go_not_serving(self) -> None:
        """Readiness NOT_SERVING for good (the dependency checks stop first, so that none sets
        it back); liveness stays SERVING while the process serves at all."""
        if self._health_task is not None:
            self._health_task.cancel()
            await asyncio.wait({self._health_task}, timeout=5)
        await self._set_status(health_pb2.HealthCheckResponse.NOT_SERVING)


async def start_service(
    definition: ServiceDefinition[SettingsT],
    settings: SettingsT,
    *,
    tracer_provider: TracerProvider | None = None,
) -> RunningService[SettingsT]:
    if settings.migrate_on_start and definition.migrations is not None:
        await asyncio.to_thread(
            migrate,
            definition.name,
            definition.migrations,
            settings.database_url,
            settings.database_wait_seconds,
        )
    metadata = definition.metadata
    db = None if metadata is None else Database(settings.database_url)
    bus = Bus(
        settings.nats_url, name=definition.name, streams=definition.streams, tracer_provider=tracer_provider
    )
    bus.start()
    channels = ServiceChannels(
        definition.access.service_account, settings.agyn_access_mode, tracer_provider=tracer_provider
    )
    runtime = Runtime(
        settings=settings,
        bus=bus,
        channels=channels,
        database=db,
        outbox_or_none=(
            None
            if db is None or metadata is None
            else Outbox(db, metadata, batch_size=settings.outbox_batch_size)
        ),
        idempotency=None if db is None or metadata is None else Idempotency(db, metadata),
        metrics=Metrics(),
    )
    measured = settings.metrics_port != 0
    if measured:
        bus.measure_with(runtime.metrics)
        if db is not None:
            db.measure_with(runtime.metrics)
        if runtime.outbox_or_none is not None:
            runtime.outbox_or_none.measure_with(runtime.metrics)
    policy = AccessPolicy(definition.access, settings.agyn_access_mode, settings.agyn_mesh_namespace)
    pipeline = RpcPipeline(
        policy,
        current_tracer(tracer_provider),
        runtime.idempotency,
        RpcOutcomes(runtime.metrics.rpc_duration) if measured else None,
    )
    # No SO_REUSEPORT (grpc's default): a second server on a taken port fails to start
    # instead of silently sharing the port and answering the other's calls.
    server = grpc.aio.server(
        interceptors=[pipeline],
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", settings.grpc_max_recv_bytes)],
    )
    if definition.prepare is not None:
        await definition.prepare(runtime)
    definition.register(server, runtime)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*definition.grpc_services, health.SERVICE_NAME, reflection.SERVICE_NAME), server
    )
    http_servers = bind_http_servers(
        definition.name,
        runtime.http,
        definition.access.open_http_paths,
        host=settings.grpc_host,
        grace=settings.shutdown_grace_seconds,
        gate=pipeline.gate,
        tracer=current_tracer(tracer_provider),
        metrics=runtime.metrics if measured else None,
    )
    port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    await server.start()
    for http in http_servers.values():
        http.start()
    running = RunningService(definition, runtime, server, health_servicer, pipeline, port, http_servers)
    await running._set_status(health_pb2.HealthCheckResponse.NOT_SERVING)
    await health_servicer.set(LIVENESS_SERVICE, health_pb2.HealthCheckResponse.SERVING)
    if measured:
        running.metrics_port = runtime.metrics.serve(settings.grpc_host, settings.metrics_port)
    running.start_background()
    log.info("%s listening on %s:%d", definition.name, settings.grpc_host, port)
    return running


async def serve_until_signalled(definition: ServiceDefinition[SettingsT], settings: SettingsT) -> None:
    provider = configure_tracing(definition.name, unrecorded=definition.unrecorded_spans)
    stop = asyncio.Event()
    running: RunningService[SettingsT] | None = None

    def signalled() -> None:
        if stop.is_set() and running is not None:
            running.hurry()  # the second signal: no more lame duck
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, signalled)
    running = await start_service(definition, settings, tracer_provider=provider)
    # What start-up made (modules, tables, compiled statements) lives as long as the process:
    # out of the collector's sight, a full collection no longer walks it every time.
    gc.freeze()
    await stop.wait()
    log.info(
        "stopping: NOT_SERVING, still serving for the %gs lame duck", settings.shutdown_lame_duck_seconds
    )
    await running.stop()
    provider.shutdown()
    log.info("stopped")


def main(definition: ServiceDefinition[SettingsT], argv: Sequence[str] | None = None) -> int:
    """The command line of every service: `serve` (default), `migrate`, and its own commands."""
    options = parse_command(f"agyn-{definition.name}", definition.commands, argv)
    own = definition.commands.get(options.command)
    arguments = own.parser.parse_args(options.args) if own is not None else None
    settings = load_settings(definition.settings_type, f"agyn-{definition.name}")
    configure_logging(definition.name, settings.log_level, settings.log_format)
    if api_implementation.Type() != "upb":
        print(
            f"agyn-{definition.name}: protobuf backend is {api_implementation.Type()}, need upb",
            file=sys.stderr,
        )
        return 2
    if options.command == "migrate":
        if definition.migrations is not None:
            migrate(
                definition.name, definition.migrations, settings.database_url, settings.database_wait_seconds
            )
        return 0
    if own is not None and arguments is not None:
        return own.run(settings, arguments)
    run_on(settings.event_loop, serve_until_signalled(definition, settings))
    return 0


def run_on(event_loop: str, main: Coroutine[Any, Any, None]) -> None:
    """Run `main` on the event loop the settings name (EVENT_LOOP)."""
    if event_loop == "uvloop":
        import uvloop

        uvloop.run(main)
    else:
        asyncio.run(main)
