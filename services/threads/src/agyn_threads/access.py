"""Who may call the threads deployable (threads sheet §A4; DESIGN §2 for the gateway additions
and ThreadAccessService).

The single source for the in-process check and the Istio AuthorizationPolicy.
"""

from agyn_common.access import AccessBuilder, IdentityRule

THREADS = "agynio.api.threads.v1.ThreadsService"
THREAD_ACCESS = "agynio.api.threads.v1.ThreadAccessService"

CHAT_METHODS = (
    "CreateThread",
    "ArchiveThread",
    "AddParticipant",
    "SendMessage",
    "GetThreads",
    "GetThread",
    "GetMessages",
    "GetUnackedMessages",
    "GetUnackedMessageCounts",
    "AckMessages",
)

ACCESS = (
    AccessBuilder("threads")
    # DegradeThread through the gateway: owners of the organization and cluster admins.
    .through_gateway(THREADS)
    .idempotent(THREADS, ["CreateThread", "SendMessage"])
    .allow(THREADS, CHAT_METHODS, callers=["chat"], identity=IdentityRule.REQUIRED)
    # The orchestrator reads for the agent it acts as, and degrades threads on its own authority.
    .allow(
        THREADS,
        ["GetThreads", "GetThread", "GetUnackedMessages"],
        callers=["agents-orchestrator"],
        identity=IdentityRule.REQUIRED,
    )
    .allow(THREADS, ["DegradeThread"], callers=["agents-orchestrator"], identity=IdentityRule.NONE)
    # Tracing checks, as the exporting agent, the threads and messages its spans name.
    .allow(THREADS, ["GetThread", "GetMessages"], callers=["tracing"], identity=IdentityRule.REQUIRED)
    # Chat asks, as the caller, which threads of a page of chats the caller is in.
    .allow(THREAD_ACCESS, ["GetParticipantThreads"], callers=["chat"], identity=IdentityRule.REQUIRED)
    .build()
)
