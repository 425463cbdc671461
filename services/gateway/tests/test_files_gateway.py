"""FilesGateway through the Gateway to the real Files service (files sheet A.3 "Gateway"):
UploadFile's client stream over gRPC and Connect, `POST /files` for browsers, and gRPC-Web's
refusal of a client stream."""

from __future__ import annotations

import base64
import json
import os
import urllib.parse
import uuid
from collections.abc import AsyncIterator

import grpc
import httpx
import pytest
from agyn_inprocess.files import upload_messages
from agyn_inprocess.gateway import (
    frame,
    frames,
    grpc_web_request,
    grpc_web_text_decode,
    grpc_web_text_request,
)
from agynio.api.files.v1 import files_pb2 as pb
from agynio.api.gateway.v1 import files_pb2_grpc as files_gateway

FILES_GATEWAY = "agynio.api.gateway.v1.FilesGateway"
END_STREAM = 0x02  # Connect's end-of-stream frame
TWENTY_MIB = 20 * 2**20


@pytest.fixture
async def token(gateway):
    return await gateway.token_for(await gateway.platform.user(f"files-{uuid.uuid4().hex[:8]}"))


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


async def download(gateway, token: str, file_id: str) -> bytes:
    """GetFileContent through the Gateway, over gRPC."""
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        stream = files_gateway.FilesGatewayStub(channel).GetFileContent(
            pb.GetFileContentRequest(file_id=file_id), metadata=bearer(token), timeout=60
        )
        return b"".join([reply.chunk_data async for reply in stream])


async def connect_upload(
    http: httpx.AsyncClient, url: str, token: str, messages: list[pb.UploadFileRequest], codec: str = "proto"
) -> list[tuple[int, bytes]]:
    """UploadFile as a Connect client stream, the envelopes written by hand and sent as they are
    made; the answer's frames."""

    async def body() -> AsyncIterator[bytes]:
        for message in messages:
            if codec == "json":
                yield frame(json.dumps(_json_message(message)).encode())
            else:
                yield frame(message.SerializeToString())

    reply = await http.post(
        f"{url}/{FILES_GATEWAY}/UploadFile",
        content=body(),
        headers={"authorization": f"Bearer {token}", "content-type": f"application/connect+{codec}"},
    )
    assert reply.status_code == 200, reply.text
    assert reply.headers["content-type"] == f"application/connect+{codec}"
    return frames(reply.content)


def _json_message(message: pb.UploadFileRequest) -> dict[str, object]:
    if message.WhichOneof("payload") == "chunk":
        return {"chunk": {"data": base64.b64encode(message.chunk.data).decode()}}
    meta = message.metadata
    return {
        "metadata": {
            "filename": meta.filename,
            "contentType": meta.content_type,
            "sizeBytes": str(meta.size_bytes),
        }
    }


def multipart(boundary: str, *parts: tuple[dict[str, str], bytes]) -> bytes:
    """A multipart/form-data body as clients write it: CRLF `--boundary--` CRLF at its end."""
    body = b""
    for headers, content in parts:
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        body += f"--{boundary}\r\n{head}\r\n".encode() + content + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


async def test_twenty_mib_over_grpc_up_and_down_byte_identical(gateway, token):
    data = os.urandom(TWENTY_MIB)

    async def requests() -> AsyncIterator[pb.UploadFileRequest]:
        for message in upload_messages(data, filename="film.mp4", content_type="video/mp4"):
            yield message

    async with grpc.aio.insecure_channel(gateway.address) as channel:
        reply = await files_gateway.FilesGatewayStub(channel).UploadFile(
            requests(), metadata=bearer(token), timeout=120
        )
    assert (reply.file.filename, reply.file.content_type, reply.file.size_bytes) == (
        "film.mp4",
        "video/mp4",
        len(data),
    )
    assert await download(gateway, token, reply.file.id) == data


async def test_twenty_mib_over_connect_streaming_on_http2(gateway, token):
    """The whole body is 20 MiB, five times the Gateway's request limit: a client stream is
    bounded per message."""
    data = os.urandom(TWENTY_MIB)
    async with httpx.AsyncClient(http1=False, http2=True, timeout=120) as h2:
        (message_flags, message), (end_flags, end) = await connect_upload(
            h2, gateway.url, token, upload_messages(data, filename="big.bin", content_type="application/zip")
        )
    assert (message_flags, end_flags) == (0, END_STREAM)
    assert json.loads(end) == {}
    stored = pb.UploadFileResponse.FromString(message).file
    assert (stored.filename, stored.size_bytes) == ("big.bin", len(data))
    assert await download(gateway, token, stored.id) == data


async def test_connect_json_client_stream_over_http1(gateway, token):
    data = os.urandom(200_000)
    (_, message), (end_flags, _) = await connect_upload(
        gateway.http, f"{gateway.url}/api", token, upload_messages(data), codec="json"
    )
    assert end_flags == END_STREAM
    stored = json.loads(message)["file"]
    assert (stored["filename"], stored["contentType"], stored["sizeBytes"]) == (
        "notes.txt",
        "text/plain",
        "200000",
    )
    assert await download(gateway, token, stored["id"]) == data


async def test_an_upload_refusal_keeps_its_code_over_grpc_and_connect(gateway, token):
    chunk_first = [pb.UploadFileRequest(chunk=pb.UploadFileChunk(data=b"abc"))]
    async with grpc.aio.insecure_channel(gateway.address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await files_gateway.FilesGatewayStub(channel).UploadFile(
                iter(chunk_first), metadata=bearer(token), timeout=30
            )
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "metadata is required" in (refused.value.details() or "")

    async with httpx.AsyncClient(http1=False, http2=True, timeout=30) as h2:
        ((flags, end),) = await connect_upload(h2, gateway.url, token, chunk_first)
    assert flags == END_STREAM
    error = json.loads(end)["error"]
    assert error["code"] == "invalid_argument"
    assert "metadata is required" in error["message"]


async def test_the_service_ending_an_upload_stops_the_relay_and_the_connection_lives_on(gateway, token):
    """Files ends the call at the first byte past the declared size; the client still sending
    gets that answer, and its connection serves the next call."""
    declared = pb.UploadFileRequest(
        metadata=pb.UploadFileMetadata(filename="a.txt", content_type="text/plain", size_bytes=10)
    )
    too_much = [declared, *upload_messages(os.urandom(8 * 2**20))[1:]]
    async with httpx.AsyncClient(http1=False, http2=True, timeout=60) as h2:
        ((flags, end),) = await connect_upload(h2, gateway.url, token, too_much)
        assert flags == END_STREAM
        assert "exceeds declared size" in json.loads(end)["error"]["message"]
        ((_, message), _) = await connect_upload(h2, gateway.url, token, upload_messages(b"next"))
    assert pb.UploadFileResponse.FromString(message).file.size_bytes == 4


async def test_a_message_past_the_limit_is_refused(gateway, token):
    oversized = [
        pb.UploadFileRequest(
            metadata=pb.UploadFileMetadata(filename="a.txt", content_type="text/plain", size_bytes=5 * 2**20)
        ),
        pb.UploadFileRequest(chunk=pb.UploadFileChunk(data=b"x" * (5 * 2**20))),
    ]
    async with httpx.AsyncClient(http1=False, http2=True, timeout=60) as h2:
        ((flags, end),) = await connect_upload(h2, gateway.url, token, oversized)
    assert flags == END_STREAM
    assert json.loads(end)["error"]["code"] == "resource_exhausted"


@pytest.mark.parametrize(
    ("content_type", "body", "decode"),
    [
        ("application/grpc-web+proto", grpc_web_request(upload_messages(b"abc")[0]), bytes),
        (
            "application/grpc-web-text",
            grpc_web_text_request(upload_messages(b"abc")[0]),
            grpc_web_text_decode,
        ),
    ],
)
async def test_grpc_web_cannot_stream_a_request_and_is_told_so(gateway, token, content_type, body, decode):
    reply = await gateway.http.post(
        f"{gateway.url}/api/{FILES_GATEWAY}/UploadFile",
        content=body,
        headers={"authorization": f"Bearer {token}", "content-type": content_type},
    )
    # Trailers-only: the status in the headers of an empty answer.
    assert reply.status_code == 200
    assert decode(reply.content) == b""
    assert reply.headers["content-type"] == content_type
    assert reply.headers["grpc-status"] == "12"  # UNIMPLEMENTED
    assert urllib.parse.unquote(reply.headers["grpc-message"]) == (
        "UploadFile streams the request, which gRPC-Web cannot carry: use POST /files, Connect or gRPC"
    )
    assert reply.headers["access-control-allow-origin"] == "*"


async def test_grpc_web_still_serves_the_other_files_methods(gateway, token):
    stored = await gateway_upload(gateway, token, b"hello", "hello.txt", "text/plain")
    reply = await gateway.http.post(
        f"{gateway.url}/{FILES_GATEWAY}/GetFileMetadata",
        content=grpc_web_request(pb.GetFileMetadataRequest(file_id=stored["id"])),
        headers={"authorization": f"Bearer {token}", "content-type": "application/grpc-web+proto"},
    )
    (_, data), _ = frames(reply.content)
    assert pb.GetFileMetadataResponse.FromString(data).file.filename == "hello.txt"


async def gateway_upload(gateway, token: str, data: bytes, filename: str, content_type: str) -> dict:
    reply = await gateway.http.post(
        f"{gateway.url}/api/files",
        files={"file": (filename, data, content_type)},
        headers={"authorization": f"Bearer {token}"},
    )
    assert reply.status_code == 201, reply.text
    return reply.json()


@pytest.mark.parametrize("path", ["/files", "/api/files"])
async def test_post_files_stores_twenty_mib_and_links_it(gateway, token, path):
    data = os.urandom(TWENTY_MIB)
    async with httpx.AsyncClient(http1=False, http2=True, timeout=120) as h2:
        reply = await h2.post(
            f"{gateway.url}{path}",
            files={"file": ("report.pdf", data, "application/pdf")},
            data={"note": "before the file"},
            headers={"authorization": f"Bearer {token}"},
        )
    assert reply.status_code == 201, reply.text
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["access-control-allow-origin"] == "*"
    stored = reply.json()
    assert set(stored) == {"id", "filename", "contentType", "sizeBytes", "createdAt"}  # proto3 JSON
    assert (stored["filename"], stored["contentType"], stored["sizeBytes"]) == (
        "report.pdf",
        "application/pdf",
        str(len(data)),
    )
    link = await gateway.connect("GetDownloadUrl", {"fileId": stored["id"]}, token, service=FILES_GATEWAY)
    assert link.status_code == 200, link.text
    async with httpx.AsyncClient(timeout=60) as anyone:  # the link is the capability
        fetched = await anyone.get(link.json()["url"])
    assert (fetched.status_code, fetched.headers["content-type"]) == (200, "application/pdf")
    assert fetched.content == data


async def test_post_files_streamed_without_a_length_uses_the_parts_own(gateway, token):
    """A chunked body has no Content-Length: the file part's own says the size; the part's
    filename is read as browsers and RFC 2231 write it."""
    data = os.urandom(300_000)
    body = multipart(
        "b0undary",
        ({"Content-Disposition": 'form-data; name="other"'}, b"--b0undar but not quite"),
        (
            {
                "Content-Disposition": "form-data; name=\"file\"; filename*=UTF-8''r%C3%A9sum%C3%A9.txt",
                "Content-Type": "text/plain; charset=utf-8",
                "Content-Length": str(len(data)),
            },
            data,
        ),
    )

    async def pieces() -> AsyncIterator[bytes]:
        for offset in range(0, len(body), 7_777):  # boundaries split across pieces
            yield body[offset : offset + 7_777]

    reply = await gateway.http.post(
        f"{gateway.url}/files",
        content=pieces(),
        headers={
            "authorization": f"Bearer {token}",
            "content-type": "multipart/form-data; boundary=b0undary",
        },
    )
    assert reply.status_code == 201, reply.text
    stored = reply.json()
    assert (stored["filename"], stored["contentType"]) == ("résumé.txt", "text/plain")
    assert await download(gateway, token, stored["id"]) == data


async def test_post_files_without_any_length_is_411(gateway, token):
    body = multipart("xyz", ({"Content-Disposition": 'form-data; name="file"; filename="a.txt"'}, b"abc"))

    async def chunked() -> AsyncIterator[bytes]:
        yield body

    reply = await gateway.http.post(
        f"{gateway.url}/files",
        content=chunked(),
        headers={"authorization": f"Bearer {token}", "content-type": "multipart/form-data; boundary=xyz"},
    )
    assert reply.status_code == 411
    assert "Content-Length" in reply.json()["detail"]


async def test_post_files_default_content_type_and_a_raw_utf8_filename(gateway, token):
    """No Content-Type in the part: application/octet-stream; the filename as browsers send it."""
    disposition = 'form-data; name="file"; filename="blob é.bin"'.encode()
    body = b"--xyz\r\nContent-Disposition: " + disposition + b"\r\n\r\n\x00\x01\r\n--xyz--\r\n"
    reply = await gateway.http.post(
        f"{gateway.url}/files",
        content=body,
        headers={"authorization": f"Bearer {token}", "content-type": "multipart/form-data; boundary=xyz"},
    )
    assert reply.status_code == 201, reply.text
    stored = reply.json()
    assert (stored["filename"], stored["contentType"], stored["sizeBytes"]) == (
        "blob é.bin",
        "application/octet-stream",
        "2",
    )


def _problem(reply: httpx.Response, status: int, fragment: str) -> None:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.headers["access-control-allow-origin"] == "*"
    problem = reply.json()
    assert problem["status"] == status
    assert fragment in problem["detail"]


async def test_post_files_refusals(gateway, token):
    url = f"{gateway.url}/api/files"
    auth = {"authorization": f"Bearer {token}"}
    one = {"file": ("a.txt", b"abc", "text/plain")}
    _problem(await gateway.http.post(url, files=one), 401, "identity not available")
    _problem(await gateway.http.post(url, files=one, headers={"authorization": "Bearer agyn_nope"}), 401, "")
    _problem(await gateway.http.post(url, json={"file": "abc"}, headers=auth), 400, "multipart/form-data")
    _problem(
        await gateway.http.post(
            url, data={"notfile": "abc"}, files={"other": ("a.txt", b"abc")}, headers=auth
        ),
        400,
        "no part named file",
    )
    _problem(
        await gateway.http.post(
            url, files={"file": ("a.exe", b"MZ", "application/x-msdownload")}, headers=auth
        ),
        400,
        "content_type is not allowed",
    )
    _problem(
        await gateway.http.post(url, files={"file": ("", b"abc", "text/plain")}, headers=auth),
        400,
        "filename",
    )
    _problem(await gateway.http.get(url, headers=auth), 405, "use POST")


async def test_post_files_over_the_limit_is_413(gateway, token):
    reply = await gateway.http.post(
        f"{gateway.url}/files",
        files={"file": ("big.bin", os.urandom(21 * 2**20), "application/zip")},
        headers={"authorization": f"Bearer {token}"},
    )
    _problem(reply, 413, "file exceeds max size")
    # The connection was kept: the next upload on it goes through.
    assert (await gateway_upload(gateway, token, b"small", "s.txt", "text/plain"))["sizeBytes"] == "5"


async def test_post_files_with_a_malformed_body_is_400(gateway, token):
    boundary = "xyz"
    cut = multipart(boundary, ({"Content-Disposition": 'form-data; name="file"; filename="a.txt"'}, b"abc"))
    for body, fragment in [
        (cut[: -len(f"\r\n--{boundary}--\r\n")], "ends before its closing boundary"),
        (b"--xyz\r\nno colon here\r\n\r\nabc\r\n--xyz--\r\n", "malformed"),
        (b'--xyz\r\nContent-Disposition: form-data; name="file"', "ends in a part's headers"),
    ]:
        reply = await gateway.http.post(
            f"{gateway.url}/files",
            content=body,
            headers={
                "authorization": f"Bearer {token}",
                "content-type": f"multipart/form-data; boundary={boundary}",
            },
        )
        _problem(reply, 400, fragment)


async def test_a_client_that_would_send_for_ever_is_cut_off_and_the_gateway_serves_on(gateway, token):
    """Files ends the call at the first byte past the declared size. The Gateway holds its answer
    until the request ends (hypercorn cannot reset one stream), reading at most 64 MiB more: a
    client that never stops is cut off then. Its call ends with the refusal, or with the stream's
    reset when that overtakes the status in the client (a race hypercorn leaves open); either way
    it does not hang, and the Gateway serves the next call."""

    async def endless() -> AsyncIterator[pb.UploadFileRequest]:
        yield pb.UploadFileRequest(
            metadata=pb.UploadFileMetadata(filename="a.txt", content_type="text/plain", size_bytes=10)
        )
        piece = pb.UploadFileRequest(chunk=pb.UploadFileChunk(data=os.urandom(64 * 2**10)))
        while True:
            yield piece

    async with grpc.aio.insecure_channel(gateway.address) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await files_gateway.FilesGatewayStub(channel).UploadFile(
                endless(), metadata=bearer(token), timeout=120
            )
    if refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT:
        assert "exceeds declared size" in (refused.value.details() or "")
    else:  # grpc-core words the reset in more than one way
        assert refused.value.code() == grpc.StatusCode.INTERNAL
    assert (await gateway_upload(gateway, token, b"after", "b.txt", "text/plain"))["sizeBytes"] == "5"
