"""Who may call the runners deployable (DESIGN §6).

The single source for the in-process check and the Istio AuthorizationPolicy; every method of
RUNNERS needs an entry, or tools/deploy/tests/test_method_tables.py fails.
"""

from agyn_common.access import AccessBuilder, IdentityRule
from agyn_common.gateway_surface import GATEWAY_WORKLOAD

RUNNERS = "agynio.api.runners.v1.RunnersService"

ACCESS = (
    AccessBuilder("runners")
    # Named here until proto/agynio/api/gateway/v1/runners.proto exposes the service; then
    # `.through_gateway(RUNNERS)` takes this line's place.
    .allow(RUNNERS, ["GetRunnersStatus"], callers=[GATEWAY_WORKLOAD], identity=IdentityRule.REQUIRED)
    # Create-style methods honour `idempotency-key`: `.idempotent(RUNNERS, ["Create..."])`.
    .build()
)
