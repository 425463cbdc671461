from agyn_common.settings import ServiceSettings
from pydantic import Field


class ChatSettings(ServiceSettings):
    # Participants, messages and read state are Threads' (chat sheet §1).
    threads_address: str = Field(description="host:port of the threads service")
    # Identity (which participants are agents) is served by the users deployable.
    users_address: str = Field(description="host:port of the users service")
    # A chat's activity comes from Runners' workloads; unset: activity is not tracked (§8 #12).
    runners_address: str | None = Field(default=None, description="host:port of the runners service")
