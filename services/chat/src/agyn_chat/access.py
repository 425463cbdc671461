"""Who may call the chat deployable (DESIGN §6).

The single source for the in-process check and the Istio AuthorizationPolicy; every method of
CHAT needs an entry, or tools/deploy/tests/test_method_tables.py fails.
"""

from agyn_common.access import AccessBuilder, IdentityRule
from agyn_common.gateway_surface import GATEWAY_WORKLOAD

CHAT = "agynio.api.chat.v1.ChatService"

ACCESS = (
    AccessBuilder("chat")
    # Named here until proto/agynio/api/gateway/v1/chat.proto exposes the service; then
    # `.through_gateway(CHAT)` takes this line's place.
    .allow(CHAT, ["GetChatStatus"], callers=[GATEWAY_WORKLOAD], identity=IdentityRule.REQUIRED)
    # Create-style methods honour `idempotency-key`: `.idempotent(CHAT, ["Create..."])`.
    .build()
)
