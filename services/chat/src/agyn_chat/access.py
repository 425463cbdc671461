"""Who may call the chat deployable (chat sheet §4; DESIGN §3, §6).

The single source for the in-process check and the Istio AuthorizationPolicy; every method of
CHAT needs an entry, or tools/deploy/tests/test_method_tables.py fails.
"""

from agyn_common.access import AccessBuilder

CHAT = "agynio.api.chat.v1.ChatService"

ACCESS = (
    AccessBuilder("chat")
    # Only the Gateway, for an identity: Chat acts for its caller in every call it makes.
    .through_gateway(CHAT)
    # A retried create or message with the same key returns the first (DeleteChat is
    # idempotent by nature).
    .idempotent(CHAT, ["CreateChat", "SendMessage"])
    .build()
)
