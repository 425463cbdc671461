"""TracingService, TraceAccessService and OTLP TraceService: one thin method per RPC."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator

import grpc
from agyn_common.access import calling_workload
from agyn_common.caller import current_caller
from agyn_common.db import Database
from agyn_common.errors import invalid_argument, not_found, permission_denied
from agyn_common.org_access import OrganizationAccess
from agyn_common.validation import parse_uuid
from agynio.api.tracing.v1 import access_pb2, access_pb2_grpc, tracing_pb2_grpc
from agynio.api.tracing.v1 import tracing_pb2 as pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from agyn_tracing import store
from agyn_tracing.convert import resource_spans
from agyn_tracing.intake import Intake
from agyn_tracing.run_events import Run, RunEventHub, stream_run_events

log = logging.getLogger(__name__)
MEMBER = "member"


class TracingServicer(tracing_pb2_grpc.TracingServiceServicer):
    def __init__(
        self, db: Database, organizations: OrganizationAccess, runs: RunEventHub, heartbeat_seconds: float
    ) -> None:
        self._db = db
        self._organizations = organizations
        self._runs = runs
        self._heartbeat_seconds = heartbeat_seconds

    async def _readable(self, trace_id: bytes, *, must_exist: bool) -> list[str]:
        """The trace's organizations the caller is a member of (B.4): NOT_FOUND before
        PERMISSION_DENIED; a trace with no spans is [] when it need not exist."""
        identity = current_caller().require_identity()
        async with self._db.read() as connection:
            exists, organizations = await store.trace_organizations(connection, trace_id)
        if not exists:
            if must_exist:
                raise not_found(f"trace {trace_id.hex()} not found")
            return []
        readable = [org for org in organizations if await self._member(identity, org)]
        if not readable:
            raise permission_denied(f"member of the organization of trace {trace_id.hex()} required")
        return readable

    async def _member(self, identity: uuid.UUID, organization_id: str) -> bool:
        try:
            organization = uuid.UUID(organization_id)
        except ValueError:
            return False  # asserted by a platform producer, no organization of ours
        return await self._organizations.check(identity, MEMBER, organization)

    async def ListSpans(
        self, request: pb.ListSpansRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListSpansResponse:
        identity = current_caller().require_identity()
        organization = parse_uuid(request.organization_id, "organization_id")
        page = store.list_query(request, str(organization))  # every argument checked before access
        await self._organizations.require(identity, MEMBER, organization)
        async with self._db.read() as connection:
            rows, token = await store.list_spans(connection, page)
        return pb.ListSpansResponse(resource_spans=resource_spans(rows), next_page_token=token)

    async def GetSpan(
        self, request: pb.GetSpanRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetSpanResponse:
        identity = current_caller().require_identity()
        store.check_trace_id(request.trace_id)
        if len(request.span_id) != 8:
            raise invalid_argument("span_id", "must be 8 bytes")
        async with self._db.read() as connection:
            row = await store.get_span(connection, request.trace_id, request.span_id)
        if row is None:
            raise not_found(f"span {request.span_id.hex()} not found")
        if row.organization_id is None or not await self._member(identity, row.organization_id):
            raise permission_denied("member of the span's organization required")
        return pb.GetSpanResponse(resource_spans=resource_spans([row]))

    async def GetTrace(
        self, request: pb.GetTraceRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetTraceResponse:
        trace_id = store.check_trace_id(request.trace_id)
        organizations = await self._readable(trace_id, must_exist=True)
        async with self._db.read() as connection:
            rows = await store.trace_spans(connection, trace_id, organizations)
        return pb.GetTraceResponse(resource_spans=resource_spans(rows))

    async def GetTraceSummary(
        self, request: pb.GetTraceSummaryRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetTraceSummaryResponse:
        trace_id = store.check_trace_id(request.trace_id)
        organizations = await self._readable(trace_id, must_exist=True)
        async with self._db.read() as connection:
            return await store.summary(connection, trace_id, organizations)

    async def GetTraceSpanTotals(
        self, request: pb.GetTraceSpanTotalsRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetTraceSpanTotalsResponse:
        trace_id = store.check_trace_id(request.trace_id)
        names = store.check_names(request.names, "names")
        statuses = store.check_statuses(request.statuses, "statuses")
        organizations = await self._readable(trace_id, must_exist=False)
        if not organizations:  # an unknown trace: zeros (upstream parity)
            return pb.GetTraceSpanTotalsResponse(token_usage=pb.TokenUsageTotals())
        async with self._db.read() as connection:
            return await store.span_totals(connection, trace_id, organizations, names, statuses)

    async def StreamRunEvents(
        self, request: pb.StreamRunEventsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[pb.StreamRunEventsResponse]:
        identity = current_caller().require_identity()
        run = Run.parse(request)
        await self._organizations.require(identity, MEMBER, uuid.UUID(run.organization_id))
        async for response in stream_run_events(self._db, self._runs, run, self._heartbeat_seconds):
            yield response


class TraceAccessServicer(access_pb2_grpc.TraceAccessServiceServicer):
    def __init__(self, db: Database) -> None:
        self._db = db

    async def GetTraceOrganization(
        self, request: access_pb2.GetTraceOrganizationRequest, context: grpc.aio.ServicerContext
    ) -> access_pb2.GetTraceOrganizationResponse:
        trace_id = store.check_trace_id(request.trace_id)
        async with self._db.read() as connection:
            _, organizations = await store.trace_organizations(connection, trace_id)
        if not organizations:
            raise not_found(f"no span of trace {trace_id.hex()} has an organization")
        return access_pb2.GetTraceOrganizationResponse(organization_id=organizations[0])


class OtlpTraceServicer(trace_service_pb2_grpc.TraceServiceServicer):
    def __init__(self, intake: Intake) -> None:
        self._intake = intake

    async def Export(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: grpc.aio.ServicerContext
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        return await self._intake.export(request, context.invocation_metadata() or (), calling_workload())
