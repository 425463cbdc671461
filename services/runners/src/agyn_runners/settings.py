from agyn_common.settings import ServiceSettings
from pydantic import Field


class RunnersSettings(ServiceSettings):
    # Organization relations (member, owner, can_view_*) come from Organizations.
    organizations_address: str = Field(description="host:port of the organizations service")
    # Identity registration and the cluster-admin role.
    users_address: str = Field(description="host:port of the users service")
    # Names of agents, volume definitions and their attachments.
    agents_address: str = Field(description="host:port of the agents service")
    workload_activity_sweep_interval: float = Field(
        default=5.0, gt=0, description="seconds between activity sweeps (WORKLOAD_ACTIVITY_SWEEP_INTERVAL)"
    )
    keepalive_grace: float = Field(
        default=25.0, gt=0, description="seconds without TouchWorkload before an agent counts as idle"
    )
