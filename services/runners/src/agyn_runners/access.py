"""Who may call the runners deployable (runners sheet §4, §8 #2 and #9; DESIGN §3, §6).

The single source for the in-process check and the Istio AuthorizationPolicy; every method of
RUNNERS needs an entry, or tools/deploy/tests/test_method_tables.py fails.
"""

from agyn_common.access import AccessBuilder, IdentityRule
from agyn_common.gateway_surface import GATEWAY_WORKLOAD, exposed_methods

RUNNERS = "agynio.api.runners.v1.RunnersService"
WORKLOAD_ACCESS = "agynio.api.runners.v1.WorkloadAccessService"  # ours, internal (DESIGN §2)
ORCHESTRATOR = "agents-orchestrator"

# Through the Gateway with an identity: managing runners, an agent's touch, the logs (§8 #9).
IDENTITY_REQUIRED = ("RegisterRunner", "UpdateRunner", "DeleteRunner", "TouchWorkload", "StreamWorkloadLogs")
# The reads: the Gateway always acts for someone; platform services (below) may act alone.
READS = tuple(
    name for name in exposed_methods(RUNNERS) if name not in IDENTITY_REQUIRED and name != "EnrollRunner"
)
WRITES = (
    "CreateWorkload",
    "UpdateWorkload",
    "UpdateWorkloadStatus",
    "DeleteWorkload",
    "BatchUpdateWorkloadSampledAt",
    "CreateVolume",
    "UpdateVolume",
    "BatchUpdateVolumeSampledAt",
)
ORCHESTRATOR_READS = (
    "GetRunner",
    "ListRunners",
    "GetWorkload",
    "ListWorkloads",
    "ListWorkloadsByThread",
    "GetVolume",
    "ListVolumes",
    "ListVolumesByThread",
)

ACCESS = (
    AccessBuilder("runners")
    .allow(RUNNERS, IDENTITY_REQUIRED, callers=[GATEWAY_WORKLOAD], identity=IdentityRule.REQUIRED)
    .allow(RUNNERS, READS, callers=[GATEWAY_WORKLOAD], identity=IdentityRule.REQUIRED)
    # The daemon has no identity yet: its service token is the credential.
    .allow(RUNNERS, ["EnrollRunner"], callers=[GATEWAY_WORKLOAD], identity=IdentityRule.NONE)
    .allow(RUNNERS, WRITES, callers=[ORCHESTRATOR], identity=IdentityRule.NONE)
    # A retried create with the same key returns the first record (the ids are the caller's).
    .idempotent(RUNNERS, ["CreateWorkload", "CreateVolume"])
    .allow(RUNNERS, ORCHESTRATOR_READS, callers=[ORCHESTRATOR], identity=IdentityRule.OPTIONAL)
    .allow(
        RUNNERS,
        ["ValidateServiceToken"],
        callers=[GATEWAY_WORKLOAD, ORCHESTRATOR],
        identity=IdentityRule.NONE,
    )
    # Chat asks, always for its caller, which workloads of a thread are active (chat sheet §4).
    .allow(RUNNERS, ["ListWorkloadsByThread"], callers=["chat"], identity=IdentityRule.REQUIRED)
    # ... and, for a whole page of chats at once, the latest workload of each (thread, agent).
    .allow(WORKLOAD_ACCESS, ["GetLatestThreadWorkloads"], callers=["chat"], identity=IdentityRule.REQUIRED)
    # Resolving a workload's runner, organization, existence (Notifications: room checks).
    .allow(
        RUNNERS,
        ["GetWorkload"],
        callers=["terminal-proxy", "expose", "notifications"],
        identity=IdentityRule.NONE,
    )
    .allow(RUNNERS, ["GetVolume"], callers=["notifications"], identity=IdentityRule.NONE)
    .build()
)
