"""Fixtures: Notifications in-process, with Users and Organizations (the `platform` fixture)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from agyn_testkit.notifications import Notifications, in_process_notifications


@pytest.fixture
async def notifications(platform, nats) -> AsyncIterator[Notifications]:
    async with in_process_notifications(platform, nats.url) as running:
        yield running


@pytest.fixture
def notifications_with(platform, nats) -> Callable[..., AbstractAsyncContextManager[Notifications]]:
    """Notifications with other settings: `async with notifications_with(stream_buffer_size=2)`."""

    def start(**overrides: Any) -> AbstractAsyncContextManager[Notifications]:
        return in_process_notifications(platform, nats.url, **overrides)

    return start
