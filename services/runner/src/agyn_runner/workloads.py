"""Workloads as local processes (the process model is in the README).

Each container is a process in a session (and process group) of its own, so a stop signals
everything it started; its stdout and stderr share one pipe read into its log. The workload's
directory holds its state file, its logs, its ephemeral volumes and its root: the directory
that stands for the container filesystem, where each mount is a symlink to its volume and
each inline file is written read-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from agyn_common.errors import ServiceError, failed_precondition, invalid_argument, not_found

from agyn_runner import spec
from agyn_runner.events import Events
from agyn_runner.logs import ContainerLog
from agyn_runner.state import (
    STATE_FILE,
    ContainerState,
    MountState,
    WorkloadState,
    process_start_ticks,
    write_atomically,
)
from agyn_runner.volumes import NamedVolumes

log = logging.getLogger(__name__)

# What a process finds on its PATH unless the request sets one: never the daemon's own
# environment, which holds its secrets.
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
READ_BYTES = 64 * 2**10
# After a process ends, how long its pipe may stay quiet before it is given up (a process
# that left the group may hold it open for ever).
DRAIN_SECONDS = 0.5
ORPHAN_POLL_SECONDS = 0.5


class StartFailed(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def signal_group(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signum)


@dataclass
class Workload:
    state: WorkloadState
    directory: Path
    logs: dict[str, ContainerLog]
    ended: dict[str, asyncio.Event] = field(default_factory=dict)  # per container, set when it ends
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    save_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Set once its start is announced: a container's exit is never told before it.
    announced: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def root(self) -> Path:
        return self.directory / "root"

    def live(self) -> list[ContainerState]:
        return [
            container for container in self.state.containers if container.pid and not container.finished_at
        ]

    def spawn_task(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


class Workloads:
    def __init__(self, state_dir: Path, allowed: frozenset[str], stop_timeout: float, events: Events) -> None:
        self.workloads_dir = state_dir / "workloads"
        self.named_volumes = NamedVolumes(state_dir / "volumes")
        self.allowed = allowed
        self.stop_timeout = stop_timeout
        self.events = events
        self.stopping = asyncio.Event()  # set once the daemon stops taking calls
        self.loaded = asyncio.Event()  # the earlier runs' workloads are known
        self._workloads: dict[str, Workload] = {}

    # --- lookup ---------------------------------------------------------------------------

    def get(self, workload_id: str) -> Workload:
        workload = self._workloads.get(workload_id)
        if workload is None:
            raise not_found(f"workload {workload_id!r} not found")
        return workload

    def log_of(self, workload_id: str, container: str) -> ContainerLog:
        workload = self.get(workload_id)
        found = workload.logs.get(container)
        if found is None:
            raise not_found(f"workload {workload_id!r} has no container {container!r}")
        return found

    def all(self) -> list[WorkloadState]:
        return [workload.state for workload in self._workloads.values()]

    # --- start ----------------------------------------------------------------------------

    async def start(self, plan: spec.WorkloadPlan) -> Workload:
        """Run the plan: init containers one by one to completion, then main and sidecars.
        A process that cannot start (or an init container that fails) leaves the workload
        exited with its failure set."""
        workload_id = f"w-{uuid.uuid4().hex[:12]}"
        directory = self.workloads_dir / workload_id
        state = WorkloadState(
            id=workload_id,
            name=plan.main.name,
            image=plan.main.image,
            labels=dict(plan.labels),
            created_at=time.time(),
            containers=[
                ContainerState(
                    container.name, container.role, f"{workload_id}-{container.name}", container.image
                )
                for container in plan.containers
            ],
            mounts=[],
            named_volumes=sorted(
                {volume.persistent_name for volume in plan.volumes if volume.persistent_name}
            ),
        )
        try:
            await asyncio.to_thread(self._make_directory, directory, plan, state)
        except BaseException as error:
            await asyncio.to_thread(shutil.rmtree, directory, True)
            if isinstance(error, OSError):
                raise ServiceError(
                    grpc.StatusCode.UNAVAILABLE,
                    f"the runner cannot write the workload's files: {error.strerror}",
                ) from None
            raise
        workload = Workload(
            state,
            directory,
            {
                container.name: ContainerLog(directory / "logs" / f"{container.name}.log", True)
                for container in plan.containers
            },
        )
        self._workloads[workload_id] = workload
        try:
            for container in plan.containers:
                if container.role == "init":
                    await self._spawn(workload, container)
                    await workload.ended[container.name].wait()
                    code = state.container(container.name).exit_code  # type: ignore[union-attr]
                    if code != 0:
                        raise StartFailed(
                            "INIT_FAILED", f"init container {container.name!r} exited with {code}"
                        )
            state.running = True  # before main starts: its end stops the sidecars
            for container in plan.containers:
                if container.role != "init":
                    await self._spawn(workload, container)
            if workload.ended[plan.main.name].is_set():
                # Main ended while the sidecars were starting: they go too.
                workload.spawn_task(self._terminate(workload, self.stop_timeout))
        except StartFailed as failure:
            state.running = False
            state.failure_code, state.failure_message = failure.code, failure.message
            await self._terminate(workload, 0.0)
        except BaseException:
            # The call was cancelled mid-start: nothing it started may outlive it.
            for started in workload.live():
                signal_group(started.pid, signal.SIGKILL)
            workload.announced.set()
            raise
        self.events.publish("start", workload_id, state.workload_key, failed=bool(state.failure_code))
        workload.announced.set()
        await self._save(workload)
        return workload

    def _make_directory(self, directory: Path, plan: spec.WorkloadPlan, state: WorkloadState) -> None:
        """The workload's directory, its volumes, mounts, inline files and working directories
        (in a thread: file system work)."""
        root = directory / "root"
        root.mkdir(parents=True)
        sources = {}
        for volume in plan.volumes:
            if volume.persistent_name:
                sources[volume.name] = (
                    self.named_volumes.provide(volume.persistent_name, volume.labels),
                    True,
                )
            else:
                sources[volume.name] = (directory / "volumes" / volume.name, False)
                sources[volume.name][0].mkdir(parents=True)
        for container in plan.containers:
            for mount in container.mounts:
                source, named = sources[mount.volume]
                link = root / mount.path
                if link.is_symlink() and link.readlink() == source:
                    continue  # another container mounts the same volume there
                if link.exists() or link.is_symlink():
                    raise invalid_argument(
                        f"{container.name}.mounts", f"/{mount.path} is mounted twice, from different volumes"
                    )
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(source, target_is_directory=True)
                state.mounts.append(
                    MountState(mount.volume, str(source), f"/{mount.path}", named, mount.read_only)
                )
        for path, content in plan.inline_files:
            target = root / path
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
                target.chmod(0o444)
            except OSError as error:
                raise invalid_argument(
                    f"inline_files[{path!r}]", f"cannot be written: {error.strerror}"
                ) from None
        for container in plan.containers:
            try:
                (root / container.working_dir).mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise invalid_argument(
                    f"{container.name}.working_dir", f"cannot be made: {error.strerror}"
                ) from None

    async def _spawn(self, workload: Workload, plan: spec.ContainerPlan) -> None:
        state = workload.state.container(plan.name)
        assert state is not None
        environment = {
            "PATH": DEFAULT_PATH,
            "HOME": str(workload.root),
            "AGYN_WORKLOAD_ROOT": str(workload.root),
            "AGYN_WORKLOAD_ID": workload.state.id,
            **dict(plan.env),
        }
        container_log = workload.logs[plan.name]
        container_log.closed = False
        container_log.open()
        ended = workload.ended[plan.name] = asyncio.Event()
        try:
            process = await asyncio.create_subprocess_exec(
                *plan.argv,
                cwd=workload.root / plan.working_dir,
                env=environment,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,  # its own process group: a stop reaches its children
            )
        except OSError as error:
            container_log.close()
            ended.set()
            raise StartFailed(
                "START_FAILED", f"container {plan.name!r} could not start {plan.argv[0]!r}: {error.strerror}"
            ) from None
        state.pid, state.started_at = process.pid, time.time()
        state.start_ticks = process_start_ticks(process.pid) or 0
        workload.spawn_task(self._watch(workload, state, process, container_log, ended))

    async def _watch(
        self,
        workload: Workload,
        container: ContainerState,
        process: asyncio.subprocess.Process,
        container_log: ContainerLog,
        ended: asyncio.Event,
    ) -> None:
        last_read = time.monotonic()

        async def pump() -> None:
            nonlocal last_read
            assert process.stdout is not None
            while chunk := await process.stdout.read(READ_BYTES):
                last_read = time.monotonic()
                container_log.append(chunk)

        pumping = asyncio.ensure_future(pump())
        code = await process.wait()
        last_read = time.monotonic()  # quiet from the exit on
        signal_group(container.pid, signal.SIGKILL)  # what it left behind in its group
        # What it wrote is in the pipe: read to the end however long that takes (a loaded
        # machine reads slowly), giving up only on a pipe that stays quiet (held open by a
        # process that left its group).
        while not pumping.done() and (quiet := time.monotonic() - last_read) < DRAIN_SECONDS:
            await asyncio.wait({pumping}, timeout=DRAIN_SECONDS - quiet)
        pumping.cancel()
        container_log.close()
        await self._ended(workload, container, code)
        ended.set()

    async def _ended(self, workload: Workload, container: ContainerState, code: int | None) -> None:
        container.exit_code, container.finished_at = code, time.time()
        state = workload.state
        if container.role != "init":
            await workload.announced.wait()
        self.events.publish("exit", state.id, state.workload_key, container=container.name, exit_code=code)
        if container.role == "main" and state.running:
            state.running = False
            # The workload ends with its main container; the sidecars go with it.
            workload.spawn_task(self._terminate(workload, self.stop_timeout))
        await self._save(workload)

    async def _watch_orphan(
        self, workload: Workload, container: ContainerState, ended: asyncio.Event
    ) -> None:
        """A process started before the daemon restarted: no pipe to read, only its end to see."""
        while process_start_ticks(container.pid) == container.start_ticks:  # noqa: ASYNC110 - not our child: no exit to wait on
            await asyncio.sleep(ORPHAN_POLL_SECONDS)
        await self._ended(workload, container, None)
        ended.set()

    # --- stop and remove ------------------------------------------------------------------

    async def _terminate(self, workload: Workload, timeout: float) -> None:
        """SIGTERM every live process group, SIGKILL what is left after `timeout` seconds
        (at once with 0), and wait for them to end."""
        live = workload.live()
        for signum in (signal.SIGTERM, signal.SIGKILL) if timeout > 0 else (signal.SIGKILL,):
            for container in live:
                if not workload.ended[container.name].is_set() and self._ours(container):
                    signal_group(container.pid, signum)
            waiting = [workload.ended[container.name].wait() for container in live]
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout if signum == signal.SIGTERM else None):
                    await asyncio.gather(*waiting)
                    return

    @staticmethod
    def _ours(container: ContainerState) -> bool:
        """The pid is still the process we started (not one that got the pid after it)."""
        return (
            process_start_ticks(container.pid) in (container.start_ticks, None) or not container.start_ticks
        )

    async def stop(self, workload_id: str, timeout: float | None) -> None:
        workload = self.get(workload_id)
        was_running = bool(workload.live())
        await self._terminate(workload, self.stop_timeout if timeout is None else timeout)
        workload.state.running = False
        await self._save(workload)
        if was_running:
            self.events.publish("stop", workload.state.id, workload.state.workload_key)

    async def remove(self, workload_id: str, force: bool) -> None:
        workload = self.get(workload_id)
        await self._terminate(workload, 0.0 if force else self.stop_timeout)
        await asyncio.gather(*workload.tasks, return_exceptions=True)
        self._workloads.pop(workload_id, None)
        await asyncio.to_thread(shutil.rmtree, workload.directory, True)  # named volumes live elsewhere
        self.events.publish("remove", workload.state.id, workload.state.workload_key)

    async def close(self) -> None:
        """The daemon stops: its workloads stop with it (their output pipes end with it)."""
        workloads = [workload for workload in self._workloads.values() if workload.live()]
        await asyncio.gather(*(self.stop(workload.state.id, None) for workload in workloads))
        await asyncio.gather(*(task for workload in self._workloads.values() for task in workload.tasks))

    async def _save(self, workload: Workload) -> None:
        async with workload.save_lock:
            text = workload.state.to_json()
            try:
                await asyncio.to_thread(write_atomically, workload.directory / STATE_FILE, text)
            except FileNotFoundError:
                pass  # removed meanwhile
            except OSError as error:
                # Served from memory still; only a restart of the daemon would miss it.
                log.error("cannot save the state of workload %s: %s", workload.state.id, error)

    # --- after a restart --------------------------------------------------------------------

    async def load(self) -> None:
        """The workloads of the daemon's earlier runs. A process still alive (the daemon
        crashed) is watched until it ends; one that died meanwhile is reported exited."""
        try:
            await self._load()
        finally:
            self.loaded.set()

    async def _load(self) -> None:
        for workload in await asyncio.to_thread(self._read_all):
            self._workloads[workload.state.id] = workload
            workload.announced.set()
            for container in workload.state.containers:
                ended = workload.ended[container.name] = asyncio.Event()
                if container.pid and not container.finished_at and self._alive(container):
                    workload.spawn_task(self._watch_orphan(workload, container, ended))
                    continue
                if container.pid and not container.finished_at:
                    container.finished_at = time.time()  # it ended while the daemon was away
                ended.set()
            main = next(c for c in workload.state.containers if c.role == "main")
            workload.state.running = bool(main.pid and not main.finished_at)
            await self._save(workload)

    @staticmethod
    def _alive(container: ContainerState) -> bool:
        return process_start_ticks(container.pid) == container.start_ticks

    def _read_all(self) -> list[Workload]:
        found: list[Workload] = []
        if not self.workloads_dir.is_dir():
            return found
        for directory in sorted(self.workloads_dir.iterdir()):
            try:
                state = WorkloadState.from_json((directory / STATE_FILE).read_text())
            except (OSError, ValueError, TypeError, KeyError) as error:
                log.warning("skipping %s: its state cannot be read (%s)", directory, error)
                continue
            logs = {
                c.name: ContainerLog(directory / "logs" / f"{c.name}.log", True) for c in state.containers
            }
            found.append(Workload(state, directory, logs))
        return found

    # --- volumes and archives ---------------------------------------------------------------

    def using(self, volume: str) -> list[WorkloadState]:
        return [state for state in self.all() if volume in state.named_volumes]

    async def remove_volume(self, name: str, force: bool) -> None:
        if not spec.NAME.fullmatch(name) or not await asyncio.to_thread(self.named_volumes.exists, name):
            raise not_found(f"volume {name!r} not found")
        users = [state.id for state in self.using(name) if state.running]
        if users and not force:
            raise failed_precondition(
                f"volume {name!r} is used by running workloads {', '.join(users)}",
                "VOLUME_IN_USE",
                volume=name,
            )
        await asyncio.to_thread(self.named_volumes.remove, name)
