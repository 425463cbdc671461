from agyn_common.settings import ServiceSettings
from pydantic import Field


class AgentsSettings(ServiceSettings):
    # Organization relations (member, owner) come from Organizations.
    organizations_address: str = Field(description="host:port of the organizations service")
