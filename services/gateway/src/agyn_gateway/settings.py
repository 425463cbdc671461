import uuid
from typing import Literal, Self

from agyn_common.settings import ServiceSettings
from pydantic import Field, model_validator


class GatewaySettings(ServiceSettings):
    # Stateless: no database; NATS only keeps the credential caches true.
    database_url: str = ""
    # One port for HTTP/1.1 and cleartext HTTP/2: Connect, gRPC and gRPC-Web.
    grpc_port: int = Field(default=8080, ge=0, le=65535)
    # The backing services; a `<Pkg>Gateway` is served when its service's address is set.
    users_address: str = Field(description="host:port of the users service")
    organizations_address: str | None = None
    threads_address: str | None = None
    notifications_address: str | None = None
    agents_address: str | None = None
    files_address: str | None = None
    runners_address: str | None = None
    tracing_address: str | None = None
    chat_address: str | None = None
    # Requests may also come as /api/<service>/<method> (served without the ingress rewrite).
    path_prefix: str = "/api"
    # Deadline of a forwarded unary call when the client sets none.
    default_deadline_seconds: float = Field(default=30.0, gt=0)
    # Deadline of a forwarded client stream (an upload) when the client sets none.
    stream_upload_deadline_seconds: float = Field(default=600.0, gt=0)
    # The largest request body (and message, once decompressed) read; larger ones are
    # RESOURCE_EXHAUSTED (413 in Connect). gRPC's default maximum message size.
    max_request_bytes: int = Field(default=4 * 2**20, gt=0)

    # OIDC (gateway-auth-mesh §3.3): both or neither of issuer and client id.
    oidc_issuer_url: str | None = None
    oidc_client_id: str | None = None
    oidc_audience: str | None = None  # unset: `aud` is not checked
    oidc_profile_source: Literal["userinfo", "token"] = "userinfo"
    oidc_name_claim: str = "name"
    oidc_email_claim: str = "email"
    oidc_picture_claim: str = "picture"
    oidc_username_claim: str = "preferred_username"
    # The issuer's signing keys are fetched again once this old: a key it withdraws stops verifying.
    oidc_jwks_max_age_seconds: float = Field(default=300.0, gt=0)

    # The bootstrap admin token (§3.5): both or neither.
    cluster_admin_token: str | None = None
    cluster_admin_identity_id: uuid.UUID | None = None

    # Resolved credentials are kept this long (never past their own expiry); revocations
    # and deletions announced on the bus drop them at once.
    credential_cache_seconds: float = Field(default=30.0, ge=0, le=30)
    # Per client address: requests that fail to authenticate or call a method open to
    # anonymous callers spend from a bucket refilled at this rate.
    anonymous_rate_per_second: float = Field(default=5.0, gt=0)
    anonymous_burst: int = Field(default=20, gt=0)
    # The header naming the client's address when a trusted proxy sits in front
    # (e.g. x-envoy-external-address behind Istio); unset: the connection's peer.
    client_address_header: str | None = None

    @model_validator(mode="after")
    def _pairs(self) -> Self:
        if (self.oidc_issuer_url is None) != (self.oidc_client_id is None):
            raise ValueError("OIDC_ISSUER_URL and OIDC_CLIENT_ID go together")
        if (self.cluster_admin_token is None) != (self.cluster_admin_identity_id is None):
            raise ValueError("CLUSTER_ADMIN_TOKEN and CLUSTER_ADMIN_IDENTITY_ID go together")
        if self.path_prefix and (not self.path_prefix.startswith("/") or self.path_prefix.endswith("/")):
            raise ValueError("PATH_PREFIX must start with / and not end with one")
        return self
