"""Who may call the notifications deployable (threads-notifications sheet B4).

The single source for the in-process check and the Istio AuthorizationPolicy.
"""

from agyn_common.access import AccessBuilder, IdentityRule

NOTIFICATIONS = "agynio.api.notifications.v1.NotificationsService"

# Trusted producers; Publish is never exposed through the Gateway.
PUBLISHERS = ("threads", "runners", "agents", "tracing")
# Subscribers act for an end user (or agent) whose rooms are checked against that identity.
SUBSCRIBERS = ("agents-orchestrator",)

ACCESS = (
    AccessBuilder("notifications")
    .allow(NOTIFICATIONS, ["Publish"], callers=PUBLISHERS, identity=IdentityRule.NONE)
    .through_gateway(NOTIFICATIONS)
    .allow(NOTIFICATIONS, ["Subscribe"], callers=SUBSCRIBERS, identity=IdentityRule.REQUIRED)
    .build()
)
