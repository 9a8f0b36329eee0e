"""A throwaway PostgreSQL cluster for fault tests: initdb, start on a loopback port, stop or kill
it by pid, take a streaming replica of it (``pg_basebackup -R``), always clean up.

The fault tests stop, crash and restart the database under the service, so they cannot share the
suite's server: each starts its own. ``initdb`` and ``postgres`` refuse to run as root (CI and
the development machines run as root), so as root every PostgreSQL program runs as the
``postgres`` OS user through ``runuser``, with the data and socket directories owned by it.

Every cluster has a bounded lifetime: a watchdog process stops it (``-m immediate``) after
``lifetime`` seconds even if the test process is killed before its clean-up runs, and the data
directory (``/tmp/ntm-faults-*``) is removed on :meth:`PgCluster.destroy` and at exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PORT_RANGE_ENV = "NTM_FAULTS_PG_PORTS"  # "18350-18399" by default
BIN_ENV = "NTM_PG_BIN"  # folder holding initdb, pg_ctl, postgres, pg_basebackup
DEFAULT_PORTS = (18350, 18399)
PROGRAMS = ("initdb", "pg_ctl", "postgres", "pg_basebackup")

# The fastest settings that keep what the tests check true. fsync=off and full_page_writes=off
# only matter when the operating system crashes, never when PostgreSQL does (the page cache
# survives a killed postmaster), so an immediate stop still loses no committed transaction.
# synchronous_commit stays on: "0 acknowledged writes lost" is the property under test.
FAST_SETTINGS: Mapping[str, str] = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "full_page_writes": "off",
    "shared_buffers": "32MB",
    "max_connections": "60",
    "max_wal_size": "256MB",
    "checkpoint_timeout": "30min",
    "autovacuum": "off",
    "jit": "off",
    "log_min_messages": "warning",
    "logging_collector": "off",
}
# What a primary with a streaming replica needs on top (the defaults of 15 already allow it; set
# explicitly so that a changed default cannot break the replica tests silently).
REPLICATION_SETTINGS: Mapping[str, str] = {
    "wal_level": "replica",
    "max_wal_senders": "4",
    "hot_standby": "on",
    "hot_standby_feedback": "on",
    "wal_receiver_status_interval": "1s",
}


class PostgresMissing(RuntimeError):
    """The PostgreSQL server programs are not installed where we look."""


def find_bin() -> Path:
    """The folder of the server programs: ``NTM_PG_BIN``, else the newest
    ``/usr/lib/postgresql/*/bin``, else wherever ``pg_ctl`` is on the PATH."""
    candidates: list[Path] = []
    if os.environ.get(BIN_ENV):
        candidates.append(Path(os.environ[BIN_ENV]))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    candidates.extend(versions)
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).parent)
    for folder in candidates:
        if all((folder / program).is_file() for program in PROGRAMS):
            return folder
    raise PostgresMissing(
        f"PostgreSQL server programs ({', '.join(PROGRAMS)}) not found in "
        f"{[str(c) for c in candidates] or 'NTM_PG_BIN, /usr/lib/postgresql/*/bin or PATH'}: "
        "the fault tests start their own PostgreSQL (apt-get install postgresql, or set "
        f"{BIN_ENV} to the folder holding them)"
    )


def _as_postgres() -> list[str]:
    """The prefix that runs a PostgreSQL program as a user it accepts."""
    if os.geteuid() != 0:
        return []
    return ["runuser", "-u", "postgres", "--"]


def _chown_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, user="postgres", group="postgres")


def free_port(exclude: set[int] | None = None) -> int:
    """A port of the configured range that nothing listens on."""
    low, high = DEFAULT_PORTS
    if os.environ.get(PORT_RANGE_ENV):
        first, _, last = os.environ[PORT_RANGE_ENV].partition("-")
        low, high = int(first), int(last or first)
    for port in range(low, high + 1):
        if exclude and port in exclude:
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {low}-{high} for a test PostgreSQL")


_LIVE: set[PgCluster] = set()


@dataclass(eq=False)
class PgCluster:
    """One cluster: its data directory, port and socket folder."""

    bin: Path
    root: Path  # /tmp/ntm-faults-…: data/, socket/, log
    port: int
    lifetime: float
    watchdog: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    # -- creating ------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        *,
        settings: Mapping[str, str] | None = None,
        replication: bool = False,
        lifetime: float = 600.0,
        port: int | None = None,
    ) -> PgCluster:
        """initdb a new cluster (trust authentication on loopback only) and write its settings;
        not started."""
        cluster = cls._new(find_bin(), lifetime, port)
        try:
            cluster._run(
                "initdb",
                "-D",
                str(cluster.data),
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            )
            conf = dict(FAST_SETTINGS)
            if replication:
                conf.update(REPLICATION_SETTINGS)
            conf.update(settings or {})
            cluster._write_settings(conf)
            hba = cluster.data / "pg_hba.conf"
            # Loopback only; `replication` is a pseudo-database that `all` does not cover.
            hba.write_text(
                "local all all trust\n"
                "host all all 127.0.0.1/32 trust\n"
                "local replication all trust\n"
                "host replication all 127.0.0.1/32 trust\n"
            )
        except BaseException:
            cluster.destroy()
            raise
        return cluster

    def replica(self, *, lifetime: float | None = None) -> PgCluster:
        """A streaming replica of this (running) cluster: ``pg_basebackup -R`` writes
        ``standby.signal`` and the ``primary_conninfo``; not started."""
        replica = PgCluster._new(self.bin, lifetime or self.lifetime, None, {self.port})
        try:
            replica.data.rmdir()  # pg_basebackup wants to create it (or find it empty)
            replica._run(
                "pg_basebackup",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-D",
                str(replica.data),
                "-R",
                "--wal-method=stream",
                "--checkpoint=fast",
                "--no-sync",
            )
            replica._write_settings({"port": str(replica.port)})
        except BaseException:
            replica.destroy()
            raise
        return replica

    @classmethod
    def _new(
        cls, bin_: Path, lifetime: float, port: int | None, exclude: set[int] | None = None
    ) -> PgCluster:
        root = Path(tempfile.mkdtemp(prefix="ntm-faults-", dir="/tmp"))
        cluster = cls(bin_, root, port or free_port(exclude), lifetime)
        _LIVE.add(cluster)
        for folder in (root, cluster.data, cluster.socket_dir):
            folder.mkdir(exist_ok=True)
            folder.chmod(0o700)
            _chown_to_postgres(folder)
        cluster.log.touch()
        _chown_to_postgres(cluster.log)
        return cluster

    def _write_settings(self, conf: Mapping[str, str]) -> None:
        conf = {"port": str(self.port), "unix_socket_directories": f"'{self.socket_dir}'", **conf}
        lines = []
        for key, value in conf.items():
            quoted = value if value.startswith("'") else f"'{value}'"
            lines.append(f"{key} = {quoted}")
        with (self.data / "postgresql.auto.conf").open("a") as handle:
            handle.write("\n".join(lines) + "\n")

    def _run(self, program: str, *args: str, timeout: float = 120) -> str:
        command = [*_as_postgres(), str(self.bin / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr.strip() or done.stdout}\n"
                f"server log:\n{self.log.read_text()[-2000:] if self.log.exists() else ''}"
            )
        return done.stdout

    # -- running -------------------------------------------------------------------------------

    def start(self, timeout: float = 60) -> None:
        """Start and wait until it accepts connections (a replica: until it serves reads)."""
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            str(int(timeout)),
            "start",
            timeout=timeout + 10,
        )
        self._arm_watchdog()

    def stop(self, mode: str = "fast") -> None:
        """``fast`` (clients disconnected, clean shutdown) or ``immediate`` (a crash: recovery
        from the WAL at the next start)."""
        if self.pid() is None:
            return
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def pid(self) -> int | None:
        """The postmaster's pid while it runs (first line of ``postmaster.pid``)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        return pid

    def _arm_watchdog(self) -> None:
        """After ``lifetime`` seconds, stop the cluster whatever happened to the test process."""
        self._disarm_watchdog()
        pg_ctl = self.bin / "pg_ctl"
        script = f"sleep {int(self.lifetime)}; exec {pg_ctl} -D {self.data} -m immediate stop"
        self.watchdog = subprocess.Popen(
            [*_as_postgres(), "sh", "-c", script],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def _disarm_watchdog(self) -> None:
        if self.watchdog is not None and self.watchdog.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.watchdog.pid, signal.SIGKILL)
            self.watchdog.wait(timeout=10)
        self.watchdog = None

    def destroy(self) -> None:
        """Stop (immediately) and remove everything; safe to call twice."""
        with contextlib.suppress(Exception):
            if self.pid() is not None:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        pid = self.pid()
        if pid is not None:  # pg_ctl could not stop it: the postmaster is ours, by its pid
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while self.pid() is not None and time.monotonic() < deadline:
                time.sleep(0.05)
        self._disarm_watchdog()
        shutil.rmtree(self.root, ignore_errors=True)
        _LIVE.discard(self)


@contextlib.contextmanager
def running(**options: object) -> Iterator[PgCluster]:
    cluster = PgCluster.create(**options)  # type: ignore[arg-type]
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


@atexit.register
def _destroy_all() -> None:
    for cluster in list(_LIVE):
        cluster.destroy()
