"""Files through the Gateway next to the object store itself (issue 25).

    make bench        (or: .venv/bin/python bench/files.py)

On one local platform (every service its own process, as in `make up`, SeaweedFS as the
store): a 20 MiB file uploaded and downloaded through the Gateway (gRPC client streaming of
64 KiB chunks, and the browser's `POST /files`; GetFileContent's 64 KiB messages back), next
to a direct PUT and GET of the same bytes on the same store, in turns, in MiB/s and as
ratios. Then the Files process's resident memory while it takes a 20 MiB upload: its growth
over the idle process says whether a file is ever held whole. A benchmark, not a test.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import httpx
import obstore
from agyn_common.embedded import EmbeddedS3
from agyn_local.platform import FILES_BUCKET, LocalPlatform
from agynio.api.files.v1 import files_pb2 as pb
from agynio.api.gateway.v1 import files_pb2_grpc as files_gateway
from figures import on_a_local_platform
from obstore.store import S3Store

FILE_BYTES = 20 * 2**20
CHUNK_BYTES = 64 * 2**10
ROUNDS = 5
MIB = 2**20


@dataclass
class Transfer:
    label: str
    seconds: list[float]

    @property
    def mib_per_second(self) -> float:
        return FILE_BYTES / MIB / statistics.median(self.seconds)


@dataclass
class FileFigures:
    transfers: dict[str, Transfer]
    idle_rss_mib: float
    peak_rss_mib: float


def upload_messages(data: bytes) -> Iterator[pb.UploadFileRequest]:
    yield pb.UploadFileRequest(
        metadata=pb.UploadFileMetadata(
            filename="bench.bin", content_type="application/zip", size_bytes=len(data)
        )
    )
    for start in range(0, len(data), CHUNK_BYTES):
        yield pb.UploadFileRequest(chunk=pb.UploadFileChunk(data=data[start : start + CHUNK_BYTES]))


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class PeakMemory:
    """The highest resident memory of a process while inside, sampled every 2 ms in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, resident_mib(self.pid))
            time.sleep(0.002)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await action()
    return time.perf_counter() - started


async def measure_files(gateway: str, token: str, s3_endpoint: str, files_pid: int) -> FileFigures:
    data = os.urandom(FILE_BYTES)
    store = S3Store(
        FILES_BUCKET,
        endpoint=s3_endpoint,
        access_key_id=EmbeddedS3.ACCESS_KEY,
        secret_access_key=EmbeddedS3.SECRET_KEY,
        region=EmbeddedS3.REGION,
        client_options={"allow_http": True},
    )
    bearer = (("authorization", f"Bearer {token}"),)
    transfers = {
        name: Transfer(name, [])
        for name in (
            "upload: Gateway, gRPC stream",
            "upload: Gateway, POST /files",
            "upload: direct PUT",
            "download: Gateway, GetFileContent",
            "download: direct GET",
        )
    }
    async with grpc.aio.insecure_channel(gateway) as channel, httpx.AsyncClient(timeout=120) as http:
        stub = files_gateway.FilesGatewayStub(channel)
        uploaded: list[str] = []

        async def grpc_upload() -> None:
            reply = await stub.UploadFile(upload_messages(data), metadata=bearer, timeout=120)
            uploaded.append(reply.file.id)

        async def post_upload() -> None:
            reply = await http.post(
                f"http://{gateway}/files",
                headers={"authorization": f"Bearer {token}"},
                files={"file": ("bench.bin", data, "application/zip")},
            )
            reply.raise_for_status()

        async def download() -> None:
            received = 0
            async for reply in stub.GetFileContent(
                pb.GetFileContentRequest(file_id=uploaded[0]), metadata=bearer, timeout=120
            ):
                received += len(reply.chunk_data)
            assert received == FILE_BYTES

        async def direct_get() -> None:
            result = await obstore.get_async(store, uploaded[0])
            assert len(await result.bytes_async()) == FILE_BYTES

        await grpc_upload()  # warm: channels, credentials, the store's first part
        idle = resident_mib(files_pid)
        with PeakMemory(files_pid) as peak:
            await grpc_upload()
        for _ in range(ROUNDS):  # in turns, so that the machine's other load weighs on each
            for label, action in (
                ("upload: Gateway, gRPC stream", grpc_upload),
                ("upload: Gateway, POST /files", post_upload),
                ("upload: direct PUT", lambda: obstore.put_async(store, f"direct-{uuid.uuid4()}", data)),
                ("download: Gateway, GetFileContent", download),
                ("download: direct GET", direct_get),
            ):
                transfers[label].seconds.append(await timed(action))
    return FileFigures(transfers, idle, peak.peak)


async def measure(platform: LocalPlatform) -> FileFigures:
    figures = await measure_files(
        platform.addresses["gateway"],
        platform.admin_token_path.read_text().strip(),
        platform.s3_endpoint,
        platform.pid("files"),
    )
    direct = {"upload": "upload: direct PUT", "download": "download: direct GET"}
    print(f"{'20 MiB file, median of ' + str(ROUNDS):<40}{'MiB/s':>10}{'vs direct':>12}")
    for label, transfer in figures.transfers.items():
        ratio = transfer.mib_per_second / figures.transfers[direct[label.split(":")[0]]].mib_per_second
        print(f"{label:<40}{transfer.mib_per_second:>10.1f}{ratio:>11.2f}x")
    print(
        f"Files' resident memory: {figures.idle_rss_mib:.0f} MiB idle, {figures.peak_rss_mib:.0f} MiB "
        f"at most during a 20 MiB upload (+{figures.peak_rss_mib - figures.idle_rss_mib:.1f} MiB)"
    )
    return figures


def main() -> int:
    return on_a_local_platform(measure)


if __name__ == "__main__":
    sys.exit(main())
