"""StreamWorkloadLogs (runners sheet §2.4): followed as the process prints, selected by tail
and time, and the stream contract's statuses."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import grpc
from agyn_common.embedded import EmbeddedNats
from agyn_inprocess.runner import ORCHESTRATOR, RUNNERS, Runner, in_process_runner, pb, shell
from agyn_testkit.calls import expect_error
from google.protobuf.timestamp_pb2 import Timestamp

SLOW_LINES = "for i in 1 2 3 4 5; do echo line $i; sleep 0.25; done; echo oops >&2"


async def test_a_followed_stream_gets_every_line_as_printed_and_ends_ok_with_the_process(runner: Runner):
    started = await runner.start(shell(SLOW_LINES))
    assert started.status == pb.WORKLOAD_STATUS_RUNNING
    arrivals = []
    chunks = []
    call = runner.stub.StreamWorkloadLogs(
        pb.StreamWorkloadLogsRequest(workload_id=started.id, container_name="main", follow=True),
        metadata=RUNNERS,
    )
    async with asyncio.timeout(10):
        async for reply in call:
            arrivals.append(time.monotonic())
            chunks.append(reply.chunk)
    assert await call.code() == grpc.StatusCode.OK
    assert b"".join(chunk.data for chunk in chunks) == b"line 1\nline 2\nline 3\nline 4\nline 5\noops\n"
    assert arrivals[-1] - arrivals[0] > 0.8, "the lines came as they were printed, not at the end"
    stamps = [chunk.ts.ToNanoseconds() for chunk in chunks]
    assert stamps == sorted(stamps)
    inspected = await runner.stub.InspectWorkload(
        pb.InspectWorkloadRequest(workload_id=started.id), metadata=ORCHESTRATOR
    )
    assert (inspected.state_status, inspected.state_running) == ("exited", False)


async def test_tail_lines_and_since_time_select_the_end_and_without_follow_the_stream_ends(runner: Runner):
    started = await runner.start(shell("echo a; echo b; echo c; sleep 0.6; echo d; echo e; sleep 30"))
    await runner.wait_for_output(started.id, 5)
    # The process still runs: without follow, the stream ends after what is there.
    assert await runner.text(started.id) == "a\nb\nc\nd\ne\n"
    assert await runner.text(started.id, tail_lines=2) == "d\ne\n"
    assert await runner.text(started.id, tail=1) == "e\n"  # deprecated, used when tail_lines is unset
    assert await runner.text(started.id, tail=1, tail_lines=3) == "c\nd\ne\n"
    chunks = await runner.logs(started.id)
    d_at = next(chunk.ts for chunk in chunks if chunk.data.startswith(b"d\n"))
    assert await runner.text(started.id, since_time=d_at) == "d\ne\n"
    later = Timestamp()
    later.FromNanoseconds(d_at.ToNanoseconds() + 10**9 * 3600)
    assert await runner.text(started.id, since_time=later) == ""
    assert await runner.text(started.id, since=d_at.seconds + 3600) == ""  # deprecated epoch seconds
    assert await runner.text(started.id, since_time=d_at, tail_lines=1) == "e\n"


async def test_the_stream_contract_statuses(runner: Runner):
    started = await runner.start(shell("echo hi"))
    await expect_error(
        runner.logs(started.id, container=""), grpc.StatusCode.INVALID_ARGUMENT, "container_name"
    )
    await expect_error(runner.logs("w-unknown"), grpc.StatusCode.NOT_FOUND, "w-unknown")
    await expect_error(runner.logs(started.id, container="nope"), grpc.StatusCode.NOT_FOUND, "nope")
    # A container that has ended: its logs, then OK, with or without follow.
    await runner.wait_exited(started.id)
    assert await runner.text(started.id, follow=True) == "hi\n"


async def test_lines_read_together_go_out_together(runner: Runner):
    """Lines that came from the pipe at once share a timestamp and one message (up to 64 KiB),
    instead of a message a line."""
    started = await runner.start(shell("seq 1 20000"))
    await runner.wait_exited(started.id)
    chunks = await runner.logs(started.id)
    assert b"".join(chunk.data for chunk in chunks) == b"".join(b"%d\n" % i for i in range(1, 20001))
    assert len(chunks) < 1000  # 20,000 lines; stdio writes them in blocks of a few KiB
    assert all(len(chunk.data) <= 64 * 2**10 for chunk in chunks)


async def test_a_process_that_prints_more_than_is_read_by_its_exit_loses_none_of_it(runner: Runner):
    """Half a million lines are out of the process long before the daemon has read and stored them:
    its exit does not end the reading while the pipe still has them."""
    started = await runner.start(shell("seq 1 500000"))
    await runner.wait_exited(started.id, timeout=120)
    data = b"".join(chunk.data for chunk in await runner.logs(started.id, timeout=120))
    assert data == b"".join(b"%d\n" % i for i in range(1, 500001))


async def test_output_that_is_not_utf8_comes_back_byte_for_byte(runner: Runner):
    started = await runner.start(shell(r"printf 'caf\351 \000 end'"))
    await runner.wait_exited(started.id)
    assert b"".join(chunk.data for chunk in await runner.logs(started.id)) == b"caf\xe9 \x00 end"


async def test_a_followed_stream_ends_unavailable_when_the_daemon_stops(tmp_path: Path, nats: EmbeddedNats):
    async with in_process_runner(tmp_path / "runner", nats.url) as runner:
        started = await runner.start(shell("echo up; sleep 300"))
        await runner.wait_for_output(started.id, 1)
        call = runner.stub.StreamWorkloadLogs(
            pb.StreamWorkloadLogsRequest(workload_id=started.id, container_name="main", follow=True),
            metadata=RUNNERS,
        )
        assert (await call.read()).chunk.data == b"up\n"
        stopping = asyncio.ensure_future(runner.service.stop(5))
        async with asyncio.timeout(5):
            assert await call.code() == grpc.StatusCode.UNAVAILABLE
        await stopping
