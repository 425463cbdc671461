"""The local platform: embedded PostgreSQL, NATS and S3 (SeaweedFS), every service of
`SERVICES` on loopback, each sending its own spans to Tracing.

State lives in one directory (`.agyn/local` by default) and survives restarts: the
PostgreSQL cluster (one database per service), the JetStream store, the object store (`s3/`),
the logs and the local admin's API token. `endpoints.json` exists only while the platform is up.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import grpc
from agyn_common.embedded import EmbeddedNats, EmbeddedPostgres, EmbeddedS3, free_port
from grpc_health.v1 import health_pb2, health_pb2_grpc

from agyn_local import runner as local_runner
from agyn_local.services import ADMIN_SERVICE, SERVICES, SPANS_SERVICE, HttpPort, LocalService

HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 90.0
# Metrics ports of `make up`, one per service in SERVICES order (9464: the usual Prometheus exporter port).
METRICS_BASE_PORT = 9464
# No load balancer to leave locally: a service stops taking calls as soon as it is told.
LAME_DUCK_SECONDS = "0"
# A service's own grace period is 20 s (SHUTDOWN_GRACE_SECONDS); give it a little more.
STOP_TIMEOUT_SECONDS = 25.0
# Stopped first, and waited for: the requests it accepted finish while the services behind it
# still serve them.
FRONT_DOOR = "gateway"
# The bucket the files' bytes go to; Files creates it on its first start (local mode).
FILES_BUCKET = "agyn-files"


class StartupFailed(Exception):
    """The platform could not come up; the message says what to look at."""


class Stopped(Exception):
    """A stop was requested while starting."""


@dataclass
class Options:
    state_dir: Path
    nats_port: int
    base_port: int  # 0: any free port for each service
    s3_port: int = 8333  # SeaweedFS takes the seven ports after it too; any free ones with base_port 0
    # The services send their spans to Tracing, as platform producers (unless the environment
    # names another OTLP endpoint); the benchmarks measure the calls without that.
    platform_spans: bool = True


@dataclass
class RunningProcess:
    service: LocalService
    address: str
    process: subprocess.Popen[bytes]
    log_path: Path


def log_tail(path: Path, lines: int = 20) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def assign_ports(options: Options) -> dict[str, int]:
    if options.base_port == 0:
        return {service.name: free_port() for service in SERVICES}
    ports = {
        service.name: service.port if service.port is not None else options.base_port + index
        for index, service in enumerate(SERVICES)
    }
    for name, port in ports.items():
        if not port_is_free(port):
            raise StartupFailed(f"port {port} for {name} is in use; choose another with --base-port")
    return ports


def assign_metrics_ports(options: Options) -> dict[str, int]:
    """Each service's metrics port: METRICS_BASE_PORT and the next ones, or any free ones when
    the services themselves take any free port."""
    if options.base_port == 0:
        return {service.name: free_port() for service in SERVICES}
    ports = {service.name: METRICS_BASE_PORT + index for index, service in enumerate(SERVICES)}
    for name, port in ports.items():
        if not port_is_free(port):
            raise StartupFailed(f"port {port} for the metrics of {name} is in use")
    return ports


def assign_http_ports(options: Options) -> dict[str, int]:
    """The port of each service's HTTP port (its own, or any free one with --base-port 0), by
    its endpoint name."""
    wanted = [http for service in SERVICES for http in service.http_ports]
    if options.base_port == 0:
        return {http.endpoint: free_port() for http in wanted}
    for http in wanted:
        if not port_is_free(http.port):
            raise StartupFailed(f"port {http.port} for {http.endpoint} is in use")
    return {http.endpoint: http.port for http in wanted}


def write_json_atomically(path: Path, content: object) -> None:
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(content, indent=2) + "\n")
    partial.replace(path)


@contextlib.contextmanager
def exclusive(state_dir: Path) -> Iterator[None]:
    """One platform per state directory: a second `up` on the same data would corrupt it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    with open(state_dir / "up.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StartupFailed(f"another `make up` is running on {state_dir}") from None
        yield


def object_store_environment(endpoint: str) -> dict[str, str]:
    """Settings of a service that keeps bytes in the embedded S3 store at `endpoint`."""
    return {
        "S3_ENDPOINT": endpoint,
        "S3_BUCKET": FILES_BUCKET,
        "S3_REGION": EmbeddedS3.REGION,
        "S3_ACCESS_KEY": EmbeddedS3.ACCESS_KEY,
        "S3_SECRET_KEY": EmbeddedS3.SECRET_KEY,
    }


def service_environment(
    nats_url: str,
    port: int,
    addresses: dict[str, str],
    database_url: str | None,
    metrics_port: int = 0,
    s3_endpoint: str | None = None,
) -> dict[str, str]:
    """A local service's settings: loopback, local access mode, every other service's address
    (and the object store, given its endpoint)."""
    environment = {
        **os.environ,
        "NATS_URL": nats_url,
        "GRPC_HOST": HOST,
        "GRPC_PORT": str(port),
        "METRICS_PORT": str(metrics_port),
        "AGYN_ACCESS_MODE": "local",
        "MIGRATE_ON_START": "true",
        "SHUTDOWN_LAME_DUCK_SECONDS": LAME_DUCK_SECONDS,
        **{f"{name.upper()}_ADDRESS": address for name, address in addresses.items()},
    }
    if database_url is not None:
        environment["DATABASE_URL"] = database_url
    if s3_endpoint is not None:
        environment.update(object_store_environment(s3_endpoint))
    return environment


def spans_environment(service: LocalService, tracing_address: str) -> dict[str, str]:
    """A service's OTLP settings that send its spans to Tracing, named as a platform producer
    is locally (`x-agyn-caller` from loopback): they keep the attribution they assert."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://{tracing_address}",
        "OTEL_EXPORTER_OTLP_HEADERS": f"x-agyn-caller={service.name}",
    }


def state_environment(service: LocalService, state_dir: Path) -> dict[str, str]:
    """`<NAME>_STATE_DIR` of a service that keeps files on disk: its own directory under `state_dir`."""
    if not service.state_dir:
        return {}
    return {f"{service.name.upper()}_STATE_DIR": str(state_dir / service.name)}


def database_url(postgres_url: str, database: str) -> str:
    """The DSN of `database` on the server whose DSN (of any database) is `postgres_url`."""
    return urlsplit(postgres_url)._replace(path=f"/{database}").geturl()


def read_endpoints(state_dir: Path) -> dict[str, Any]:
    """What the running platform wrote to endpoints.json; StartupFailed when it is not up."""
    endpoints_path = state_dir / "endpoints.json"
    if not endpoints_path.exists():
        raise StartupFailed(f"the platform is not up in {state_dir}; start it with `make up`")
    endpoints: dict[str, Any] = json.loads(endpoints_path.read_text())
    return endpoints


def run_service_command(state_dir: Path, service: LocalService, args: Sequence[str]) -> int:
    """`python -m <service> <args...>` against the running platform, with the environment
    `up` gives the service (its database, NATS, every address): its exit code."""
    endpoints = read_endpoints(state_dir)
    addresses = {name: endpoints[name] for name in (local.name for local in SERVICES)}
    environment = service_environment(
        endpoints["nats"],
        0,
        addresses,
        database_url(endpoints["postgres"], service.name) if service.database else None,
        s3_endpoint=endpoints["s3"] if service.object_store else None,
    )
    environment.update(state_environment(service, state_dir))
    return subprocess.run(
        [sys.executable, "-m", service.module, *args], env=environment, check=False
    ).returncode


class LocalPlatform:
    def __init__(self, options: Options, progress: IO[str] = sys.stdout) -> None:
        self.options = options
        self.progress = progress
        self.state_dir = options.state_dir
        self.logs_dir = options.state_dir / "logs"
        self.endpoints_path = options.state_dir / "endpoints.json"
        self.admin_token_path = options.state_dir / "admin-token"
        self.admin_identity_path = options.state_dir / "admin-identity-id"
        # Set by the SIGINT/SIGTERM handler. A plain flag: a signal handler must not take a
        # lock, and threading.Event.set() deadlocks when the signal lands while the main
        # thread holds the same Event's lock inside wait() (it happened: `up` hung on SIGTERM).
        self.stop_requested = False
        self._postgres: EmbeddedPostgres | None = None
        self._nats: EmbeddedNats | None = None
        self._s3: EmbeddedS3 | None = None
        self._processes: list[RunningProcess] = []
        self._metrics_ports: dict[str, int] = {}
        self._http_ports: dict[str, int] = {}
        self._log_handles: list[IO[bytes]] = []

    # --- start -------------------------------------------------------------------------

    def start(self) -> None:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        ports = assign_ports(self.options)
        self._metrics_ports = assign_metrics_ports(self.options)
        self._http_ports = assign_http_ports(self.options)
        if not port_is_free(self.options.nats_port):
            raise StartupFailed(
                f"port {self.options.nats_port} for NATS is in use; choose another with --nats-port"
            )
        with self._step("waiting for postgres"):
            self._postgres = EmbeddedPostgres(self.state_dir / "postgres", durable=True)
        with self._step("waiting for nats"):
            self._nats = EmbeddedNats(
                self.state_dir / "nats", port=self.options.nats_port, log_file=self.logs_dir / "nats.log"
            )
            self._nats.start()
        with self._step("waiting for s3"):
            self._s3 = self._object_store()
            self._s3.start()
        addresses = {name: f"{HOST}:{port}" for name, port in ports.items()}
        for service in SERVICES:
            if not service.local_runner:
                self._processes.append(self._spawn(service, ports[service.name], addresses))
        for running in self._processes:
            with self._step(f"waiting for {running.service.name} (SERVING)"):
                self._wait_until_serving(running)
        with self._step("creating the local admin", done="done"):
            self._bootstrap_admin(addresses)
        for service in (service for service in SERVICES if service.local_runner):
            self._start_local_runner(service, ports[service.name], addresses)
        write_json_atomically(
            self.endpoints_path,
            {
                **addresses,
                "nats": self._nats.url,
                "postgres": self._postgres.url(),
                "s3": self._s3.endpoint,
                **self.http_urls,
                "metrics": self.metrics_urls,
            },
        )

    def _start_local_runner(self, service: LocalService, port: int, addresses: dict[str, str]) -> None:
        """The daemon as the local cluster runner: registered once, enrolled through the Gateway."""
        admin = self.admin_identity_path.read_text().strip()
        with self._step("registering the local runner", done="done"):
            runner_id, token = local_runner.service_token(self.state_dir, addresses["runners"], admin)
        running = self._spawn(
            service,
            port,
            addresses,
            RUNNER_SERVICE_TOKEN=token,
            GATEWAY_URL=f"http://{addresses[FRONT_DOOR]}",
        )
        self._processes.append(running)
        with self._step(f"waiting for {service.name} (SERVING)"):
            self._wait_until_serving(running)
        with self._step(f"waiting for {service.name} to enroll"):
            try:
                local_runner.wait_enrolled(
                    addresses["runners"], admin, runner_id, lambda: not self.stop_requested
                )
            except TimeoutError as error:
                raise StartupFailed(
                    f"{error}; the end of {running.log_path}:\n{log_tail(running.log_path)}"
                ) from None
            if self.stop_requested:
                raise Stopped

    def _object_store(self) -> EmbeddedS3:
        """SeaweedFS on --s3-port and the seven after it, or on free ports with --base-port 0."""
        port = None if self.options.base_port == 0 else self.options.s3_port
        store = EmbeddedS3(self.state_dir / "s3", port=port, log_file=self.logs_dir / "s3.log")
        for taken in (p for p in store.ports if not port_is_free(p)):
            raise StartupFailed(f"port {taken} for the S3 store is in use; choose another with --s3-port")
        return store

    @contextlib.contextmanager
    def _step(self, what: str, done: str = "ready") -> Iterator[None]:
        """Say what start-up waits for, and how it ended: a slow start is not a silent one."""
        print(f"{what}…", end=" ", file=self.progress, flush=True)
        try:
            yield
        except Stopped:
            print("stopped", file=self.progress, flush=True)
            raise
        except BaseException:
            print("failed", file=self.progress, flush=True)
            raise
        print(done, file=self.progress, flush=True)

    def service_environment(
        self, service: LocalService, port: int, addresses: dict[str, str]
    ) -> dict[str, str]:
        assert self._nats is not None and self._postgres is not None and self._s3 is not None
        database_url = self._postgres.ensure_database(service.name) if service.database else None
        metrics_port = self._metrics_ports[service.name] if port else 0  # port 0: a command, not a server
        s3_endpoint = self._s3.endpoint if service.object_store else None
        environment = service_environment(
            self._nats.url, port, addresses, database_url, metrics_port, s3_endpoint
        )
        environment.update(state_environment(service, self.state_dir))
        settings = dict(service.settings)
        if port:  # a server, not a command
            environment.update(self._http_environment(service.http_ports))
            if self.options.platform_spans:
                settings.update(spans_environment(service, addresses[SPANS_SERVICE]))
        for name, value in settings.items():
            environment.setdefault(name, value)  # the user's environment wins
        return environment

    def _http_environment(self, http_ports: Sequence[HttpPort]) -> dict[str, str]:
        return {http.setting: str(self._http_ports[http.endpoint]) for http in http_ports}

    def _spawn(
        self, service: LocalService, port: int, addresses: dict[str, str], **settings: str
    ) -> RunningProcess:
        log_path = self.logs_dir / f"{service.name}.log"
        log_handle = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self._log_handles.append(log_handle)
        process = subprocess.Popen(
            [sys.executable, "-m", service.module, "serve"],
            env={**self.service_environment(service, port, addresses), **settings},
            stdout=log_handle,
            stderr=log_handle,
            # Its own session: Ctrl-C reaches only us, and we stop the services in order.
            start_new_session=True,
        )
        return RunningProcess(service, addresses[service.name], process, log_path)

    def _wait_until_serving(self, running: RunningProcess) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        with grpc.insecure_channel(running.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while time.monotonic() < deadline:
                if self.stop_requested:
                    raise Stopped
                if running.process.poll() is not None:
                    raise StartupFailed(
                        f"{running.service.name} exited with code {running.process.returncode}; "
                        f"the end of {running.log_path}:\n{log_tail(running.log_path)}"
                    )
                with contextlib.suppress(grpc.RpcError):
                    reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                time.sleep(0.2)
        raise StartupFailed(
            f"{running.service.name} did not report SERVING within {READY_TIMEOUT_SECONDS:.0f}s; "
            f"the end of {running.log_path}:\n{log_tail(running.log_path)}"
        )

    def _bootstrap_admin(self, addresses: dict[str, str]) -> None:
        """Create (or keep) the local cluster admin and its API token."""
        (admin,) = (running for running in self._processes if running.service.name == ADMIN_SERVICE)
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                admin.service.module,
                "bootstrap-admin",
                "--token-file",
                str(self.admin_token_path),
            ],
            env=self.service_environment(admin.service, 0, addresses),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise StartupFailed(f"creating the local admin failed:\n{result.stderr.strip()[-2000:]}")
        self.admin_identity_path.write_text(result.stdout.strip() + "\n")

    # --- run and stop --------------------------------------------------------------------

    @property
    def addresses(self) -> dict[str, str]:
        return {running.service.name: running.address for running in self._processes}

    @property
    def http_urls(self) -> dict[str, str]:
        """The base URL of each service's HTTP port, by its endpoint name."""
        return {name: f"http://{HOST}:{port}" for name, port in self._http_ports.items()}

    @property
    def metrics_urls(self) -> dict[str, str]:
        """Each service's Prometheus metrics."""
        return {name: f"http://{HOST}:{port}/metrics" for name, port in self._metrics_ports.items()}

    def pid(self, service: str) -> int:
        """The process id of a running service (the benchmark reads its CPU time)."""
        (running,) = (running for running in self._processes if running.service.name == service)
        return running.process.pid

    @property
    def nats_url(self) -> str:
        assert self._nats is not None, "not started"
        return self._nats.url

    @property
    def s3_endpoint(self) -> str:
        assert self._s3 is not None, "not started"
        return self._s3.endpoint

    def database_url(self, service: str) -> str:
        """The DSN of a service's database (the benchmark measures the same PostgreSQL)."""
        assert self._postgres is not None, "not started"
        return self._postgres.ensure_database(service)

    def summary(self) -> str:
        rows = [f"  {running.service.name:<14} {running.address}" for running in self._processes]
        assert self._nats is not None
        rows.append(f"  {'nats':<14} {self._nats.url}")
        assert self._postgres is not None and self._s3 is not None
        rows.append(f"  {'postgres':<14} {self._postgres.url()}")
        rows.append(f"  {'s3':<14} {self._s3.endpoint}")
        rows += [f"  {name:<14} {url}" for name, url in self.http_urls.items()]
        return "\n".join(
            [
                f"Agyn is up; state in {self.state_dir}",
                *rows,
                f"  admin identity {self.admin_identity_path.read_text().strip()}",
                f"  admin token    {self.admin_token_path}",
                f"  metrics        http://{HOST}:<port>/metrics, ports {min(self._metrics_ports.values())} "
                f"to {max(self._metrics_ports.values())} (under `metrics` in the endpoints)",
                f"Endpoints in {self.endpoints_path}, logs in {self.logs_dir}. Ctrl-C stops.",
            ]
        )

    def wait_for_exit(self) -> RunningProcess | None:
        """Block until a stop is requested (None) or a service dies (that service)."""
        while not self.stop_requested:
            for running in self._processes:
                if running.process.poll() is not None:
                    return running
            time.sleep(0.2)
        return None

    def stop(self) -> None:
        """Stop whatever started, services first; safe to call at any point of start().

        Each service gets SIGTERM and runs its own stop (NOT_SERVING, no new calls, the
        accepted ones finish, exit 0); the Gateway first, then the others together."""
        self.endpoints_path.unlink(missing_ok=True)
        front = [running for running in self._processes if running.service.name == FRONT_DOOR]
        behind = [running for running in self._processes if running.service.name != FRONT_DOOR]
        for wave in (front, behind):
            for running in wave:
                if running.process.poll() is None:
                    running.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            for running in wave:
                try:
                    running.process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    running.process.kill()
                    running.process.wait()
        self._processes.clear()
        for handle in self._log_handles:
            handle.close()
        self._log_handles.clear()
        if self._s3 is not None:
            self._s3.stop()
            self._s3 = None
        if self._nats is not None:
            self._nats.stop()
            self._nats = None
        if self._postgres is not None:
            self._postgres.stop()
            self._postgres = None
