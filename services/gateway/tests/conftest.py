"""Fixtures: the Gateway in-process in front of every service, and a test OIDC issuer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from agyn_testkit.gateway import Gateway, OidcIssuer, in_process_gateway, start_issuer
from agyn_testkit.notifications import in_process_notifications
from agyn_testkit.threads import Threads, in_process_threads


@pytest.fixture
async def threads(platform, database_factory, nats) -> AsyncIterator[Threads]:
    async with in_process_threads(platform, database_factory, nats.url) as running:
        yield running


@pytest.fixture
def gateway_with(platform, nats, threads) -> Callable[..., AbstractAsyncContextManager[Gateway]]:
    """The Gateway with other settings: `async with gateway_with(oidc_issuer_url=...)`."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[Gateway]:
        return in_process_gateway(platform, nats.url, threads=threads, **overrides)

    return start


@pytest.fixture
async def gateway(platform, nats, threads) -> AsyncIterator[Gateway]:
    async with (
        in_process_notifications(platform, nats.url) as notifications,
        in_process_gateway(platform, nats.url, threads=threads, notifications=notifications) as running,
    ):
        yield running


@pytest.fixture
def issuer() -> Iterator[OidcIssuer]:
    running = start_issuer()
    yield running
    running.server.shutdown()
