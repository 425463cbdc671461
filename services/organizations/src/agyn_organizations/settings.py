import uuid

from agyn_common.settings import ServiceSettings
from pydantic import Field


class OrganizationsSettings(ServiceSettings):
    # Users answers who is a cluster admin and holds identities, nicknames and usernames.
    users_address: str = Field(description="host:port of the users service")
    # The platform's own identity holds cluster admin without a Users account (sheet §4.4).
    platform_identity_id: uuid.UUID | None = None
