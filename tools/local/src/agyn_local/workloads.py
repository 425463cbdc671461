"""`agyn_local run-workload`: what the agents orchestrator does to start a workload, by hand.

It starts a process on the local runner (StartWorkload, as the orchestrator) and records the
workload in Runners (CreateWorkload, then UpdateWorkload with the runner's instance id, as
the orchestrator does), so that its logs can be followed through the Gateway like any
workload's. There is no orchestrator locally; this stands in for its first two steps.

`agyn_local agent-credential`: the credential the orchestrator gets for an agent's workload
from the users issuer, which the workload's exporter presents to Tracing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence

import grpc
from agynio.api.runner.v1 import runner_pb2, runner_pb2_grpc
from agynio.api.runners.v1 import runners_pb2, runners_pb2_grpc
from agynio.api.ziti_management.v1 import ziti_management_pb2, ziti_management_pb2_grpc

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


def agent_credential(endpoints: dict[str, str], agent_id: str) -> dict[str, str]:
    """A credential for a new workload of the agent (CreateAgentIdentity, as the orchestrator
    calls it before it starts one): Tracing resolves it to the agent, its organization and
    this workload id."""
    workload_id = str(uuid.uuid4())
    with grpc.insecure_channel(endpoints["users"]) as channel:
        issuer = ziti_management_pb2_grpc.ZitiManagementServiceStub(channel)
        issued: ziti_management_pb2.CreateAgentIdentityResponse = issuer.CreateAgentIdentity(
            ziti_management_pb2.CreateAgentIdentityRequest(agent_id=agent_id, workload_id=workload_id),
            metadata=ORCHESTRATOR,
            timeout=30,
        )
    return {"workload_id": workload_id, "credential": issued.enrollment_jwt}
