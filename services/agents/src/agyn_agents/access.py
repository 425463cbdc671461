"""Who may call the agents deployable (DESIGN §6).

The single source for the in-process check and the Istio AuthorizationPolicy; every method of
AGENTS needs an entry, or tools/deploy/tests/test_method_tables.py fails.
"""

from agyn_common.access import AccessBuilder, IdentityRule
from agyn_common.gateway_surface import GATEWAY_WORKLOAD

AGENTS = "agynio.api.agents.v1.AgentsService"

ACCESS = (
    AccessBuilder("agents")
    # Named here until proto/agynio/api/gateway/v1/agents.proto exposes the service; then
    # `.through_gateway(AGENTS)` takes this line's place.
    .allow(AGENTS, ["GetAgentsStatus"], callers=[GATEWAY_WORKLOAD], identity=IdentityRule.REQUIRED)
    # Create-style methods honour `idempotency-key`: `.idempotent(AGENTS, ["Create..."])`.
    .build()
)
