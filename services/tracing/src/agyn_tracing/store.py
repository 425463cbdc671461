"""Queries of the span store (files-tracing B.3.4 to B.3.6)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from agyn_common.errors import invalid_argument
from agynio.api.tracing.v1 import tracing_pb2 as pb
from sqlalchemy.ext.asyncio import AsyncConnection

from agyn_tracing.convert import ERROR, OK, RUNNING, STATUS_ERROR
from agyn_tracing.models import spans

INT64_MAX = 2**63 - 1
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
MAX_NAMES = 100
ORDERS = (pb.LIST_SPANS_ORDER_BY_START_TIME_DESC, pb.LIST_SPANS_ORDER_BY_START_TIME_ASC)
STATUS_KEYS = {RUNNING: "SPAN_STATUS_RUNNING", OK: "SPAN_STATUS_OK", ERROR: "SPAN_STATUS_ERROR"}


def status_condition(status: int) -> sa.ColumnElement[bool]:
    """The rows whose derived status (B.3.1) is `status`."""
    errored = spans.c.status_code == STATUS_ERROR
    if status == ERROR:
        return errored
    ended = spans.c.end_time_unix_nano != 0
    return sa.and_(~errored, ended if status == OK else ~ended)


def check_statuses(statuses: Sequence[int], field: str) -> list[int]:
    for index, status in enumerate(statuses):
        if status not in STATUS_KEYS:
            raise invalid_argument(f"{field}[{index}]", "must be RUNNING, OK or ERROR")
    return list(dict.fromkeys(statuses))


def check_names(names: Sequence[str], field: str) -> list[str]:
    if len(names) > MAX_NAMES:
        raise invalid_argument(field, f"at most {MAX_NAMES} names")
    return list(dict.fromkeys(names))


def check_trace_id(trace_id: bytes, field: str = "trace_id") -> bytes:
    if len(trace_id) != 16:
        raise invalid_argument(field, "must be 16 bytes")
    return trace_id


@dataclass(frozen=True)
class Cursor:
    order_by: int
    start_time_unix_nano: int
    trace_id: bytes
    span_id: bytes

    def encode(self) -> str:
        data = {
            "order_by": self.order_by,
            "start_time_unix_nano": self.start_time_unix_nano,
            "trace_id": self.trace_id.hex(),
            "span_id": self.span_id.hex(),
        }
        return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            cursor = cls(
                int(data["order_by"]),
                int(data["start_time_unix_nano"]),
                bytes.fromhex(data["trace_id"]),
                bytes.fromhex(data["span_id"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
            raise invalid_argument("page_token", "malformed page token") from None
        if cursor.order_by not in ORDERS or not 0 <= cursor.start_time_unix_nano <= INT64_MAX:
            raise invalid_argument("page_token", "malformed page token")
        return cursor


@dataclass(frozen=True)
class SpanPage:
    """A ListSpans request, checked: its statement (page_size + 1 rows) and what the next
    page's token needs."""

    query: sa.Select[Any]
    page_size: int
    order_by: int


def list_query(request: pb.ListSpansRequest, organization_id: str) -> SpanPage:
    """The ListSpans page; INVALID_ARGUMENT naming the first bad field."""
    f = request.filter
    if f.trace_id:
        check_trace_id(f.trace_id, "filter.trace_id")
    if f.parent_span_id and len(f.parent_span_id) != 8:
        raise invalid_argument("filter.parent_span_id", "must be 8 bytes")
    for name in ("start_time_min", "start_time_max"):
        if getattr(f, name) > INT64_MAX:
            raise invalid_argument(f"filter.{name}", "above the int64 maximum")
    statuses = check_statuses(f.statuses, "filter.statuses")
    names = check_names(f.names, "filter.names")
    if request.order_by not in (pb.LIST_SPANS_ORDER_BY_UNSPECIFIED, *ORDERS):
        raise invalid_argument("order_by", "unknown ordering")
    order_by: int = request.order_by
    cursor = Cursor.decode(request.page_token) if request.page_token else None
    if cursor is not None:
        if order_by not in (pb.LIST_SPANS_ORDER_BY_UNSPECIFIED, cursor.order_by):
            raise invalid_argument("page_token", "the token was made for another order_by")
        order_by = cursor.order_by
    if order_by == pb.LIST_SPANS_ORDER_BY_UNSPECIFIED:
        order_by = pb.LIST_SPANS_ORDER_BY_START_TIME_DESC
    page_size = DEFAULT_PAGE_SIZE if request.page_size <= 0 else min(request.page_size, MAX_PAGE_SIZE)

    c = spans.c
    conditions: list[sa.ColumnElement[bool]] = [c.organization_id == organization_id]
    if f.trace_id:
        conditions.append(c.trace_id == f.trace_id)
    if f.parent_span_id:
        conditions.append(c.parent_span_id == f.parent_span_id)
    if names:
        conditions.append(c.name.in_(names))
    elif f.name:
        conditions.append(c.name == f.name)
    if f.kind:
        conditions.append(c.kind == f.kind)
    if f.start_time_min:
        conditions.append(c.start_time_unix_nano >= f.start_time_min)
    if f.start_time_max:
        conditions.append(c.start_time_unix_nano <= f.start_time_max)
    if statuses:
        conditions.append(sa.or_(*(status_condition(status) for status in statuses)))
    elif f.HasField("in_progress"):
        conditions.append((c.end_time_unix_nano == 0) if f.in_progress else (c.end_time_unix_nano != 0))
    if f.message_id:
        conditions.append(c.message_id == f.message_id)
    key = sa.tuple_(c.start_time_unix_nano, c.trace_id, c.span_id)
    descending = order_by == pb.LIST_SPANS_ORDER_BY_START_TIME_DESC
    if cursor is not None:
        last = sa.tuple_(
            sa.literal(cursor.start_time_unix_nano, sa.BigInteger),
            sa.literal(cursor.trace_id, sa.LargeBinary),
            sa.literal(cursor.span_id, sa.LargeBinary),
        )
        conditions.append(key < last if descending else key > last)
    columns = (c.start_time_unix_nano, c.trace_id, c.span_id)
    ordering = [column.desc() if descending else column.asc() for column in columns]
    query = sa.select(spans).where(*conditions).order_by(*ordering).limit(page_size + 1)
    return SpanPage(query, page_size, order_by)


async def list_spans(connection: AsyncConnection, page: SpanPage) -> tuple[Sequence[Any], str]:
    rows = (await connection.execute(page.query)).all()
    if len(rows) <= page.page_size:
        return rows, ""
    last = rows[page.page_size - 1]
    token = Cursor(page.order_by, last.start_time_unix_nano, last.trace_id, last.span_id).encode()
    return rows[: page.page_size], token


async def get_span(connection: AsyncConnection, trace_id: bytes, span_id: bytes) -> Any:
    query = sa.select(spans).where(spans.c.trace_id == trace_id, spans.c.span_id == span_id)
    return (await connection.execute(query)).first()


async def trace_organizations(connection: AsyncConnection, trace_id: bytes) -> tuple[bool, list[str]]:
    """Whether the trace has spans, and the organizations its spans belong to."""
    query = (
        sa.select(spans.c.organization_id)
        .where(spans.c.trace_id == trace_id)
        .group_by(spans.c.organization_id)
        .order_by(spans.c.organization_id)
    )
    found = [row.organization_id for row in await connection.execute(query)]
    return bool(found), [organization for organization in found if organization is not None]


def _in_trace(trace_id: bytes, organizations: Sequence[str]) -> list[sa.ColumnElement[bool]]:
    return [spans.c.trace_id == trace_id, spans.c.organization_id.in_(list(organizations))]


async def trace_spans(
    connection: AsyncConnection, trace_id: bytes, organizations: Sequence[str]
) -> Sequence[Any]:
    query = (
        sa.select(spans)
        .where(*_in_trace(trace_id, organizations))
        .order_by(spans.c.start_time_unix_nano, spans.c.span_id)
    )
    return (await connection.execute(query)).all()


@dataclass(frozen=True)
class Summary:
    """What GetTraceSummary and a run's RunSummary report of a set of spans (B.3.6)."""

    status: int
    first_span_start_time: int
    last_span_start_time: int
    last_span_end_time: int
    counts_by_name: dict[str, int]
    counts_by_status: dict[str, int]
    total_spans: int


def trace_status(counts_by_status: dict[str, int]) -> int:
    if counts_by_status["SPAN_STATUS_RUNNING"]:
        return pb.TRACE_STATUS_RUNNING
    if counts_by_status["SPAN_STATUS_ERROR"]:
        return pb.TRACE_STATUS_ERROR
    return pb.TRACE_STATUS_COMPLETED


async def summarize(connection: AsyncConnection, where: Sequence[sa.ColumnElement[bool]]) -> Summary:
    c = spans.c
    counts = {status: sa.func.count().filter(status_condition(status)) for status in STATUS_KEYS}
    totals = (
        await connection.execute(
            sa.select(
                sa.func.min(c.start_time_unix_nano).label("first"),
                sa.func.max(c.start_time_unix_nano).label("last"),
                sa.func.max(c.end_time_unix_nano).label("ended"),
                sa.func.count().label("total"),
                *(count.label(STATUS_KEYS[status]) for status, count in counts.items()),
            ).where(*where)
        )
    ).one()
    by_name = await connection.execute(
        sa.select(c.name, sa.func.count().label("n")).where(*where).group_by(c.name)
    )
    by_status = {key: int(getattr(totals, key)) for key in STATUS_KEYS.values()}
    return Summary(
        status=trace_status(by_status),
        first_span_start_time=totals.first or 0,
        last_span_start_time=totals.last or 0,
        last_span_end_time=totals.ended or 0,
        counts_by_name={row.name: row.n for row in by_name},
        counts_by_status=by_status,
        total_spans=totals.total,
    )


async def summary(
    connection: AsyncConnection, trace_id: bytes, organizations: Sequence[str]
) -> pb.GetTraceSummaryResponse:
    found = await summarize(connection, _in_trace(trace_id, organizations))
    return pb.GetTraceSummaryResponse(trace_id=trace_id, **vars(found))


_TOKEN_SUMS = [
    sa.func.coalesce(sa.func.sum(column), 0).label(column.name)
    for column in (
        spans.c.input_tokens,
        spans.c.output_tokens,
        spans.c.cache_read_input_tokens,
        spans.c.reasoning_tokens,
    )
]


def _usage(row: Any) -> pb.TokenUsageTotals:
    return pb.TokenUsageTotals(
        input_tokens=int(row.input_tokens),
        output_tokens=int(row.output_tokens),
        cache_read_input_tokens=int(row.cache_read_input_tokens),
        reasoning_tokens=int(row.reasoning_tokens),
        total_tokens=int(row.input_tokens) + int(row.output_tokens),
    )


async def span_totals(
    connection: AsyncConnection,
    trace_id: bytes,
    organizations: Sequence[str],
    names: Sequence[str],
    statuses: Sequence[int],
) -> pb.GetTraceSpanTotalsResponse:
    c = spans.c
    where = _in_trace(trace_id, organizations)
    if names:
        where.append(c.name.in_(list(names)))
    if statuses:
        where.append(sa.or_(*(status_condition(status) for status in statuses)))
    row = (await connection.execute(sa.select(sa.func.count().label("n"), *_TOKEN_SUMS).where(*where))).one()
    return pb.GetTraceSpanTotalsResponse(span_count=row.n, token_usage=_usage(row))


# A run (B.9): the spans of one organization in one trace, or with one agyn.workload.id.
RunKey = tuple[int, bytes, bytes]  # (start_time_unix_nano, trace_id, span_id), the replay order


def in_run(
    organization_id: str, trace_id: bytes | None, workload_id: str | None
) -> list[sa.ColumnElement[bool]]:
    selected = spans.c.trace_id == trace_id if trace_id is not None else spans.c.workload_id == workload_id
    return [spans.c.organization_id == organization_id, selected]


async def run_page(
    connection: AsyncConnection, run: Sequence[sa.ColumnElement[bool]], after: RunKey | None, limit: int
) -> Sequence[Any]:
    """The run's spans after `after`, in replay order, at most `limit`."""
    c = spans.c
    where = list(run)
    if after is not None:
        last = sa.tuple_(
            sa.literal(after[0], sa.BigInteger),
            sa.literal(after[1], sa.LargeBinary),
            sa.literal(after[2], sa.LargeBinary),
        )
        where.append(sa.tuple_(c.start_time_unix_nano, c.trace_id, c.span_id) > last)
    query = (
        sa.select(spans).where(*where).order_by(c.start_time_unix_nano, c.trace_id, c.span_id).limit(limit)
    )
    return (await connection.execute(query)).all()


async def run_spans_by_key(
    connection: AsyncConnection, run: Sequence[sa.ColumnElement[bool]], keys: Sequence[tuple[bytes, bytes]]
) -> Sequence[Any]:
    """The current rows of these (trace_id, span_id) keys that belong to the run."""
    if not keys:
        return []
    wanted = sa.tuple_(spans.c.trace_id, spans.c.span_id).in_(
        [sa.tuple_(sa.literal(t, sa.LargeBinary), sa.literal(s, sa.LargeBinary)) for t, s in keys]
    )
    return (await connection.execute(sa.select(spans).where(*run, wanted))).all()


async def run_summary(connection: AsyncConnection, run: Sequence[sa.ColumnElement[bool]]) -> pb.RunSummary:
    found = await summarize(connection, run)
    usage = (await connection.execute(sa.select(*_TOKEN_SUMS).where(*run))).one()
    trace_ids = await connection.execute(
        sa.select(spans.c.trace_id).where(*run).group_by(spans.c.trace_id).order_by(spans.c.trace_id)
    )
    return pb.RunSummary(
        **vars(found), token_usage=_usage(usage), trace_ids=[row.trace_id for row in trace_ids]
    )
