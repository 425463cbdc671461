"""Workloads as processes: start, stop, remove, labels, volumes, init containers, restart."""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import tarfile
from pathlib import Path

import grpc
import pytest
from agyn_common.embedded import EmbeddedNats
from agyn_inprocess.runner import ORCHESTRATOR, RUNNERS, Runner, in_process_runner, pb, shell
from agyn_runner.state import process_start_ticks
from agyn_testkit.calls import expect_error
from agyn_testkit.harness import wait_until

NOT_FOUND = grpc.StatusCode.NOT_FOUND


def is_dir(path: Path) -> bool:
    return path.is_dir()  # a local stat: a test may block on it


def exists(path: Path) -> bool:
    return path.exists()


def read_bytes(path: Path) -> bytes:
    return path.read_bytes()


def alive(pid: int) -> bool:
    return process_start_ticks(pid) is not None


async def inspect(runner: Runner, workload_id: str) -> pb.InspectWorkloadResponse:
    reply: pb.InspectWorkloadResponse = await runner.stub.InspectWorkload(
        pb.InspectWorkloadRequest(workload_id=workload_id), metadata=ORCHESTRATOR
    )
    return reply


def root(runner: Runner, workload_id: str) -> Path:
    return runner.state_dir / "workloads" / workload_id / "root"


async def test_stop_ends_the_whole_process_group_and_sigkill_follows_an_ignored_sigterm(runner: Runner):
    started = await runner.start(shell("sleep 300 & echo $! > child.pid; echo started; wait"))
    pid_file = root(runner, started.id) / "child.pid"
    await runner.wait_for_output(started.id, 1)
    child = int(pid_file.read_text())
    assert alive(child)
    await runner.stub.StopWorkload(
        pb.StopWorkloadRequest(workload_id=started.id, timeout_sec=5), metadata=ORCHESTRATOR
    )
    await wait_until(lambda: not alive(child), timeout=5)
    inspected = await inspect(runner, started.id)
    assert (inspected.state_status, inspected.state_running) == ("exited", False)

    stubborn = await runner.start(shell("trap '' TERM; echo ready; while true; do sleep 0.1; done"))
    await runner.wait_for_output(stubborn.id, 1)
    before = asyncio.get_running_loop().time()
    await runner.stub.StopWorkload(
        pb.StopWorkloadRequest(workload_id=stubborn.id, timeout_sec=1), metadata=ORCHESTRATOR
    )
    assert 0.9 < asyncio.get_running_loop().time() - before < 4
    assert not (await inspect(runner, stubborn.id)).state_running
    await expect_error(
        runner.stub.StopWorkload(pb.StopWorkloadRequest(workload_id="w-nope"), metadata=ORCHESTRATOR),
        NOT_FOUND,
    )


async def test_labels_find_and_list(runner: Runner):
    first = await runner.start(shell("sleep 30"), labels={"app": "x", "n": "1"}, workload_id="key-1")
    second = await runner.start(shell("sleep 30"), labels={"app": "x", "n": "2", "workload_key": "own"})

    async def find(labels: dict[str, str], everything: bool = False) -> set[str]:
        reply = await runner.stub.FindWorkloadsByLabels(
            pb.FindWorkloadsByLabelsRequest(labels=labels, all=everything), metadata=ORCHESTRATOR
        )
        return set(reply.target_ids)

    assert await find({"app": "x"}) == {first.id, second.id}
    assert await find({"app": "x", "n": "1"}) == {first.id}
    assert await find({"workload_key": "key-1"}) == {first.id}
    assert await find({"app": "y"}) == set()
    labels = await runner.stub.GetWorkloadLabels(
        pb.GetWorkloadLabelsRequest(workload_id=first.id), metadata=ORCHESTRATOR
    )
    assert dict(labels.labels) == {"app": "x", "n": "1", "workload_key": "key-1"}
    await runner.stub.StopWorkload(
        pb.StopWorkloadRequest(workload_id=second.id, timeout_sec=1), metadata=ORCHESTRATOR
    )
    assert await find({"app": "x"}) == {first.id}
    assert await find({"app": "x"}, everything=True) == {first.id, second.id}
    listed = await runner.stub.ListWorkloads(pb.ListWorkloadsRequest(), metadata=ORCHESTRATOR)
    assert {(item.instance_id, item.workload_key) for item in listed.workloads} == {
        (first.id, "key-1"),
        (second.id, "own"),
    }
    await expect_error(
        runner.stub.GetWorkloadLabels(
            pb.GetWorkloadLabelsRequest(workload_id="w-nope"), metadata=ORCHESTRATOR
        ),
        NOT_FOUND,
    )


async def test_inspect_describes_the_workload(runner: Runner):
    started = await runner.start(
        shell(
            "sleep 30",
            name="agent",
            image="ghcr.io/agynio/agent:1",
            mounts=[pb.VolumeMount(volume="work", mount_path="/workspace", read_only=True)],
        ),
        sidecars=[shell("sleep 30", name="proxy")],
        volumes=[pb.VolumeSpec(name="work", kind=pb.VOLUME_KIND_EPHEMERAL)],
        labels={"a": "b"},
    )
    assert started.id.startswith("w-")
    assert started.containers.main == f"{started.id}-agent"
    assert [(s.name, s.id, s.status) for s in started.containers.sidecars] == [
        ("proxy", f"{started.id}-proxy", "running")
    ]
    inspected = await inspect(runner, started.id)
    assert (inspected.id, inspected.name, inspected.image, inspected.config_image) == (
        started.id,
        "agent",
        "ghcr.io/agynio/agent:1",
        "ghcr.io/agynio/agent:1",
    )
    assert dict(inspected.config_labels) == {"a": "b"}
    (mount,) = inspected.mounts
    assert (mount.type, mount.destination, mount.read_only) == ("ephemeral", "/workspace", True)
    assert is_dir(Path(mount.source))
    assert (inspected.state_status, inspected.state_running) == ("running", True)
    await runner.stub.TouchWorkload(pb.TouchWorkloadRequest(workload_id=started.id), metadata=ORCHESTRATOR)
    await expect_error(
        runner.stub.TouchWorkload(pb.TouchWorkloadRequest(workload_id="w-nope"), metadata=ORCHESTRATOR),
        NOT_FOUND,
    )
    assert (await runner.stub.Ready(pb.ReadyRequest(), metadata=ORCHESTRATOR)).status == "ok"


async def test_a_sidecar_ends_with_the_main_container(runner: Runner):
    started = await runner.start(shell("sleep 0.3"), sidecars=[shell("echo up; sleep 300", name="side")])
    await runner.wait_exited(started.id)
    assert await runner.text(started.id, "side", follow=True) == "up\n"  # the stream ends: the sidecar did


async def test_volumes_are_directories_and_a_named_one_outlives_the_workload(runner: Runner):
    volumes = [
        pb.VolumeSpec(
            name="cache", kind=pb.VOLUME_KIND_NAMED, persistent_name="vol-1", labels={"volume_key": "v-key"}
        ),
        pb.VolumeSpec(name="scratch", kind=pb.VOLUME_KIND_EPHEMERAL),
    ]
    mounts = [
        pb.VolumeMount(volume="cache", mount_path="/cache"),
        pb.VolumeMount(volume="scratch", mount_path="/tmp/s"),
    ]
    started = await runner.start(
        shell(
            "cat cache/kept 2>/dev/null; echo kept > cache/kept; echo x > tmp/s/gone; ls tmp/s",
            mounts=mounts,
        ),
        volumes=volumes,
    )
    await runner.wait_exited(started.id)
    assert await runner.text(started.id) == "gone\n"
    listed = await runner.stub.ListVolumes(pb.ListVolumesRequest(), metadata=ORCHESTRATOR)
    assert [(v.instance_id, v.volume_key) for v in listed.volumes] == [("vol-1", "v-key")]
    by_volume = await runner.stub.ListWorkloadsByVolume(
        pb.ListWorkloadsByVolumeRequest(volume_name="vol-1"), metadata=ORCHESTRATOR
    )
    assert list(by_volume.target_ids) == [started.id]
    ephemeral = Path(
        next(m.source for m in (await inspect(runner, started.id)).mounts if m.destination == "/tmp/s")
    )
    assert is_dir(ephemeral)

    await runner.stub.RemoveWorkload(pb.RemoveWorkloadRequest(workload_id=started.id), metadata=ORCHESTRATOR)
    assert not exists(ephemeral)
    assert not exists(runner.state_dir / "workloads" / started.id)
    await expect_error(
        runner.stub.InspectWorkload(pb.InspectWorkloadRequest(workload_id=started.id), metadata=ORCHESTRATOR),
        NOT_FOUND,
    )
    assert [
        v.instance_id
        for v in (await runner.stub.ListVolumes(pb.ListVolumesRequest(), metadata=ORCHESTRATOR)).volumes
    ] == ["vol-1"]

    again = await runner.start(shell("cat cache/kept; sleep 30", mounts=mounts[:1]), volumes=volumes[:1])
    assert await runner.wait_for_output(again.id, 1) == "kept\n"
    await expect_error(
        runner.stub.RemoveVolume(pb.RemoveVolumeRequest(volume_name="vol-1"), metadata=ORCHESTRATOR),
        grpc.StatusCode.FAILED_PRECONDITION,
        again.id,
    )
    await runner.stub.RemoveWorkload(
        pb.RemoveWorkloadRequest(workload_id=again.id, force=True), metadata=ORCHESTRATOR
    )
    await runner.stub.RemoveVolume(pb.RemoveVolumeRequest(volume_name="vol-1"), metadata=ORCHESTRATOR)
    assert not (await runner.stub.ListVolumes(pb.ListVolumesRequest(), metadata=ORCHESTRATOR)).volumes
    await expect_error(
        runner.stub.RemoveVolume(pb.RemoveVolumeRequest(volume_name="vol-1"), metadata=ORCHESTRATOR),
        NOT_FOUND,
    )
    await expect_error(
        runner.stub.RemoveVolume(pb.RemoveVolumeRequest(volume_name="../x"), metadata=ORCHESTRATOR), NOT_FOUND
    )


async def test_env_and_inline_files_reach_the_process_but_not_the_daemons_environment(
    runner: Runner, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("RUNNER_SECRET_PROBE", "secret")  # the daemon runs in this process
    started = await runner.start(
        shell(
            'echo "$GREETING/${RUNNER_SECRET_PROBE:-unset}"; pwd; cat /../etc/agyn/config.json; echo; '
            'cat "$AGYN_WORKLOAD_ROOT/etc/agyn/config.json"',
            env=[pb.EnvVar(name="GREETING", value="hello")],
            working_dir="/etc/agyn",
        ),
        inline_files={"/etc/agyn/config.json": b'{"a": 1}'},
    )
    await runner.wait_exited(started.id)
    lines = (await runner.text(started.id)).splitlines()
    workload_root = root(runner, started.id)
    assert lines[0] == "hello/unset"
    assert lines[1] == str(workload_root / "etc" / "agyn")
    assert lines[-1] == '{"a": 1}'
    written = workload_root / "etc" / "agyn" / "config.json"
    assert stat.S_IMODE(written.stat().st_mode) == 0o444


async def test_init_containers_run_to_completion_in_order_before_main(runner: Runner):
    started = await runner.start(
        shell("cat order; echo main"),
        init_containers=[shell("sleep 0.2; echo one >> order"), shell("echo two >> order")],
    )
    assert started.status == pb.WORKLOAD_STATUS_RUNNING
    await runner.wait_exited(started.id)
    assert await runner.text(started.id) == "one\ntwo\nmain\n"
    assert await runner.text(started.id, "init-1") == ""

    failed = await runner.start(
        shell("echo never"), init_containers=[shell("echo bad; exit 3", name="setup")]
    )
    assert failed.status == pb.WORKLOAD_STATUS_FAILED
    assert failed.failure.code == "INIT_FAILED"
    assert "setup" in failed.failure.message and "3" in failed.failure.message
    assert await runner.text(failed.id, "setup") == "bad\n"
    assert await runner.text(failed.id) == ""


async def test_a_command_that_cannot_start_fails_the_workload_and_one_not_allowed_is_refused(runner: Runner):
    missing = await runner.start(
        pb.ContainerSpec(cmd=["sh", "-c", "exit 0"], env=[pb.EnvVar(name="PATH", value="/nowhere")])
    )
    assert missing.status == pb.WORKLOAD_STATUS_FAILED
    assert missing.failure.code == "START_FAILED"
    assert "'sh'" in missing.failure.message
    assert not (await inspect(runner, missing.id)).state_running
    await expect_error(
        runner.start(pb.ContainerSpec(cmd=["/bin/rm", "-rf", "x"])),
        grpc.StatusCode.FAILED_PRECONDITION,
        "/bin/rm",
    )
    await expect_error(
        runner.start(
            shell("true"), sidecars=[pb.ContainerSpec(name="s", entrypoint="python3 -c", cmd=["1"])]
        ),
        grpc.StatusCode.FAILED_PRECONDITION,
        "sidecars[0]",
    )
    for request, field in [
        (pb.StartWorkloadRequest(), "main"),
        (pb.StartWorkloadRequest(main=pb.ContainerSpec()), "main.cmd"),
        (pb.StartWorkloadRequest(main=pb.ContainerSpec(entrypoint="'unclosed")), "main.entrypoint"),
        (pb.StartWorkloadRequest(main=shell("true", name="../x")), "main.name"),
        (pb.StartWorkloadRequest(main=shell("true", env=[pb.EnvVar(name="A=B")])), "main.env[0].name"),
        (pb.StartWorkloadRequest(main=shell("true\x00")), "main.cmd[0]"),
        (
            pb.StartWorkloadRequest(main=shell("true", mounts=[pb.VolumeMount(volume="v", mount_path="/v")])),
            "main.mounts[0].volume",
        ),
        (
            pb.StartWorkloadRequest(
                main=shell("true"), volumes=[pb.VolumeSpec(name="v", kind=pb.VOLUME_KIND_NAMED)]
            ),
            "volumes[0].persistent_name",
        ),
        (pb.StartWorkloadRequest(main=shell("true"), sidecars=[shell("true", name="main")]), "main"),
    ]:
        await expect_error(
            runner.stub.StartWorkload(request, metadata=ORCHESTRATOR), grpc.StatusCode.INVALID_ARGUMENT, field
        )


async def test_events_stream_what_happens_filtered(runner: Runner):
    call = runner.stub.StreamEvents(
        pb.StreamEventsRequest(filters=[pb.EventFilter(key="workload_key", values=["watched"])]),
        metadata=ORCHESTRATOR,
    )
    await asyncio.sleep(0.2)  # the stream is open on the daemon
    await runner.start(shell("true"), workload_id="other")
    started = await runner.start(shell("echo hi"), workload_id="watched")
    events = []
    async with asyncio.timeout(10):
        async for reply in call:
            events.append(json.loads(reply.data.json))
            if events[-1]["type"] == "exit":
                break
    call.cancel()
    assert [(event["type"], event["workload_id"]) for event in events] == [
        ("start", started.id),
        ("exit", started.id),
    ]
    assert events[1]["exit_code"] == 0 and events[1]["container"] == "main"
    await runner.stub.RemoveWorkload(pb.RemoveWorkloadRequest(workload_id=started.id), metadata=ORCHESTRATOR)
    replayed = runner.stub.StreamEvents(
        pb.StreamEventsRequest(since=1, filters=[pb.EventFilter(key="type", values=["remove"])]),
        metadata=ORCHESTRATOR,
    )
    async with asyncio.timeout(5):
        first = json.loads((await replayed.read()).data.json)
    replayed.cancel()
    assert (first["type"], first["workload_id"]) == ("remove", started.id)


async def test_unimplemented_methods_say_which_and_runners_may_only_read_logs(runner: Runner):
    await expect_error(
        runner.stub.CancelExecution(pb.CancelExecutionRequest(execution_id="x"), metadata=ORCHESTRATOR),
        grpc.StatusCode.UNIMPLEMENTED,
        "CancelExecution",
    )
    call = runner.stub.Exec(
        iter([pb.ExecRequest(start=pb.ExecStartRequest(command_argv=["true"]))]), metadata=ORCHESTRATOR
    )
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        async for _ in call:
            pass
    assert failure.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "Exec" in (failure.value.details() or "")
    await expect_error(
        runner.stub.StartWorkload(pb.StartWorkloadRequest(main=shell("true")), metadata=RUNNERS),
        grpc.StatusCode.PERMISSION_DENIED,
    )


async def test_workloads_survive_a_daemon_restart_as_exited(tmp_path: Path, nats: EmbeddedNats):
    state_dir = tmp_path / "runner"
    volume = [pb.VolumeSpec(name="data", kind=pb.VOLUME_KIND_NAMED, persistent_name="keep")]
    async with in_process_runner(state_dir, nats.url) as runner:
        long = await runner.start(
            shell("echo before; sleep 300"), labels={"l": "1"}, workload_id="k-long", volumes=volume
        )
        short = await runner.start(shell("echo done"), workload_id="k-short")
        await runner.wait_for_output(long.id, 1)
        await runner.wait_exited(short.id)
        pid = json.loads((state_dir / "workloads" / long.id / "workload.json").read_text())["containers"][0][
            "pid"
        ]
    assert not alive(pid), "the daemon's stop stopped its workloads"
    async with in_process_runner(state_dir, nats.url) as runner:
        listed = await runner.stub.ListWorkloads(pb.ListWorkloadsRequest(), metadata=ORCHESTRATOR)
        assert {(item.instance_id, item.workload_key) for item in listed.workloads} == {
            (long.id, "k-long"),
            (short.id, "k-short"),
        }
        inspected = await inspect(runner, long.id)
        assert (inspected.state_status, dict(inspected.config_labels)) == (
            "exited",
            {"l": "1", "workload_key": "k-long"},
        )
        assert await runner.text(long.id, follow=True) == "before\n"
        assert await runner.text(short.id) == "done\n"
        assert [
            v.instance_id
            for v in (await runner.stub.ListVolumes(pb.ListVolumesRequest(), metadata=ORCHESTRATOR)).volumes
        ] == ["keep"]
        await runner.stub.RemoveWorkload(pb.RemoveWorkloadRequest(workload_id=long.id), metadata=ORCHESTRATOR)


async def test_a_process_that_outlived_a_crashed_daemon_is_watched_and_stoppable(
    tmp_path: Path, nats: EmbeddedNats
):
    state_dir = tmp_path / "runner"
    async with in_process_runner(state_dir, nats.url) as runner:
        started = await runner.start(shell("sleep 300"))
    # As if the daemon had crashed: its state says running, and a process of ours runs.
    orphan = await asyncio.create_subprocess_exec("sleep", "300", start_new_session=True)
    state_file = state_dir / "workloads" / started.id / "workload.json"
    recorded = json.loads(state_file.read_text())
    recorded["running"] = True
    recorded["containers"][0].update(
        pid=orphan.pid, start_ticks=process_start_ticks(orphan.pid), exit_code=None, finished_at=0.0
    )
    state_file.write_text(json.dumps(recorded))
    try:
        async with in_process_runner(state_dir, nats.url) as runner:
            assert (await inspect(runner, started.id)).state_running
            await runner.stub.StopWorkload(
                pb.StopWorkloadRequest(workload_id=started.id, timeout_sec=2), metadata=ORCHESTRATOR
            )
            assert await asyncio.wait_for(orphan.wait(), 5) == -15
            await runner.wait_exited(started.id)
    finally:
        if orphan.returncode is None:
            os.killpg(orphan.pid, 9)
            await orphan.wait()


def tar_of(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in files.items():
            member = tarfile.TarInfo(name)
            member.size = len(content)
            archive.addfile(member, io.BytesIO(content))
    return buffer.getvalue()


async def test_put_archive_unpacks_under_the_workload_root_and_nowhere_else(runner: Runner):
    started = await runner.start(shell("sleep 30"))
    await runner.stub.PutArchive(
        pb.PutArchiveRequest(
            workload_id=started.id, path="/workspace/src", tar_payload=tar_of({"a/b.txt": b"hi"})
        ),
        metadata=ORCHESTRATOR,
    )
    assert read_bytes(root(runner, started.id) / "workspace" / "src" / "a" / "b.txt") == b"hi"
    for payload in (tar_of({"../../escape.txt": b"x"}), b"not a tar"):
        await expect_error(
            runner.stub.PutArchive(
                pb.PutArchiveRequest(workload_id=started.id, path="/", tar_payload=payload),
                metadata=ORCHESTRATOR,
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
            "tar_payload",
        )
    assert not exists(runner.state_dir / "workloads" / "escape.txt")
    await expect_error(
        runner.stub.PutArchive(pb.PutArchiveRequest(workload_id="w-nope", path="/"), metadata=ORCHESTRATOR),
        NOT_FOUND,
    )
