"""How a test speaks to a service: the callers' metadata and the check of a failed call."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable
from typing import Any

import grpc
import pytest


def metadata(
    identity: uuid.UUID | str | None = None,
    caller: str | None = "gateway",
    identity_type: str = "user",
    **extra: str,
) -> tuple[tuple[str, str], ...]:
    """Call metadata as the Gateway (or `caller`) would send it in local mode."""
    pairs: list[tuple[str, str]] = []
    if caller is not None:
        pairs.append(("x-agyn-caller", caller))
    if identity is not None:
        pairs.append(("x-identity-id", str(identity)))
        pairs.append(("x-identity-type", identity_type))
    pairs.extend((key.replace("_", "-"), value) for key, value in extra.items())
    return tuple(pairs)


async def expect_error(call: Awaitable[Any], code: grpc.StatusCode, *fragments: str) -> grpc.aio.AioRpcError:
    """Await `call`, which must fail with `code` and a message containing every fragment."""
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    assert failure.value.code() == code, failure.value.details()
    for fragment in fragments:
        assert fragment in (failure.value.details() or ""), failure.value.details()
    return failure.value
