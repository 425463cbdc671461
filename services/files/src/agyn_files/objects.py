"""The object store that holds the files' bytes (DESIGN §4), through obstore.

Keys are the file ids. Uploads stream: the bytes are sent as they arrive, in parts of
`PART_BYTES` (an S3 multipart upload once a file is larger than one part), so a file never
sits in memory whole; a failed upload is aborted, leaving no object. Download links are
SigV4 presigned GETs, signed for the endpoint clients see (`S3_PUBLIC_ENDPOINT`).

A store that cannot be reached is UNAVAILABLE (retryable); any other refusal by the store is
INTERNAL, logged with the store's words, which callers are not shown.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import grpc
import httpx
import obstore
from agyn_common.errors import ServiceError, error_info, internal
from obstore.exceptions import BaseError
from obstore.store import S3Store

from agyn_files.settings import FilesSettings

if TYPE_CHECKING:  # a type of obstore's stubs only
    from obstore.store import ClientConfig

log = logging.getLogger(__name__)

# The size of each uploaded part: S3's smallest. At most PARALLEL_PARTS are in flight, so an
# upload holds about (PARALLEL_PARTS + 1) * PART_BYTES, whatever the file's size.
PART_BYTES = 5 * 2**20
PARALLEL_PARTS = 2
# What one request to the store may take, and how long a failing one is retried: a store that
# is away answers UNAVAILABLE within seconds instead of obstore's minutes.
REQUEST_TIMEOUT = "60s"
CONNECT_TIMEOUT = "3s"
RETRIES = {"max_retries": 2, "retry_timeout": timedelta(seconds=5)}


def store_unavailable() -> ServiceError:
    return ServiceError(
        grpc.StatusCode.UNAVAILABLE,
        "object store unavailable",
        [error_info("DEPENDENCY_UNAVAILABLE", {"dependency": "object store"})],
    )


def _url(endpoint: str, use_ssl: bool) -> str | None:
    if not endpoint:
        return None
    if "://" in endpoint:
        return endpoint.rstrip("/")
    return f"{'https' if use_ssl else 'http'}://{endpoint}"


def _s3_store(settings: FilesSettings, endpoint: str | None) -> S3Store:
    options: ClientConfig = {
        "timeout": REQUEST_TIMEOUT,
        "connect_timeout": CONNECT_TIMEOUT,
        "allow_http": endpoint is not None and endpoint.startswith("http://"),
    }
    return S3Store(
        settings.s3_bucket,
        endpoint=endpoint,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key,
        secret_access_key=settings.s3_secret_key,
        virtual_hosted_style_request=settings.s3_virtual_hosted_style,
        client_options=options,
        retry_config=RETRIES,  # type: ignore[arg-type]
    )


# How obstore words a store that is away: it could not connect, send or hear back in time, or
# the store answered that it cannot serve now (5xx).
_AWAY = ("error sending request", "kind: Connect", "kind: Timeout", "kind: Request", "status code: 5")


def _failure(error: Exception, doing: str) -> ServiceError:
    """The status for a failure of the store; the store's own words go to the log."""
    text = str(error)
    if not isinstance(error, BaseError) or any(sign in text for sign in _AWAY):
        log.warning("object store unavailable while %s: %s", doing, text[:500])
        return store_unavailable()
    log.error("object store refused %s: %s", doing, text[:500])
    return internal("object store error")


class ObjectStore:
    def __init__(self, settings: FilesSettings) -> None:
        endpoint = _url(settings.s3_endpoint, settings.s3_use_ssl)
        self._store = _s3_store(settings, endpoint)
        public = _url(settings.s3_public_endpoint, settings.s3_use_ssl)
        self._signer = self._store if public is None else _s3_store(settings, public)
        self._bucket = settings.s3_bucket

    async def create_bucket_if_missing(self) -> None:
        """Local runs only (`make up`, tests): in production the operator provides the bucket.
        A presigned PUT of the bucket itself is S3's CreateBucket."""
        url = await obstore.sign_async(self._store, "PUT", "", timedelta(minutes=1))
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.put(url)
        # 409: it exists (BucketAlreadyOwnedByYou) - what we wanted.
        if response.status_code not in (200, 409):
            raise RuntimeError(
                f"creating bucket {self._bucket} failed: {response.status_code} {response.text}"
            )

    async def put(self, key: uuid.UUID, chunks: AsyncIterable[bytes], size: int, content_type: str) -> None:
        """Store the `size` bytes `chunks` yields under `key`. An error `chunks` raises (a
        refused chunk) aborts the upload and comes out as it is."""
        try:
            await obstore.put_async(
                self._store,
                str(key),
                chunks,
                attributes={"Content-Type": content_type},
                # One PUT for a file of one part (most are): a multipart upload is three requests.
                use_multipart=size > PART_BYTES,
                chunk_size=PART_BYTES,
                max_concurrency=PARALLEL_PARTS,
            )
        except ServiceError:
            raise
        except Exception as error:
            raise _failure(error, "storing a file") from None

    async def delete(self, key: uuid.UUID) -> None:
        """Best effort: a failure is logged, not raised (the object stays, files sheet A.8-6)."""
        try:
            await obstore.delete_async(self._store, str(key))
        except Exception as error:
            log.warning("could not delete object %s: %s", key, str(error)[:500])

    async def download_url(self, key: uuid.UUID, expiry: timedelta) -> str:
        try:
            return await obstore.sign_async(self._signer, "GET", str(key), expiry)
        except Exception as error:
            raise _failure(error, "signing a download link") from None

    async def read(self, key: uuid.UUID, chunk_bytes: int) -> AsyncIterator[bytes]:
        """The object's bytes in chunks of exactly `chunk_bytes` (the last one shorter).
        FileNotFoundError when there is no such object; opened before the first chunk is yielded."""
        try:
            result = await obstore.get_async(self._store, str(key))
        except FileNotFoundError:
            raise
        except Exception as error:
            raise _failure(error, "opening a file") from None
        return self._chunks(result.stream(min_chunk_size=chunk_bytes), chunk_bytes)

    @staticmethod
    async def _chunks(stream: AsyncIterator[Any], chunk_bytes: int) -> AsyncIterator[bytes]:
        pending = bytearray()
        try:
            async for piece in stream:
                pending += memoryview(piece)
                while len(pending) >= chunk_bytes:
                    yield bytes(pending[:chunk_bytes])
                    del pending[:chunk_bytes]
        except Exception as error:
            raise _failure(error, "reading a file") from None
        if pending:
            yield bytes(pending)
