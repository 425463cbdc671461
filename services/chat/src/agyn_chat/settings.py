from agyn_common.settings import ServiceSettings


class ChatSettings(ServiceSettings):
    """The common settings (DATABASE_URL, NATS_URL, GRPC_PORT, ...); the service's own join them here."""
