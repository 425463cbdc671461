"""One export of spans, whichever transport brought it (OTLP/gRPC `Export`, OTLP/HTTP
`POST /v1/traces`): files-tracing B.3.2 from the caller's credential to the response."""

from __future__ import annotations

from agyn_common.caller import Metadata
from agyn_common.db import Database
from agyn_common.errors import unauthenticated
from agyn_common.outbox import Outbox
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from agyn_tracing import events, ingest
from agyn_tracing.attribution import ExporterResolver, bearer
from agyn_tracing.threads import ThreadChecks


class Intake:
    def __init__(
        self, db: Database, outbox: Outbox, exporters: ExporterResolver, threads: ThreadChecks
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._exporters = exporters
        self._threads = threads

    async def export(
        self,
        request: trace_service_pb2.ExportTraceServiceRequest,
        metadata: Metadata,
        workload: str | None,
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        """Store the request's spans as `workload` (the calling workload the access check saw,
        None when it names none) sent them, with the credential in `metadata` if any."""
        credential = bearer(metadata)
        if credential is not None:
            exporter = await self._exporters.resolve(credential)
        elif workload is not None:
            exporter = None  # a platform producer keeps the attribution it asserts (B.8-3)
        else:
            raise unauthenticated("a workload credential is required")
        ingest.attribute_resources(request, exporter)
        asserted = ingest.asserted_threads(request)
        if exporter is not None:  # a platform producer's threads are its own word (B.8-3)
            await self._threads.verify(exporter.identity_id, asserted)
        columns, rejected = ingest.rows(request)
        async with self._db.transaction() as connection:
            upserted = await ingest.upsert(connection, columns)
            await events.spans_upserted(self._outbox, connection, upserted)
        response = trace_service_pb2.ExportTraceServiceResponse()
        if rejected:
            response.partial_success.rejected_spans = rejected
            response.partial_success.error_message = f"rejected {rejected} spans"
        return response
