from agyn_common.settings import ServiceSettings
from pydantic import Field


class ThreadsSettings(ServiceSettings):
    # Organization relations (who may create, read, write) come from Organizations.
    organizations_address: str = Field(description="host:port of the organizations service")
    # Identity (in the users deployable) resolves @nicknames and identity types.
    users_address: str = Field(description="host:port of the users service")
    # Agents answers `can_initiate` on an agent and an agent caller's organization.
    agents_address: str = Field(description="host:port of the agents service")
    # Files says whether the files a message names exist.
    files_address: str = Field(description="host:port of the files service")
