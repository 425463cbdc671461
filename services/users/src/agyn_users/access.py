"""Who may call the users deployable (gateway-auth-mesh §4.4; users sheet §4).

The single source for the in-process check and the Istio AuthorizationPolicy.
"""

from agyn_common.access import AccessBuilder, IdentityRule

USERS = "agynio.api.users.v1.UsersService"
IDENTITY = "agynio.api.identity.v1.IdentityService"
ZITI_MANAGEMENT = "agynio.api.ziti_management.v1.ZitiManagementService"

# Readers of identities that render or route by them.
IDENTITY_READERS = (
    "gateway",
    "chat",
    "threads",
    "organizations",
    "agents",
    "apps",
    "runners",
    "notifications",
    "expose",
)

ACCESS = (
    AccessBuilder("users")
    .through_gateway(USERS)
    .idempotent(USERS, ["CreateUser", "CreateAPIToken", "CreateDevice"])
    # A keyed retry gets the same credential back, as with API tokens (README).
    .idempotent(ZITI_MANAGEMENT, ["CreateAgentIdentity", "CreateRunnerIdentity"])
    # Profile reads by services acting for their caller (Organizations seeds nicknames from usernames).
    .allow(
        USERS, ["BatchGetUsers", "GetUser"], callers=["chat", "organizations"], identity=IdentityRule.REQUIRED
    )
    # The caller's cluster role (agyn_common.cluster_admins), asked as the caller.
    .allow(USERS, ["GetUser"], callers=["runners"], identity=IdentityRule.REQUIRED)
    # The authentication path runs before there is an identity.
    .allow(
        USERS,
        ["GetUserByOIDCSubject", "ResolveOrCreateUser"],
        callers=["gateway", "media-proxy"],
        identity=IdentityRule.NONE,
    )
    .allow(
        USERS,
        ["ResolveAPIToken"],
        callers=["gateway", "llm-proxy", "media-proxy"],
        identity=IdentityRule.NONE,
    )
    .allow(
        IDENTITY,
        ["RegisterIdentity"],
        callers=["users", "agents", "runners", "apps"],
        identity=IdentityRule.NONE,
    )
    .allow(
        IDENTITY,
        ["GetIdentityType", "BatchGetIdentityTypes"],
        callers=IDENTITY_READERS,
        identity=IdentityRule.OPTIONAL,
    )
    .allow(
        IDENTITY,
        ["SetNickname", "RemoveNickname"],
        callers=["organizations", "agents", "apps"],
        identity=IdentityRule.REQUIRED,
    )
    .allow(
        IDENTITY,
        ["ResolveNickname", "BatchGetNicknames"],
        callers=["threads", "gateway", "chat", "organizations", "notifications", "expose"],
        identity=IdentityRule.REQUIRED,
    )
    # The credential issuer (DESIGN §3): the orchestrator for agent workloads, Runners for
    # runners, and the resolvers of presented credentials. Never through the Gateway.
    .allow(
        ZITI_MANAGEMENT,
        ["CreateAgentIdentity", "DeleteIdentity"],
        callers=["agents-orchestrator"],
        identity=IdentityRule.NONE,
    )
    .allow(
        ZITI_MANAGEMENT,
        ["CreateRunnerIdentity", "DeleteRunnerIdentity"],
        callers=["runners"],
        identity=IdentityRule.NONE,
    )
    .allow(ZITI_MANAGEMENT, ["ResolveIdentity"], callers=["gateway", "tracing"], identity=IdentityRule.NONE)
    .build()
)
