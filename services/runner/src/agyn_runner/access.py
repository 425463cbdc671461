"""Who may call the runner daemon (DESIGN §3): the agents orchestrator drives its workloads,
and Runners reads their logs for the Console. No end-user identity: both are platform calls.

The single source for the in-process check and the Istio AuthorizationPolicy.
"""

from agyn_common.access import AccessBuilder, IdentityRule
from agynio.api.runner.v1 import runner_pb2

RUNNER = "agynio.api.runner.v1.RunnerService"
ORCHESTRATOR = "agents-orchestrator"
LOG_READERS = ("runners", ORCHESTRATOR)

_METHODS = [method.name for method in runner_pb2.DESCRIPTOR.services_by_name["RunnerService"].methods]

ACCESS = (
    AccessBuilder("runner")
    .allow(RUNNER, ["StreamWorkloadLogs"], callers=LOG_READERS, identity=IdentityRule.NONE)
    .allow(
        RUNNER,
        [method for method in _METHODS if method != "StreamWorkloadLogs"],
        callers=[ORCHESTRATOR],
        identity=IdentityRule.NONE,
    )
    .build()
)
