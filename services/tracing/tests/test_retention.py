"""Retention (files-tracing B.8-4): the spans of a trace whose newest span is older than
RETENTION_DAYS are deleted, a trace with one recent span is kept whole, and sweepers racing on
one database delete each span once."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import sqlalchemy as sa
from agyn_common.metrics import Metrics
from agyn_common.settings import describe_errors
from agyn_inprocess.tracing import attr, export, span
from agyn_tracing.retention import Retention
from agyn_tracing.settings import TracingSettings
from pydantic import ValidationError

PRODUCER = (("x-agyn-caller", "egress-gateway"),)  # a platform producer: no credential needed
EXPIRED = "agyn_tracing_spans_expired_total"


async def traces_with_spans(tracing, count: int, spans: int) -> list[bytes]:
    organization = attr("agyn.organization.id", str(uuid.uuid4()))
    traces = [uuid.uuid4().bytes for _ in range(count)]
    for trace_id in traces:
        request = export([span(trace_id, n) for n in range(1, spans + 1)], organization)
        await tracing.otlp.Export(request, metadata=PRODUCER)
    return traces


async def age(tracing, trace_id: bytes, *span_numbers: int, days: int = 15) -> None:
    """Make the spans look last written `days` ago."""
    async with tracing.service.runtime.db.transaction() as connection:
        await connection.execute(
            sa.text(
                "UPDATE spans SET updated_at = now() - make_interval(days => :days)"
                " WHERE trace_id = :trace_id AND span_id = ANY(:span_ids)"
            ),
            {"days": days, "trace_id": trace_id, "span_ids": [n.to_bytes(8, "big") for n in span_numbers]},
        )


async def span_numbers(tracing, trace_id: bytes) -> list[int]:
    async with tracing.service.runtime.db.read() as connection:
        rows = await connection.execute(
            sa.text("SELECT span_id FROM spans WHERE trace_id = :trace_id ORDER BY span_id"),
            {"trace_id": trace_id},
        )
        return [int.from_bytes(row.span_id, "big") for row in rows]


def sweeper(tracing, metrics: Metrics, **options: int) -> Retention:
    return Retention(tracing.service.runtime.db, metrics, days=14, **options)


async def test_an_old_trace_goes_and_one_with_a_recent_span_stays_whole(tracing):
    old, mixed, fresh = await traces_with_spans(tracing, 3, spans=2)
    await age(tracing, old, 1, 2)
    await age(tracing, mixed, 1)  # its span 2 was written just now
    await age(tracing, fresh, 1, 2, days=13)
    metrics = Metrics()
    assert await sweeper(tracing, metrics).once() == 2
    assert [await span_numbers(tracing, trace_id) for trace_id in (old, mixed, fresh)] == [[], [1, 2], [1, 2]]
    assert metrics.registry.get_sample_value(EXPIRED) == 2
    assert await sweeper(tracing, Metrics()).once() == 0  # nothing more is due


async def test_sweepers_racing_delete_each_span_once(tracing):
    traces = await traces_with_spans(tracing, 6, spans=3)
    for trace_id in traces:
        await age(tracing, trace_id, 1, 2, 3)
    # A batch of one expired span: the sweepers take turns, many batches each.
    metrics = [Metrics(), Metrics()]
    deleted = await asyncio.gather(*(sweeper(tracing, each, batch=1).once() for each in metrics))
    assert sum(deleted) == 18
    assert sum(each.registry.get_sample_value(EXPIRED) or 0 for each in metrics) == 18
    assert [await span_numbers(tracing, trace_id) for trace_id in traces] == [[]] * 6


REQUIRED = {
    "database_url": "postgresql://localhost/tracing",
    "users_address": "users:50051",
    "agents_address": "agents:50051",
    "organizations_address": "organizations:50051",
    "threads_address": "threads:50051",
}


def test_retention_defaults_to_14_days_hourly(monkeypatch):
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    settings = TracingSettings(**REQUIRED)
    assert (settings.retention_days, settings.retention_sweep_interval) == (14, 3600)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RETENTION_DAYS", "0"),
        ("RETENTION_DAYS", "-3"),
        ("RETENTION_DAYS", "1.5"),
        ("RETENTION_DAYS", "forever"),
        ("RETENTION_SWEEP_INTERVAL", "0"),
    ],
)
def test_bad_retention_settings_are_refused_by_name(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        TracingSettings(**REQUIRED)
    assert describe_errors(refused.value).startswith(f"{name} ")
