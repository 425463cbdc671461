"""Files through the RPC pipeline, as the Gateway calls it, on a real S3 store (files sheet A.3)."""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import httpx
import obstore
import pytest
from agyn_inprocess.files import CHUNK_BYTES, upload_messages
from agyn_testkit.calls import expect_error, metadata
from agynio.api.files.v1 import files_pb2 as pb
from google.protobuf.duration_pb2 import Duration
from obstore.store import S3Store

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def meta(filename: str = "a.txt", content_type: str = "text/plain", size: int = 3) -> pb.UploadFileRequest:
    return pb.UploadFileRequest(
        metadata=pb.UploadFileMetadata(filename=filename, content_type=content_type, size_bytes=size)
    )


def chunk(data: bytes) -> pb.UploadFileRequest:
    return pb.UploadFileRequest(chunk=pb.UploadFileChunk(data=data))


async def test_an_upload_is_described_streamed_back_and_linked(files):
    me = uuid.uuid4()
    data = os.urandom(3 * CHUNK_BYTES + 1000)
    before = datetime.now(UTC)
    stored = await files.upload(me, data, filename="  report.pdf ", content_type="Application/PDF; x=1")
    assert (stored.filename, stored.content_type, stored.size_bytes) == (
        "report.pdf",
        "application/pdf",
        len(data),
    )
    assert uuid.UUID(stored.id).version == 4
    assert before - timedelta(seconds=5) <= stored.created_at.ToDatetime(UTC) <= datetime.now(UTC)

    described = await files.stub.GetFileMetadata(
        pb.GetFileMetadataRequest(file_id=f" {stored.id.upper()} "), metadata=metadata(uuid.uuid4())
    )
    assert described.file == stored

    chunks = [
        reply.chunk_data
        async for reply in files.stub.GetFileContent(
            pb.GetFileContentRequest(file_id=stored.id), metadata=metadata(me)
        )
    ]
    assert [len(piece) for piece in chunks] == [CHUNK_BYTES] * 3 + [1000]
    assert b"".join(chunks) == data

    link = await files.stub.GetDownloadUrl(pb.GetDownloadUrlRequest(file_id=stored.id), metadata=metadata(me))
    expires = link.expires_at.ToDatetime(UTC) - datetime.now(UTC)
    assert timedelta(minutes=59) < expires <= timedelta(hours=1)  # the default: one hour
    async with httpx.AsyncClient() as client:  # no platform credential: the link is the capability
        fetched = await client.get(link.url)
    assert fetched.status_code == 200
    assert (fetched.content, fetched.headers["content-type"]) == (data, "application/pdf")


async def test_a_download_link_is_refused_once_it_expired(files):
    stored = await files.upload(uuid.uuid4(), b"short-lived")
    link = await files.stub.GetDownloadUrl(
        pb.GetDownloadUrlRequest(file_id=stored.id, expiry=Duration(seconds=5)),
        metadata=metadata(uuid.uuid4()),
    )
    async with httpx.AsyncClient() as client:
        assert (await client.get(link.url)).content == b"short-lived"
        # Past its expiry by more than a second: S3 counts in whole seconds.
        await asyncio.sleep((link.expires_at.ToDatetime(UTC) - datetime.now(UTC)).total_seconds() + 1.5)
        expired = await client.get(link.url)
    assert expired.status_code == 403
    assert b"short-lived" not in expired.content


@pytest.mark.parametrize(
    ("expiry", "fragment"),
    [
        (Duration(seconds=0), "expiry: must be positive"),
        (Duration(seconds=-5), "expiry: must be positive"),
        (Duration(seconds=24 * 3600 + 1), "expiry exceeds maximum"),
        (Duration(seconds=24 * 3600, nanos=1), "expiry exceeds maximum"),
        (Duration(seconds=2**62), "expiry exceeds maximum"),
        (Duration(seconds=1, nanos=-5), "expiry: is not a valid duration"),
        (Duration(seconds=0, nanos=2_000_000_000), "expiry: is not a valid duration"),
    ],
)
async def test_a_download_link_expiry_is_checked_before_the_file(files, expiry, fragment):
    # An unknown id: the expiry is refused first.
    request = pb.GetDownloadUrlRequest(file_id=str(uuid.uuid4()), expiry=expiry)
    await expect_error(files.stub.GetDownloadUrl(request, metadata=metadata(uuid.uuid4())), INVALID, fragment)


async def test_a_link_may_live_a_day(files):
    stored = await files.upload(uuid.uuid4(), b"x")
    link = await files.stub.GetDownloadUrl(
        pb.GetDownloadUrlRequest(file_id=stored.id, expiry=Duration(seconds=24 * 3600)),
        metadata=metadata(uuid.uuid4()),
    )
    assert "X-Amz-Expires=86400" in link.url


@pytest.mark.parametrize("method", ["GetFileMetadata", "GetDownloadUrl", "GetFileContent"])
@pytest.mark.parametrize(
    ("file_id", "code", "fragment"),
    [
        ("", INVALID, "file_id is required"),
        ("   ", INVALID, "file_id is required"),
        ("not-a-uuid", INVALID, "file_id: must be a UUID"),
        ("6f1c2a3b-0000-4000-8000-00000000f11e", grpc.StatusCode.NOT_FOUND, "file not found"),
    ],
    ids=["empty", "blank", "malformed", "unknown"],
)
async def test_a_file_id_is_checked_then_looked_up(files, method, file_id, code, fragment):
    request = getattr(pb, f"{method}Request")(file_id=file_id)
    call = getattr(files.stub, method)(request, metadata=metadata(uuid.uuid4()))
    if method == "GetFileContent":
        call = call.read()
    await expect_error(call, code, fragment)


# Every check of the upload protocol (sheet A.3), in its order: the messages a client sends and
# what it gets. MAX_FILE_SIZE is the default, 20 MiB.
UPLOAD_CHECKS = [
    ("nothing sent", [], INVALID, "metadata is required"),
    ("a chunk first", [chunk(b"abc")], INVALID, "metadata is required"),
    ("an empty message first", [pb.UploadFileRequest()], INVALID, "metadata is required"),
    ("no filename", [meta(filename="  "), chunk(b"abc")], INVALID, "metadata.filename: is required"),
    (
        "no content type",
        [meta(content_type=""), chunk(b"abc")],
        INVALID,
        "metadata.content_type: is required",
    ),
    ("not a media type", [meta(content_type="text"), chunk(b"abc")], INVALID, "is not a media type"),
    (
        "a type not allowed",
        [meta(content_type="application/x-msdownload")],
        INVALID,
        "content_type is not allowed",
    ),
    ("zero bytes", [meta(size=0)], INVALID, "metadata.size_bytes: must be greater than 0"),
    ("negative size", [meta(size=-1)], INVALID, "metadata.size_bytes: must be greater than 0"),
    (
        "over the limit",
        [meta(size=20 * 2**20 + 1)],
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "file exceeds max size",
    ),
    ("metadata twice", [meta(), meta()], INVALID, "metadata may only be the first message"),
    ("a message without payload", [meta(), pb.UploadFileRequest()], INVALID, "payload: is required"),
    (
        "a chunk over 256 KiB",
        [meta(size=300_000), chunk(b"x" * (256 * 1024 + 1))],
        INVALID,
        "chunk.data: must be at most 262144 bytes",
    ),
    ("more than declared", [meta(size=3), chunk(b"ab"), chunk(b"cd")], INVALID, "file exceeds declared size"),
    ("fewer than declared", [meta(size=3), chunk(b"ab")], INVALID, "file size does not match metadata"),
    ("a NUL in the filename", [meta(filename="a\x00b"), chunk(b"abc")], INVALID, "filename"),
]


@pytest.mark.parametrize(
    ("messages", "code", "fragment"),
    [case[1:] for case in UPLOAD_CHECKS],
    ids=[case[0] for case in UPLOAD_CHECKS],
)
async def test_each_upload_check_answers_its_status_and_stores_nothing(files, messages, code, fragment):
    before = await _stored(files)
    await expect_error(files.stub.UploadFile(iter(messages), metadata=metadata(uuid.uuid4())), code, fragment)
    assert await _stored(files) == before


async def test_empty_chunks_are_ignored_and_the_last_chunk_may_end_exactly(files):
    reply = await files.stub.UploadFile(
        iter([meta(size=3), chunk(b""), chunk(b"abc"), chunk(b"")]), metadata=metadata(uuid.uuid4())
    )
    assert await files.content(uuid.uuid4(), reply.file.id) == b"abc"


async def test_a_file_of_twenty_mib_goes_through_in_parts_byte_identical(files):
    data = os.urandom(20 * 2**20)
    stored = await files.upload(uuid.uuid4(), data, content_type="video/mp4")
    assert stored.size_bytes == len(data)
    assert await files.content(uuid.uuid4(), stored.id) == data


async def test_the_uploader_is_recorded(files):
    me = uuid.uuid4()
    stored = await files.upload(me, b"mine")
    async with files.service.runtime.db.read() as connection:
        row = (
            await connection.exec_driver_sql(
                "SELECT uploader_identity_id, uploader_identity_type FROM files WHERE id = %(id)s",
                {"id": uuid.UUID(stored.id)},
            )
        ).one()
    assert tuple(row) == (me, "user")


@pytest.mark.fresh_platform
async def test_an_object_gone_from_the_store_is_not_found(files, s3):
    stored = await files.upload(uuid.uuid4(), b"soon gone")
    await obstore.delete_async(_bucket(files, s3), stored.id)
    await expect_error(
        files.stub.GetFileContent(
            pb.GetFileContentRequest(file_id=stored.id), metadata=metadata(uuid.uuid4())
        ).read(),
        grpc.StatusCode.NOT_FOUND,
        "file not found",
    )


@pytest.mark.fresh_platform
async def test_the_store_stopped_mid_upload_leaves_neither_a_row_nor_an_object(files, s3):
    data = os.urandom(12 * 2**20)  # three parts: the first ones reach the store before it stops
    messages = upload_messages(data, content_type="application/zip")
    objects_before = await _objects(files, s3)  # the bucket is the session's
    sent = asyncio.Event()

    async def client_stream():
        for index, message in enumerate(messages):
            if index == len(messages) // 2:
                sent.set()
                await asyncio.to_thread(s3.kill)
            yield message

    await expect_error(
        files.stub.UploadFile(client_stream(), metadata=metadata(uuid.uuid4()), timeout=60),
        grpc.StatusCode.UNAVAILABLE,
        "object store unavailable",
    )
    assert sent.is_set()
    await asyncio.to_thread(s3.start)
    assert await _stored(files) == 0
    assert await _objects(files, s3) == objects_before


async def _stored(files) -> int:
    async with files.service.runtime.db.read() as connection:
        return int((await connection.exec_driver_sql("SELECT count(*) FROM files")).scalar_one())


def _bucket(files, s3) -> S3Store:
    """Files' bucket, reached directly."""
    return S3Store(
        files.service.runtime.settings.s3_bucket,
        endpoint=s3.endpoint,
        access_key_id=s3.ACCESS_KEY,
        secret_access_key=s3.SECRET_KEY,
        region=s3.REGION,
        client_options={"allow_http": True},
    )


async def _objects(files, s3) -> list[str]:
    listed = await obstore.list(_bucket(files, s3)).collect_async()
    return [entry["path"] for entry in listed]


async def test_stored_and_served_bytes_are_counted(files):
    registry = files.service.runtime.metrics.registry

    def counted(name: str) -> float:
        return registry.get_sample_value(name) or 0.0

    before = {name: counted(name) for name in ("agyn_files_stored_total", "agyn_files_stored_bytes_total")}
    served_before = counted("agyn_files_served_bytes_total")
    stored = await files.upload(uuid.uuid4(), b"x" * 1000)
    await files.content(uuid.uuid4(), stored.id)
    assert counted("agyn_files_stored_total") == before["agyn_files_stored_total"] + 1
    assert counted("agyn_files_stored_bytes_total") == before["agyn_files_stored_bytes_total"] + 1000
    assert counted("agyn_files_served_bytes_total") == served_before + 1000
