from agyn_common.settings import ServiceSettings
from pydantic import Field


class UsersSettings(ServiceSettings):
    # Nickname rules ask Organizations which relations the caller holds in an organization.
    organizations_address: str = Field(description="host:port of the organizations service")
