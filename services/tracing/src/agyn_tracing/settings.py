from agyn_common.settings import ServiceSettings
from pydantic import Field


class TracingSettings(ServiceSettings):
    users_address: str = Field(description="host:port of the users service (the credential issuer)")
    agents_address: str = Field(description="host:port of the agents service")
    organizations_address: str = Field(description="host:port of the organizations service")
    threads_address: str = Field(description="host:port of the threads service")
    # Full LLM contexts make large export batches (files-tracing B.3.2); OTLP/HTTP bodies too.
    grpc_max_recv_bytes: int = Field(default=32 * 2**20, gt=0)
    # OTLP/HTTP (POST /v1/traces) on this port of GRPC_HOST; 0: any free port; unset: not served.
    otlp_http_port: int | None = Field(default=None, ge=0, le=65535)
    # Each span queues two events: an Export of 512 spans (an SDK batch) relayed in one pass.
    outbox_batch_size: int = Field(default=1024, gt=0)
    # Retention (B.8-4): a trace's spans go once its newest span is older than this; at least a day.
    retention_days: int = Field(default=14, gt=0)
    retention_sweep_interval: float = Field(default=3600.0, gt=0, description="seconds between sweeps")
    # Resolved exporter credentials kept in memory (B.6); Users' revocation events drop them.
    identity_resolution_cache_size: int = Field(default=1000, gt=0)
    identity_resolution_cache_seconds: float = Field(default=300.0, ge=0)
    # An agent's read access to a thread its spans name, and messages found in their thread.
    thread_auth_cache_size: int = Field(default=1000, gt=0)
    thread_auth_cache_seconds: float = Field(default=5.0, ge=0)
    # StreamRunEvents (B.9): a heartbeat after this long without a message, and how many
    # changed spans may wait for a client that does not read before its stream ends.
    run_events_heartbeat_seconds: float = Field(default=15.0, gt=0)
    run_events_buffer_size: int = Field(default=1000, gt=0)
