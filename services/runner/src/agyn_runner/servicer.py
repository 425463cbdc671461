"""RunnerService: one method per RPC, over `Workloads`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TypeAlias

import grpc
from agyn_common.errors import ServiceError, invalid_argument
from agynio.api.runner.v1 import runner_pb2 as pb
from agynio.api.runner.v1 import runner_pb2_grpc
from google.protobuf.timestamp_pb2 import Timestamp

from agyn_runner import archives, spec
from agyn_runner.events import Events, FellBehind
from agyn_runner.stopping import DaemonStopping
from agyn_runner.workloads import Workload, Workloads

Context: TypeAlias = grpc.aio.ServicerContext
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE
EXEC_READ_SECONDS = 1.0


def unimplemented(method: str, why: str) -> ServiceError:
    return ServiceError(grpc.StatusCode.UNIMPLEMENTED, f"{method} is not implemented by this runner: {why}")


def start_response(workload: Workload) -> pb.StartWorkloadResponse:
    state = workload.state
    main = next(container for container in state.containers if container.role == "main")
    response = pb.StartWorkloadResponse(
        id=state.id,
        containers=pb.WorkloadContainers(
            main=main.id,
            sidecars=[
                pb.SidecarInstance(
                    name=container.name,
                    id=container.id,
                    status="running" if container.pid and not container.finished_at else "exited",
                )
                for container in state.containers
                if container.role == "sidecar"
            ],
        ),
        # Its processes started: RUNNING, even when a quick one has ended already (Inspect tells).
        status=pb.WORKLOAD_STATUS_FAILED if state.failure_code else pb.WORKLOAD_STATUS_RUNNING,
    )
    if state.failure_code:
        response.failure.CopyFrom(pb.WorkloadFailure(code=state.failure_code, message=state.failure_message))
    return response


class RunnerServicer(runner_pb2_grpc.RunnerServiceServicer):
    def __init__(self, workloads: Workloads, events: Events) -> None:
        self.workloads = workloads
        self.events = events

    async def Ready(self, request: pb.ReadyRequest, context: Context) -> pb.ReadyResponse:
        await self.workloads.loaded.wait()
        return pb.ReadyResponse(status="ok")

    async def StartWorkload(
        self, request: pb.StartWorkloadRequest, context: Context
    ) -> pb.StartWorkloadResponse:
        plan = spec.plan(request, self.workloads.allowed)
        await self.workloads.loaded.wait()
        return start_response(await self.workloads.start(plan))

    async def StopWorkload(
        self, request: pb.StopWorkloadRequest, context: Context
    ) -> pb.StopWorkloadResponse:
        await self.workloads.loaded.wait()
        await self.workloads.stop(request.workload_id, request.timeout_sec or None)
        return pb.StopWorkloadResponse()

    async def RemoveWorkload(
        self, request: pb.RemoveWorkloadRequest, context: Context
    ) -> pb.RemoveWorkloadResponse:
        await self.workloads.loaded.wait()
        await self.workloads.remove(request.workload_id, request.force)
        return pb.RemoveWorkloadResponse()

    async def InspectWorkload(
        self, request: pb.InspectWorkloadRequest, context: Context
    ) -> pb.InspectWorkloadResponse:
        await self.workloads.loaded.wait()
        state = self.workloads.get(request.workload_id).state
        return pb.InspectWorkloadResponse(
            id=state.id,
            name=state.name,
            image=state.image,
            config_image=state.image,
            config_labels=state.labels,
            mounts=[
                pb.TargetMount(
                    type="volume" if mount.named else "ephemeral",
                    source=mount.source,
                    destination=mount.destination,
                    read_only=mount.read_only,
                )
                for mount in state.mounts
            ],
            state_status="running" if state.running else "exited",
            state_running=state.running,
        )

    async def GetWorkloadLabels(
        self, request: pb.GetWorkloadLabelsRequest, context: Context
    ) -> pb.GetWorkloadLabelsResponse:
        await self.workloads.loaded.wait()
        return pb.GetWorkloadLabelsResponse(labels=self.workloads.get(request.workload_id).state.labels)

    async def ListWorkloads(
        self, request: pb.ListWorkloadsRequest, context: Context
    ) -> pb.ListWorkloadsResponse:
        await self.workloads.loaded.wait()
        return pb.ListWorkloadsResponse(
            workloads=[
                pb.WorkloadListItem(instance_id=state.id, workload_key=state.workload_key)
                for state in self.workloads.all()
            ]
        )

    async def FindWorkloadsByLabels(
        self, request: pb.FindWorkloadsByLabelsRequest, context: Context
    ) -> pb.FindWorkloadsByLabelsResponse:
        await self.workloads.loaded.wait()
        wanted = dict(request.labels).items()
        return pb.FindWorkloadsByLabelsResponse(
            target_ids=[
                state.id
                for state in self.workloads.all()
                if wanted <= state.labels.items() and (request.all or state.running)
            ]
        )

    async def ListWorkloadsByVolume(
        self, request: pb.ListWorkloadsByVolumeRequest, context: Context
    ) -> pb.ListWorkloadsByVolumeResponse:
        await self.workloads.loaded.wait()
        return pb.ListWorkloadsByVolumeResponse(
            target_ids=[state.id for state in self.workloads.using(request.volume_name)]
        )

    async def ListVolumes(self, request: pb.ListVolumesRequest, context: Context) -> pb.ListVolumesResponse:
        volumes = await asyncio.to_thread(self.workloads.named_volumes.listed)
        return pb.ListVolumesResponse(
            volumes=[pb.VolumeListItem(instance_id=name, volume_key=key) for name, key in volumes]
        )

    async def RemoveVolume(
        self, request: pb.RemoveVolumeRequest, context: Context
    ) -> pb.RemoveVolumeResponse:
        await self.workloads.loaded.wait()
        await self.workloads.remove_volume(request.volume_name, request.force)
        return pb.RemoveVolumeResponse()

    async def TouchWorkload(
        self, request: pb.TouchWorkloadRequest, context: Context
    ) -> pb.TouchWorkloadResponse:
        await self.workloads.loaded.wait()
        self.workloads.get(request.workload_id)  # processes have no idle timer to reset
        return pb.TouchWorkloadResponse()

    async def PutArchive(self, request: pb.PutArchiveRequest, context: Context) -> pb.PutArchiveResponse:
        await self.workloads.loaded.wait()
        await archives.unpack(self.workloads.get(request.workload_id).root, request.path, request.tar_payload)
        return pb.PutArchiveResponse()

    async def StreamWorkloadLogs(
        self, request: pb.StreamWorkloadLogsRequest, context: Context
    ) -> AsyncIterator[pb.StreamWorkloadLogsResponse]:
        if not request.container_name:
            raise invalid_argument("container_name", "the container whose logs to stream is required")
        await self.workloads.loaded.wait()
        container_log = self.workloads.log_of(request.workload_id, request.container_name)
        # The deprecated fields count only when their successors are unset.
        tail = request.tail_lines or request.tail
        since_ns = (
            request.since_time.ToNanoseconds() if request.HasField("since_time") else request.since * 10**9
        )
        try:
            async for record in container_log.read(tail, since_ns, request.follow, self.workloads.stopping):
                ts = Timestamp()
                ts.FromNanoseconds(record.ts_ns)
                yield pb.StreamWorkloadLogsResponse(chunk=pb.LogChunk(data=record.data, ts=ts))
        except DaemonStopping:
            raise ServiceError(UNAVAILABLE, "the runner is stopping; reopen the stream") from None

    async def StreamEvents(
        self, request: pb.StreamEventsRequest, context: Context
    ) -> AsyncIterator[pb.StreamEventsResponse]:
        filters = [(item.key, list(item.values)) for item in request.filters]
        try:
            async for text, seconds in self.events.follow(request.since, filters, self.workloads.stopping):
                ts = Timestamp()
                ts.FromNanoseconds(int(seconds * 10**9))
                yield pb.StreamEventsResponse(data=pb.RunnerEventData(json=text, ts=ts))
        except DaemonStopping:
            raise ServiceError(UNAVAILABLE, "the runner is stopping; reopen the stream") from None
        except FellBehind:
            raise ServiceError(
                UNAVAILABLE, "the stream fell too far behind; reopen it with `since`"
            ) from None

    async def Exec(
        self, request_iterator: AsyncIterator[pb.ExecRequest], context: Context
    ) -> AsyncIterator[pb.ExecResponse]:
        # What the client sends is read (for a moment) before the answer: a call that ends
        # while the client is still sending may reach it as INTERNAL (RST_STREAM), not as why.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(EXEC_READ_SECONDS):
                async for _ in request_iterator:
                    pass
        raise unimplemented("Exec", "workloads are local processes; run commands through a sidecar")
        yield  # a response stream, as the pipeline expects of it

    async def CancelExecution(
        self, request: pb.CancelExecutionRequest, context: Context
    ) -> pb.CancelExecutionResponse:
        raise unimplemented("CancelExecution", "it has no executions (Exec is not implemented)")
