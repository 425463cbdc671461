"""The orchestrator's creates honour `idempotency-key` (DESIGN §6): a retry after a lost answer
returns the first answer instead of ALREADY_EXISTS; the key with another request is refused."""

from __future__ import annotations

import uuid

import grpc
import pytest
from agyn_inprocess.runners import volume_request, workload_request
from agyn_testkit.calls import expect_error, metadata


@pytest.mark.parametrize(
    ("method", "request_of"), [("CreateWorkload", workload_request), ("CreateVolume", volume_request)]
)
async def test_a_retried_create_returns_the_first_answer(runners, cast, method, request_of):
    create = getattr(runners.stub, method)
    keyed = metadata(caller="agents-orchestrator", idempotency_key=f"k-{uuid.uuid4()}")
    request = request_of(cast)
    first, again = await create(request, metadata=keyed), await create(request, metadata=keyed)
    assert first == again
    await expect_error(create(request_of(cast), metadata=keyed), grpc.StatusCode.FAILED_PRECONDITION)
