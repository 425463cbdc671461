from datetime import timedelta
from typing import Self

from agyn_common.settings import ServiceSettings
from pydantic import Field, field_validator, model_validator

# The content types of the contract's upstream list, plus the two its own clients send
# (files sheet A.8-2): the CLI's fallback, application/octet-stream, and YAML.
DEFAULT_ALLOWED_CONTENT_TYPES = (
    "image/,text/,video/,audio/,application/pdf,application/msword,"
    "application/vnd.openxmlformats-officedocument,application/vnd.ms-excel,"
    "application/vnd.ms-powerpoint,application/json,application/xml,application/zip,"
    "application/gzip,application/x-tar,application/octet-stream,application/yaml"
)
# The longest a download link may live (files sheet A.3, GetDownloadUrl).
MAX_URL_EXPIRY = timedelta(hours=24)


class FilesSettings(ServiceSettings):
    # The object store (DESIGN §4): S3, or any S3-compatible server.
    # host[:port], or a URL with its scheme; unset: AWS S3 in S3_REGION.
    s3_endpoint: str = ""
    s3_bucket: str = Field(min_length=3, max_length=63, description="the bucket the files' bytes go to")
    s3_region: str = "us-east-1"
    s3_access_key: str = Field(min_length=1, description="access key id of the object store")
    s3_secret_key: str = Field(min_length=1, description="secret access key of the object store", repr=False)
    # Scheme of an S3_ENDPOINT given without one.
    s3_use_ssl: bool = False
    # `https://<bucket>.<endpoint>/<key>` instead of `https://<endpoint>/<bucket>/<key>`.
    s3_virtual_hosted_style: bool = False
    # The endpoint download links name, when clients reach the store by another address than
    # the service does (the signature covers the host). Unset: S3_ENDPOINT.
    s3_public_endpoint: str = ""

    # The largest file, in bytes (files sheet A.3 step 6).
    max_file_size: int = Field(default=20 * 2**20, gt=0)
    # How long a download link lives when the caller does not say.
    url_expiry: timedelta = timedelta(hours=1)
    # Comma-separated prefixes a content type must start with.
    allowed_content_types: str = DEFAULT_ALLOWED_CONTENT_TYPES

    @field_validator("url_expiry", mode="before")
    @classmethod
    def _go_duration(cls, value: object) -> object:
        """`1h`, `30m`, `90s` as upstream writes durations; a number is seconds."""
        if isinstance(value, str) and value[-1:] in ("h", "m", "s") and value[:-1].isdigit():
            return timedelta(**{{"h": "hours", "m": "minutes", "s": "seconds"}[value[-1]]: int(value[:-1])})
        return value

    @model_validator(mode="after")
    def _limits(self) -> Self:
        if not timedelta(0) < self.url_expiry <= MAX_URL_EXPIRY:
            raise ValueError("URL_EXPIRY must be more than 0 and at most 24h")
        if not self.content_type_prefixes:
            raise ValueError("ALLOWED_CONTENT_TYPES names no content type")
        return self

    @property
    def content_type_prefixes(self) -> tuple[str, ...]:
        return tuple(
            prefix.strip().lower() for prefix in self.allowed_content_types.split(",") if prefix.strip()
        )
