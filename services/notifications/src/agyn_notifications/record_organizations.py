"""The organization of a room's record, asked of the service that keeps the record: Runners for
workload and volume rooms (runners sheet §5, §8 #20), Tracing for trace rooms (files-tracing
B.8-8).

Asked without an identity (a platform call the owner admits for Notifications). A record's
organization never changes once set, so an answer is kept without following the bus; a record
the owner does not know (NOT_FOUND: a trace none of whose spans has an organization yet) is
not kept.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

import grpc
from agyn_common.cache import TtlCache
from agyn_common.errors import dependency_unavailable
from agynio.api.runners.v1 import runners_pb2, runners_pb2_grpc
from agynio.api.tracing.v1 import access_pb2, access_pb2_grpc

K = TypeVar("K", bound=Hashable)


class RecordOrganizations(Generic[K]):
    def __init__(
        self,
        owner: str,
        ask: Callable[[K], Awaitable[str]],
        *,
        ttl: float = 60.0,
        max_entries: int = 10_000,
    ) -> None:
        self._owner = owner  # the service asked, as UNAVAILABLE names it
        self._ask = ask
        self._organizations: TtlCache[K, uuid.UUID] = TtlCache(ttl=ttl, max_entries=max_entries)

    async def organization_of(self, record: K) -> uuid.UUID | None:
        """The record's organization; None when there is none."""
        cached = self._organizations.get(record)
        if cached is not None:
            return cached
        generation = self._organizations.generation
        try:
            organization = await self._ask(record)
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise dependency_unavailable(self._owner, error) from error
        try:
            found = uuid.UUID(organization)
        except ValueError:
            return None  # not one of ours: a platform producer's own attribution of a trace
        self._organizations.put(record, found, generation)
        return found


RunnerRecord = tuple[str, uuid.UUID]  # ("workload" or "volume", its id)


def runner_records(channel: grpc.aio.Channel) -> RecordOrganizations[RunnerRecord]:
    runners = runners_pb2_grpc.RunnersServiceStub(channel)

    async def ask(record: RunnerRecord) -> str:
        kind, record_id = record
        if kind == "workload":
            workload: runners_pb2.GetWorkloadResponse = await runners.GetWorkload(
                runners_pb2.GetWorkloadRequest(id=str(record_id))
            )
            return workload.workload.organization_id
        volume: runners_pb2.GetVolumeResponse = await runners.GetVolume(
            runners_pb2.GetVolumeRequest(id=str(record_id))
        )
        return volume.volume.organization_id

    return RecordOrganizations("runners", ask)


def trace_records(channel: grpc.aio.Channel) -> RecordOrganizations[bytes]:
    """Keyed by the 16-byte trace id."""
    tracing = access_pb2_grpc.TraceAccessServiceStub(channel)

    async def ask(trace_id: bytes) -> str:
        reply: access_pb2.GetTraceOrganizationResponse = await tracing.GetTraceOrganization(
            access_pb2.GetTraceOrganizationRequest(trace_id=trace_id)
        )
        return reply.organization_id

    return RecordOrganizations("tracing", ask)
