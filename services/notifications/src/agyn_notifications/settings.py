from agyn_common.settings import ServiceSettings
from pydantic import Field


class NotificationsSettings(ServiceSettings):
    # Stateless: no database of its own (the rooms live on the bus).
    database_url: str = ""
    # Organizations answers `member` for `organization:<id>` rooms.
    organizations_address: str = Field(description="host:port of the organizations service")
    # Agents says which organization an `agent:<id>` room belongs to.
    agents_address: str = Field(description="host:port of the agents service")
    # Runners says which organization a `workload:<id>` or `volume:<id>` room belongs to.
    runners_address: str | None = Field(default=None, description="host:port of the runners service")
    # Tracing says which organization a `trace:<32 hex>` room belongs to.
    tracing_address: str | None = Field(default=None, description="host:port of the tracing service")
    # Envelopes a stream may hold for a client that reads slower than they come.
    stream_buffer_size: int = Field(default=64, gt=0)
    # Concurrent Subscribe streams one identity may hold on one replica (sheet §8 #12).
    max_streams_per_identity: int = Field(default=32, gt=0)
