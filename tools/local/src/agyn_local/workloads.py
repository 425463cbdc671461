"""`agyn_local run-workload`: what the agents orchestrator does to start a workload, by hand.

It starts a process on the local runner (StartWorkload, as the orchestrator) and records the
workload in Runners (CreateWorkload, then UpdateWorkload with the runner's instance id, as
the orchestrator does), so that its logs can be followed through the Gateway like any
workload's. There is no orchestrator locally; this stands in for its first two steps.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

import grpc
from agynio.api.runner.v1 import runner_pb2, runner_pb2_grpc
from agynio.api.runners.v1 import runners_pb2, runners_pb2_grpc

ORCHESTRATOR = (("x-agyn-caller", "agents-orchestrator"),)
CONTAINER = "main"


def run_workload(
    endpoints: dict[str, str], runner_id: str, organization_id: str, argv: Sequence[str]
) -> dict[str, str]:
    """Start `argv` as a workload's main container; its platform id and the runner's."""
    workload_id = str(uuid.uuid4())
    with grpc.insecure_channel(endpoints["runner"]) as channel:
        started = runner_pb2_grpc.RunnerServiceStub(channel).StartWorkload(
            runner_pb2.StartWorkloadRequest(
                main=runner_pb2.ContainerSpec(
                    name=CONTAINER, image="local/process", entrypoint=argv[0], cmd=list(argv[1:])
                ),
                workload_id=workload_id,
            ),
            metadata=ORCHESTRATOR,
            timeout=30,
        )
    if started.status == runner_pb2.WORKLOAD_STATUS_FAILED:
        raise RuntimeError(f"the runner could not start it: {started.failure.message}")
    with grpc.insecure_channel(endpoints["runners"]) as channel:
        runners = runners_pb2_grpc.RunnersServiceStub(channel)
        runners.CreateWorkload(
            runners_pb2.CreateWorkloadRequest(
                id=workload_id,
                runner_id=runner_id,
                thread_id=str(uuid.uuid4()),
                agent_id=str(uuid.uuid4()),
                organization_id=organization_id,
                status=runners_pb2.WORKLOAD_STATUS_STARTING,
            ),
            metadata=ORCHESTRATOR,
            timeout=30,
        )
        runners.UpdateWorkload(
            runners_pb2.UpdateWorkloadRequest(
                id=workload_id, instance_id=started.id, status=runners_pb2.WORKLOAD_STATUS_RUNNING
            ),
            metadata=ORCHESTRATOR,
            timeout=30,
        )
    return {"workload_id": workload_id, "instance_id": started.id, "container_name": CONTAINER}


def print_started(
    endpoints: dict[str, str], runner_id: str, organization_id: str, argv: Sequence[str]
) -> None:
    print(json.dumps(run_workload(endpoints, runner_id, organization_id, argv)))
