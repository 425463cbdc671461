"""Who may call the agents deployable (agents sheet §4.3; DESIGN §3, §6).

The single source for the in-process check and the Istio AuthorizationPolicy; every method of
AGENTS needs an entry, or tools/deploy/tests/test_method_tables.py fails.
"""

from agyn_common.access import AccessBuilder, IdentityRule
from agynio.api.agents.v1 import agents_pb2

AGENTS = "agynio.api.agents.v1.AgentsService"
AGENT_ACCESS = "agynio.api.agents.v1.AgentAccessService"

_METHODS = [method.name for method in agents_pb2.DESCRIPTOR.services_by_name["AgentsService"].methods]
# Every Get/List but the caller's own role list, which means nothing without an identity.
READS = tuple(name for name in _METHODS if name.startswith(("Get", "List")) and name != "ListMyAgentRoles")
CREATES = tuple(name for name in _METHODS if name.startswith("Create"))

ACCESS = (
    AccessBuilder("agents")
    .through_gateway(AGENTS)
    .idempotent(AGENTS, CREATES)
    # Platform callers act on their own authority, across organizations (no identity).
    .allow(AGENTS, ["ResolveAgentIdentity"], callers=["tracing"], identity=IdentityRule.NONE)
    .allow(AGENTS, READS, callers=["agents-orchestrator"], identity=IdentityRule.NONE)
    # Name enrichment of workloads (sheet §8 proposal).
    .allow(
        AGENTS,
        ["GetAgent", "GetVolume", "ListVolumeAttachments", "GetMcp", "GetHook"],
        callers=["runners"],
        identity=IdentityRule.NONE,
    )
    # Participant profiles (chat), the organization of an agent room (notifications) and of an
    # agent caller (threads).
    .allow(AGENTS, ["GetAgent"], callers=["chat", "notifications", "threads"], identity=IdentityRule.NONE)
    # Agent relations for the services that check them (the identity checked is in the request).
    .allow(
        AGENT_ACCESS,
        ["CheckAgentRelation", "BatchCheckAgentRelations"],
        callers=["threads", "notifications", "chat", "files", "tracing", "runners"],
        identity=IdentityRule.NONE,
    )
    .build()
)
