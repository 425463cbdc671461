"""RunnersService (runners sheet §3; DESIGN §6): each of its 23 RPCs handed to its handler; and
WorkloadAccessService, our internal addition for Chat (DESIGN §2)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from agyn_common.caller import metadata_values
from agyn_common.errors import invalid_argument
from agynio.api.runner.v1 import runner_pb2
from agynio.api.runners.v1 import access_pb2, access_pb2_grpc, runners_pb2_grpc
from agynio.api.runners.v1 import runners_pb2 as pb

from agyn_runners.rpc.runners import RunnerHandlers
from agyn_runners.rpc.volumes import VolumeHandlers
from agyn_runners.rpc.workload_access import WorkloadAccessHandlers
from agyn_runners.rpc.workloads import WorkloadHandlers

RUNNER_ADDRESS_KEY = "x-runner-address"


class RunnersServicer(runners_pb2_grpc.RunnersServiceServicer):
    def __init__(self, runners: RunnerHandlers, workloads: WorkloadHandlers, volumes: VolumeHandlers) -> None:
        self._runners = runners
        self._workloads = workloads
        self._volumes = volumes

    async def EnrollRunner(
        self, request: pb.EnrollRunnerRequest, context: grpc.aio.ServicerContext
    ) -> pb.EnrollRunnerResponse:
        # Where the daemon serves RunnerService, when it says (DESIGN §3): metadata, not a field.
        addresses = metadata_values(context.invocation_metadata(), RUNNER_ADDRESS_KEY)
        if len(addresses) > 1:
            raise invalid_argument(RUNNER_ADDRESS_KEY, "give one address")
        return await self._runners.enroll(request, addresses[0] if addresses else None)

    async def StreamWorkloadLogs(
        self, request: runner_pb2.StreamWorkloadLogsRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[runner_pb2.StreamWorkloadLogsResponse]:
        async for message in self._workloads.stream_logs(request):
            yield message

    async def RegisterRunner(
        self, request: pb.RegisterRunnerRequest, context: grpc.aio.ServicerContext
    ) -> pb.RegisterRunnerResponse:
        return await self._runners.register(request)

    async def GetRunner(
        self, request: pb.GetRunnerRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetRunnerResponse:
        return await self._runners.get(request)

    async def ListRunners(
        self, request: pb.ListRunnersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListRunnersResponse:
        return await self._runners.list(request)

    async def UpdateRunner(
        self, request: pb.UpdateRunnerRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateRunnerResponse:
        return await self._runners.update(request)

    async def DeleteRunner(
        self, request: pb.DeleteRunnerRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteRunnerResponse:
        return await self._runners.delete(request)

    async def ValidateServiceToken(
        self, request: pb.ValidateServiceTokenRequest, context: grpc.aio.ServicerContext
    ) -> pb.ValidateServiceTokenResponse:
        return await self._runners.validate_token(request)

    async def CreateWorkload(
        self, request: pb.CreateWorkloadRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateWorkloadResponse:
        return await self._workloads.create(request)

    async def UpdateWorkload(
        self, request: pb.UpdateWorkloadRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateWorkloadResponse:
        return await self._workloads.update(request)

    async def UpdateWorkloadStatus(
        self, request: pb.UpdateWorkloadStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateWorkloadStatusResponse:
        return await self._workloads.update_status(request)

    async def TouchWorkload(
        self, request: pb.TouchWorkloadRequest, context: grpc.aio.ServicerContext
    ) -> pb.TouchWorkloadResponse:
        return await self._workloads.touch(request)

    async def DeleteWorkload(
        self, request: pb.DeleteWorkloadRequest, context: grpc.aio.ServicerContext
    ) -> pb.DeleteWorkloadResponse:
        return await self._workloads.delete(request)

    async def GetWorkload(
        self, request: pb.GetWorkloadRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetWorkloadResponse:
        return await self._workloads.get(request)

    async def ListWorkloadsByThread(
        self, request: pb.ListWorkloadsByThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListWorkloadsByThreadResponse:
        return await self._workloads.list_by_thread(request)

    async def ListWorkloads(
        self, request: pb.ListWorkloadsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListWorkloadsResponse:
        return await self._workloads.list(request)

    async def BatchUpdateWorkloadSampledAt(
        self, request: pb.BatchUpdateWorkloadSampledAtRequest, context: grpc.aio.ServicerContext
    ) -> pb.BatchUpdateWorkloadSampledAtResponse:
        return await self._workloads.sampled_at(request)

    async def CreateVolume(
        self, request: pb.CreateVolumeRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateVolumeResponse:
        return await self._volumes.create(request)

    async def UpdateVolume(
        self, request: pb.UpdateVolumeRequest, context: grpc.aio.ServicerContext
    ) -> pb.UpdateVolumeResponse:
        return await self._volumes.update(request)

    async def GetVolume(
        self, request: pb.GetVolumeRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetVolumeResponse:
        return await self._volumes.get(request)

    async def ListVolumes(
        self, request: pb.ListVolumesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListVolumesResponse:
        return await self._volumes.list(request)

    async def ListVolumesByThread(
        self, request: pb.ListVolumesByThreadRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListVolumesByThreadResponse:
        return await self._volumes.list_by_thread(request)

    async def BatchUpdateVolumeSampledAt(
        self, request: pb.BatchUpdateVolumeSampledAtRequest, context: grpc.aio.ServicerContext
    ) -> pb.BatchUpdateVolumeSampledAtResponse:
        return await self._volumes.sampled_at(request)


class WorkloadAccessServicer(access_pb2_grpc.WorkloadAccessServiceServicer):
    """The latest workloads of (thread, agent) pairs for Chat (our addition; rpc/workload_access.py)."""

    def __init__(self, access: WorkloadAccessHandlers) -> None:
        self._access = access

    async def GetLatestThreadWorkloads(
        self, request: access_pb2.GetLatestThreadWorkloadsRequest, context: grpc.aio.ServicerContext
    ) -> access_pb2.GetLatestThreadWorkloadsResponse:
        return await self._access.latest_thread_workloads(request)
