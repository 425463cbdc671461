from agyn_common.settings import ServiceSettings
from pydantic import Field


class AgentsSettings(ServiceSettings):
    # Organization relations (member, owner) come from Organizations.
    organizations_address: str = Field(description="host:port of the organizations service")
    # Every agent is a platform identity: registered, and its nickname kept, by Identity.
    users_address: str = Field(description="host:port of the users service (Identity)")
