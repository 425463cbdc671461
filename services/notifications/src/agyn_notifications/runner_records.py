"""The organization of a workload or volume room, as Runners records it (runners sheet §5, §8 #20).

Asked without an identity (a platform call Runners admits for Notifications). A record's
organization never changes, so an answer is kept without following the bus.
"""

from __future__ import annotations

import uuid

import grpc
from agyn_common.cache import TtlCache
from agyn_common.errors import dependency_unavailable
from agynio.api.runners.v1 import runners_pb2, runners_pb2_grpc


class RunnerRecords:
    def __init__(self, channel: grpc.aio.Channel, *, ttl: float = 60.0, max_entries: int = 10_000) -> None:
        self._runners = runners_pb2_grpc.RunnersServiceStub(channel)
        self._organizations: TtlCache[tuple[str, uuid.UUID], uuid.UUID] = TtlCache(
            ttl=ttl, max_entries=max_entries
        )

    async def organization_of(self, kind: str, record_id: uuid.UUID) -> uuid.UUID | None:
        """The organization of the `kind` ("workload" or "volume") record; None when there is none."""
        cached = self._organizations.get((kind, record_id))
        if cached is not None:
            return cached
        generation = self._organizations.generation
        try:
            if kind == "workload":
                workload = await self._runners.GetWorkload(runners_pb2.GetWorkloadRequest(id=str(record_id)))
                organization = workload.workload.organization_id
            else:
                volume = await self._runners.GetVolume(runners_pb2.GetVolumeRequest(id=str(record_id)))
                organization = volume.volume.organization_id
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise dependency_unavailable("runners", error) from error
        found = uuid.UUID(organization)
        self._organizations.put((kind, record_id), found, generation)
        return found
