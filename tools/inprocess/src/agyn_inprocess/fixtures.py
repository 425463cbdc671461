"""pytest fixtures: the platform in-process, started once per test module.

`platform` (Users and Organizations), `agents`, `runners`, `files`, `threads`, `tracing`,
`notifications`, `chat` and `gateway` are started the first time a test of a module asks for them, on
databases of that module, and stopped after its last test: the tests of a module share them,
so each test makes its own organizations, users and names and never counts what others
wrote. A test that stops, restarts or reconfigures a service, or needs empty databases, is
marked `@pytest.mark.fresh_platform` and gets every service of its own, stopped after it.

Enable with `pytest_plugins = ["agyn_inprocess.fixtures"]`; the event loop must live as long
as the services (`asyncio_default_*_loop_scope = "session"`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from agyn_common.embedded import EmbeddedNats, EmbeddedS3
from agyn_testkit.fixtures import DatabaseFactory

from agyn_inprocess.agents import Agents, in_process_agents
from agyn_inprocess.chat import Chat, in_process_chat
from agyn_inprocess.files import Files, in_process_files
from agyn_inprocess.gateway import Gateway, OidcIssuer, in_process_gateway, start_issuer
from agyn_inprocess.notifications import Notifications, in_process_notifications
from agyn_inprocess.organizations import Platform, in_process_platform
from agyn_inprocess.runners import Runners, in_process_runners
from agyn_inprocess.threads import Threads, in_process_threads
from agyn_inprocess.tracing import Tracing, in_process_tracing

FRESH = "fresh_platform"
T = TypeVar("T")
Start = Callable[[DatabaseFactory], AbstractAsyncContextManager[T]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{FRESH}: the test gets services of its own (it stops, restarts or reconfigures them)"
    )


class ModuleServices:
    """The services a module's tests share, each started when first asked for."""

    def __init__(self, databases: DatabaseFactory) -> None:
        self.databases = databases
        self._started: dict[str, Any] = {}
        self._stack = AsyncExitStack()

    async def get(self, name: str, start: Start[T]) -> T:
        if name not in self._started:
            self._started[name] = await self._stack.enter_async_context(start(self.databases))
        started: T = self._started[name]
        return started

    async def close(self) -> None:
        """Stop them all (newest first: the Gateway before what it fronts); the next test that
        asks starts them again."""
        await self._stack.aclose()
        self._started.clear()


@pytest.fixture(scope="module")
async def module_services(module_database_factory: DatabaseFactory) -> AsyncIterator[ModuleServices]:
    services = ModuleServices(module_database_factory)
    yield services
    await services.close()


@dataclass
class Scope:
    """Where a test's services come from: its module's, or its own when marked fresh."""

    fresh: bool
    module: ModuleServices
    own_databases: DatabaseFactory

    @asynccontextmanager
    async def service(self, name: str, start: Start[T]) -> AsyncIterator[T]:
        if self.fresh:
            async with start(self.own_databases) as own:
                yield own
        else:
            yield await self.module.get(name, start)


@pytest.fixture
async def services(
    request: pytest.FixtureRequest, module_services: ModuleServices, database_factory: DatabaseFactory
) -> Scope:
    fresh = request.node.get_closest_marker(FRESH) is not None
    if fresh:
        # One platform at a time, as in production: two instances of a service on the same
        # NATS would share its durable consumers, and each would miss what the other took.
        await module_services.close()
    return Scope(fresh, module_services, database_factory)


@pytest.fixture
async def platform(services: Scope, nats: EmbeddedNats) -> AsyncIterator[Platform]:
    def start(databases: DatabaseFactory) -> AbstractAsyncContextManager[Platform]:
        return in_process_platform(databases, nats.url)

    async with services.service("platform", start) as running:
        yield running


@pytest.fixture
async def agents(services: Scope, platform: Platform, nats: EmbeddedNats) -> AsyncIterator[Agents]:
    def start(databases: DatabaseFactory) -> AbstractAsyncContextManager[Agents]:
        return in_process_agents(platform, databases, nats.url)

    async with services.service("agents", start) as running:
        yield running


@pytest.fixture
async def files(services: Scope, nats: EmbeddedNats, s3: EmbeddedS3) -> AsyncIterator[Files]:
    def start(databases: DatabaseFactory) -> AbstractAsyncContextManager[Files]:
        return in_process_files(databases, nats.url, s3)

    async with services.service("files", start) as running:
        yield running


@pytest.fixture
async def runners(services: Scope, agents: Agents, nats: EmbeddedNats) -> AsyncIterator[Runners]:
    def start(databases: DatabaseFactory) -> AbstractAsyncContextManager[Runners]:
        return in_process_runners(agents, databases, nats.url)

    async with services.service("runners", start) as running:
        yield running


@pytest.fixture
async def tracing(
    services: Scope, agents: Agents, threads: Threads, nats: EmbeddedNats
) -> AsyncIterator[Tracing]:
    def start(databases: DatabaseFactory) -> AbstractAsyncContextManager[Tracing]:
        return in_process_tracing(agents, threads, databases, nats.url)

    async with services.service("tracing", start) as running:
        yield running


@pytest.fixture
def tracing_with(
    agents: Agents, threads: Threads, database_factory: DatabaseFactory, nats: EmbeddedNats
) -> Callable[..., AbstractAsyncContextManager[Tracing]]:
    """Tracing of the test's own, on a database of its own, with other settings:
    `async with tracing_with(run_events_buffer_size=2)`."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[Tracing]:
        return in_process_tracing(agents, threads, database_factory, nats.url, **overrides)

    return start


@pytest.fixture
async def threads(
    services: Scope, platform: Platform, agents: Agents, files: Files, nats: EmbeddedNats
) -> AsyncIterator[Threads]:
    def start(databases: DatabaseFactory) -> AbstractAsyncContextManager[Threads]:
        return in_process_threads(
            platform, databases, nats.url, agents.service.address, files_address=files.address
        )

    async with services.service("threads", start) as running:
        yield running


@pytest.fixture
async def notifications(
    services: Scope,
    platform: Platform,
    agents: Agents,
    runners: Runners,
    tracing: Tracing,
    nats: EmbeddedNats,
) -> AsyncIterator[Notifications]:
    """Notifications asking Agents, Runners and Tracing whose agent, workload, volume and trace
    rooms are."""

    def start(databases: DatabaseFactory) -> AbstractAsyncContextManager[Notifications]:
        return in_process_notifications(
            platform,
            nats.url,
            agents.service.address,
            runners_address=runners.address,
            tracing_address=tracing.address,
        )

    async with services.service("notifications", start) as running:
        yield running


@pytest.fixture
def notifications_with(
    platform: Platform, nats: EmbeddedNats
) -> Callable[..., AbstractAsyncContextManager[Notifications]]:
    """Notifications of the test's own, with other settings:
    `async with notifications_with(stream_buffer_size=2)`; Agents is away unless
    `agents_address` is given, Runners and Tracing are not deployed unless `runners_address`
    and `tracing_address` are."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[Notifications]:
        return in_process_notifications(platform, nats.url, **overrides)

    return start


@pytest.fixture
async def gateway(
    services: Scope,
    platform: Platform,
    agents: Agents,
    threads: Threads,
    notifications: Notifications,
    files: Files,
    runners: Runners,
    chat: Chat,
    nats: EmbeddedNats,
) -> AsyncIterator[Gateway]:
    """The Gateway in front of every service."""

    def start(databases: DatabaseFactory) -> AbstractAsyncContextManager[Gateway]:
        return in_process_gateway(
            platform,
            nats.url,
            threads=threads,
            agents=agents,
            notifications=notifications,
            files=files,
            runners=runners,
            chat=chat,
        )

    async with services.service("gateway", start) as running:
        yield running


@pytest.fixture
async def chat(
    services: Scope, threads: Threads, runners: Runners, nats: EmbeddedNats
) -> AsyncIterator[Chat]:
    """Chat, its chats' activity asked of Runners."""

    def start(databases: DatabaseFactory) -> AbstractAsyncContextManager[Chat]:
        return in_process_chat(threads, databases, nats.url, runners_address=runners.address)

    async with services.service("chat", start) as running:
        yield running


@pytest.fixture
def chat_with(
    threads: Threads, database_factory: DatabaseFactory, nats: EmbeddedNats
) -> Callable[..., AbstractAsyncContextManager[Chat]]:
    """Chat of the test's own, on a database of its own, with other settings:
    `async with chat_with(runners_address=...)`; activity is not tracked without one."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[Chat]:
        return in_process_chat(threads, database_factory, nats.url, **overrides)

    return start


@pytest.fixture
def gateway_with(
    platform: Platform, threads: Threads, nats: EmbeddedNats
) -> Callable[..., AbstractAsyncContextManager[Gateway]]:
    """A Gateway of the test's own, with other settings: `async with gateway_with(oidc_issuer_url=...)`."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[Gateway]:
        return in_process_gateway(platform, nats.url, threads=threads, **overrides)

    return start


@pytest.fixture
def issuer() -> Iterator[OidcIssuer]:
    running = start_issuer()
    yield running
    running.server.shutdown()
