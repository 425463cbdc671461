"""The cross-service scenarios, written once, run against one of two platforms (`AGYN_TARGET`):

- `local` (default, `make test`): every service of `make up`'s table as its own process on
  the session's PostgreSQL and NATS, each given the addresses of all the others, as in
  `make up`. A new service joins these scenarios by being added to that table.
- `kind` (`make kind-test`, deploy/kind/kind.sh): the platform deployed in a kind cluster under Istio.
  Only the Gateway is reachable (port-forwarded to `AGYN_GATEWAY_ADDRESS`); users and their
  API tokens come from `python -m agyn_users issue-token`, run in the users pod with
  `kubectl exec` (`AGYN_KUBE_CONTEXT`, `AGYN_KUBE_NAMESPACE`).

Scenarios that use only the `platform` fixture run on both. Those that reach behind the
Gateway (the `processes` fixture, NATS, internal callers) are marked `local_platform`, and
the kind target deselects them.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import uuid
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from agyn_common.embedded import EmbeddedNats, EmbeddedPostgres, EmbeddedS3, free_port
from agyn_local.platform import service_environment, state_environment
from agyn_local.services import SERVICES
from agyn_testkit.adversarial import TALLIES
from agyn_testkit.harness import wait_for_health
from agynio.api.users.v1 import users_pb2, users_pb2_grpc
from grpc_health.v1 import health_pb2

TARGETS = ("local", "kind")
LOCAL_ONLY = "local_platform"
# `kubectl exec` starts a Python process in the users pod; allow for a slow API server too.
ISSUE_TOKEN_TIMEOUT_SECONDS = 60.0


def target() -> str:
    value = os.environ.get("AGYN_TARGET", "") or "local"
    if value not in TARGETS:
        raise pytest.UsageError(f"AGYN_TARGET must be one of {', '.join(TARGETS)}, not {value!r}")
    return value


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Deselected, not skipped: on kind these scenarios are not part of the run at all.
    if target() != "kind":
        return
    local_only = [item for item in items if item.get_closest_marker(LOCAL_ONLY)]
    if local_only:
        config.hook.pytest_deselected(items=local_only)
        items[:] = [item for item in items if not item.get_closest_marker(LOCAL_ONLY)]


# --- the platform the scenarios see --------------------------------------------------------------


class Platform(ABC):
    """What a client outside the platform has: the Gateway's host:port, and users."""

    gateway: str

    @abstractmethod
    async def user(self, username: str) -> tuple[str, str]:
        """A new user (a `username` of it, possibly with a suffix) and an API token of theirs:
        (identity_id, token)."""


class LocalPlatform(Platform):
    """Users are made straight on the Users process, as the Gateway's first sign-in does."""

    GATEWAY_CALLER = (("x-agyn-caller", "gateway"),)

    def __init__(self, processes: Processes) -> None:
        self.gateway = processes.addresses["gateway"]
        self.users_address = processes.addresses["users"]

    async def user(self, username: str) -> tuple[str, str]:
        async with grpc.aio.insecure_channel(self.users_address) as channel:
            users = users_pb2_grpc.UsersServiceStub(channel)
            created = await users.ResolveOrCreateUser(
                users_pb2.ResolveOrCreateUserRequest(
                    oidc_subject=f"sub-{uuid.uuid4()}", preferred_username=username
                ),
                metadata=self.GATEWAY_CALLER,
            )
            identity = created.user.meta.id
            token = await users.CreateAPIToken(
                users_pb2.CreateAPITokenRequest(name="integration"),
                metadata=(*self.GATEWAY_CALLER, ("x-identity-id", identity), ("x-identity-type", "user")),
            )
        return identity, token.plaintext_token


class KindPlatform(Platform):
    """Users come from `issue-token` in the users pod: nothing but the Gateway is reachable."""

    def __init__(self, gateway: str, context: str, namespace: str) -> None:
        self.gateway = gateway
        self.context = context
        self.namespace = namespace

    @classmethod
    def from_environment(cls) -> KindPlatform:
        names = ("AGYN_GATEWAY_ADDRESS", "AGYN_KUBE_CONTEXT", "AGYN_KUBE_NAMESPACE")
        missing = [name for name in names if not os.environ.get(name)]
        if missing:
            pytest.fail(f"AGYN_TARGET=kind needs {', '.join(missing)}", pytrace=False)
        if shutil.which("kubectl") is None:
            pytest.fail("AGYN_TARGET=kind needs kubectl on PATH", pytrace=False)
        gateway, context, namespace = (os.environ[name] for name in names)
        return cls(gateway, context, namespace)

    async def user(self, username: str) -> tuple[str, str]:
        # Usernames are unique in the cluster, which outlives a run: a fresh one each time,
        # within the 32-byte limit.
        unique = f"{username[:23]}-{uuid.uuid4().hex[:8]}"
        command = [
            "kubectl",
            f"--context={self.context}",
            f"--namespace={self.namespace}",
            "exec",
            "deploy/users",
            "-c",
            "users",
            "--",
            "python",
            "-m",
            "agyn_users",
            "issue-token",
            f"--username={unique}",
            "--token-name=integration",
        ]
        process = await asyncio.create_subprocess_exec(
            *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            async with asyncio.timeout(ISSUE_TOKEN_TIMEOUT_SECONDS):
                stdout, stderr = await process.communicate()
        except TimeoutError:
            process.kill()
            await process.wait()
            pytest.fail(f"`{' '.join(command)}` took over {ISSUE_TOKEN_TIMEOUT_SECONDS:.0f}s", pytrace=False)
        if process.returncode != 0:
            pytest.fail(
                f"`{' '.join(command)}` exited {process.returncode}:\n{stderr.decode()[-2000:]}",
                pytrace=False,
            )
        try:
            issued = json.loads(stdout)
            return issued["identity_id"], issued["token"]
        except (ValueError, KeyError, TypeError):
            pytest.fail(f"`{' '.join(command)}` printed no token: {stdout.decode()[-2000:]!r}", pytrace=False)


@pytest.fixture
def platform(request: pytest.FixtureRequest) -> Platform:
    if target() == "kind":
        return KindPlatform.from_environment()
    # Requested only here, so that the kind target never starts PostgreSQL, NATS or services.
    return LocalPlatform(request.getfixturevalue("processes"))


# --- the local platform's processes ----------------------------------------------------------------


@dataclass
class Processes:
    addresses: dict[str, str]
    logs: Path
    databases: dict[str, str] = field(default_factory=dict)  # URL by service, for fault scenarios
    metrics: dict[str, str] = field(default_factory=dict)  # each service's /metrics URL

    def log_tail(self, name: str, lines: int = 30) -> str:
        return "\n".join((self.logs / f"{name}.log").read_text().splitlines()[-lines:])


def spawn(module: str, environment: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", module, "serve"], env=environment, stdout=log, stderr=log
        )


def stop(children: list[subprocess.Popen[bytes]]) -> None:
    for child in children:
        child.send_signal(signal.SIGTERM)
    for child in children:
        try:
            child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()


@pytest.fixture
def nats_url_of(nats) -> Callable[[str], str]:
    """The NATS URL each service of `processes` is given; a test may route one elsewhere."""
    return lambda service: nats.url


@asynccontextmanager
async def running_processes(
    create_database: Callable[[str], str],
    nats_url_of: Callable[[str], str],
    logs: Path,
    s3: EmbeddedS3,
) -> AsyncIterator[Processes]:
    """Every service of the table as a process, each on an empty database of its own made by
    `create_database(name)`, on NATS at `nats_url_of(name)` and, when it keeps bytes, on the S3
    store `s3`; stopped on exit."""
    addresses = {service.name: f"127.0.0.1:{free_port()}" for service in SERVICES}
    running = Processes(addresses=addresses, logs=logs)
    children: list[subprocess.Popen[bytes]] = []
    try:
        for service in SERVICES:
            # An empty database: the service migrates it at start, as in `make up`.
            if service.database:
                running.databases[service.name] = create_database(service.name)
            database_url = running.databases.get(service.name)
            port = int(addresses[service.name].rsplit(":", 1)[1])
            metrics_port = free_port()
            running.metrics[service.name] = f"http://127.0.0.1:{metrics_port}/metrics"
            environment = service_environment(
                nats_url_of(service.name),
                port,
                addresses,
                database_url,
                metrics_port,
                s3.endpoint if service.object_store else None,
            )
            environment.update(state_environment(service, logs))
            children.append(spawn(service.module, environment, logs / f"{service.name}.log"))
        for service in SERVICES:
            async with grpc.aio.insecure_channel(addresses[service.name]) as channel:
                try:
                    await wait_for_health(channel, health_pb2.HealthCheckResponse.SERVING, timeout=60)
                except TimeoutError:
                    pytest.fail(f"{service.name} did not start:\n{running.log_tail(service.name)}")
        yield running
    finally:
        stop(children)


@pytest.fixture
async def processes(
    request: pytest.FixtureRequest, database_factory, nats_url_of, tmp_path: Path, s3: EmbeddedS3
) -> AsyncIterator[Processes]:
    if target() != "local":
        pytest.fail(f"{request.node.name} needs the local platform's processes: mark it `{LOCAL_ONLY}`")
    async with running_processes(
        lambda name: database_factory(name, None), nats_url_of, tmp_path, s3
    ) as running:
        yield running


@pytest_asyncio.fixture(scope="module")
async def module_processes(
    postgres: EmbeddedPostgres,
    nats_server: EmbeddedNats,
    s3_server: EmbeddedS3,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Processes]:
    """The processes once for a whole module, for the scenarios that stop nothing: each makes
    its own users and organizations. On databases dropped afterwards."""
    if target() != "local":
        pytest.fail(f"this module needs the local platform's processes: mark it `{LOCAL_ONLY}`")
    created: list[str] = []

    def create_database(name: str) -> str:
        created.append(f"module_{name}_{uuid.uuid4().hex[:12]}")
        return postgres.create_database(created[-1])

    try:
        async with running_processes(
            create_database, lambda name: nats_server.url, tmp_path_factory.mktemp("processes"), s3_server
        ) as running:
            yield running
    finally:
        for name in created:
            postgres.drop_database(name)


# Summaries the pytest-xdist workers sent back (by suite), for the controller's terminal summary.
WORKER_SUMMARIES = pytest.StashKey[dict[str, list[str]]]()


def _summaries(config: pytest.Config) -> dict[str, list[str]]:
    return {title: tally.summary(title) for title, tally in config.stash.get(TALLIES, {}).items()}


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In a pytest-xdist worker: hand the robustness figures to the controller, which prints."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["robustness"] = _summaries(session.config)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    node.config.stash.setdefault(WORKER_SUMMARIES, {}).update(node.workeroutput.get("robustness", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """What the robustness suite sent and what came back (issue 15 asks for it in the note)."""
    for title, lines in {**config.stash.get(WORKER_SUMMARIES, {}), **_summaries(config)}.items():
        terminalreporter.write_sep("-", f"robustness over {title}")
        for line in lines:
            terminalreporter.write_line(line)
