"""A throw-away PostgreSQL server (the Debian package's binaries) in a temporary directory.

Used by the movies integration tests and the outage drills: ``initdb`` into a fresh
directory, ``pg_ctl start`` on a free loopback port, create databases, stop, kill and
restart with the data kept. PostgreSQL refuses to run as root, so when the harness runs
as root the server runs as the ``postgres`` system user (created if missing).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

import structlog

from devstack.errors import HarnessError
from devstack.ports import free_port

if TYPE_CHECKING:
    from collections.abc import Sequence

log = structlog.get_logger(__name__)

SUPERUSER: Final = "reelmail"
SYSTEM_USER: Final = "postgres"
DEBIAN_ROOT: Final = Path("/usr/lib/postgresql")
INSTALL_HINT: Final = "run scripts/install-postgres.sh (Debian: apt-get install postgresql)"
# Durability is worthless for a test database and costs seconds on a busy disk.
FAST_SETTINGS: Final = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


def find_bindir() -> Path:
    """Locate the newest ``/usr/lib/postgresql/<version>/bin``, else ``pg_ctl``'s directory."""
    candidates = sorted(
        (path for path in DEBIAN_ROOT.glob("*/bin") if (path / "initdb").exists()),
        key=lambda path: int(re.sub(r"\D", "", path.parent.name) or 0),
    )
    if candidates:
        return candidates[-1]
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is None:
        msg = f"PostgreSQL server binaries (initdb, pg_ctl) were not found: {INSTALL_HINT}"
        raise HarnessError(msg)
    return Path(pg_ctl).resolve().parent


class PostgresServer:
    """One server in its own temporary directory; :meth:`cleanup` removes everything."""

    def __init__(self, *, fast: bool = True) -> None:
        """Choose the binaries, the port and the password; nothing runs until :meth:`start`."""
        self.bindir = find_bindir()
        self.port = free_port()
        self.password = secrets.token_urlsafe(24)
        self.fast = fast
        self.workdir = Path(tempfile.mkdtemp(prefix="reelmail-pg-"))
        self.data_dir = self.workdir / "data"
        self.log_path = self.workdir / "postgres.log"
        self._user = _server_user()

    def url(self, database: str = "postgres") -> str:
        """Return the SQLAlchemy async URL of ``database`` on this server."""
        return f"postgresql+asyncpg://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60.0) -> float:
        """Create the cluster on first use, start it, and return seconds until it accepts."""
        started = time.monotonic()
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb()
        options = [f"-p {self.port}", "-h 127.0.0.1", f"-k {self.workdir}"]
        options += [f"-c {setting}" for setting in FAST_SETTINGS if self.fast]
        self._pg_ctl(
            ["-l", str(self.log_path), "-w", "-t", str(int(timeout)), "-o", " ".join(options)],
            "start",
        )
        elapsed = time.monotonic() - started
        log.info("postgres ready", port=self.port, seconds=round(elapsed, 2))
        return elapsed

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast`` rolls back open transactions), keeping its data."""
        if self.is_running():
            self._pg_ctl(["-m", mode, "-w", "-t", "60"], "stop")

    def restart(self) -> float:
        """Stop and start again on the same port, as an operator's restart would."""
        self.stop()
        return self.start()

    def kill(self) -> None:
        """SIGKILL the server and its backends, as a crash would; :meth:`start` recovers."""
        pid = self._postmaster_pid()
        if pid is None:
            return
        victims = [pid, *_children(pid)]  # backends run in process groups of their own
        for victim in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_alive(victim) for victim in victims) and time.monotonic() < deadline:
            time.sleep(0.05)
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)

    def is_running(self) -> bool:
        """Whether the postmaster recorded in the data directory is alive."""
        pid = self._postmaster_pid()
        return pid is not None and _alive(pid)

    @property
    def pid(self) -> int | None:
        """The postmaster's process id (its backends are its children), or None if stopped."""
        return self._postmaster_pid() if self.is_running() else None

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
            msg = f"refusing odd database name {name!r}"
            raise HarnessError(msg)
        self._client("createdb", name)
        return self.url(name)

    def cleanup(self) -> None:
        """Stop the server (killing it if it will not stop) and delete its directory."""
        try:
            self.stop()
        except HarnessError:
            self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def log_tail(self, lines: int = 60) -> str:
        """Return the end of the server log, for a failing test to print."""
        if not self.log_path.exists():
            return "(no postgres log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _initdb(self) -> None:
        password_file = self.workdir / "pwfile"
        password_file.write_text(self.password)
        self._hand_over(self.workdir, password_file)
        try:
            self._as_server_user(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    f"--pwfile={password_file}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ],
            )
        finally:
            password_file.unlink(missing_ok=True)

    def _pg_ctl(self, options: Sequence[str], action: str) -> None:
        command = [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), *options, action]
        try:
            self._as_server_user(command)
        except HarnessError as exc:
            msg = f"pg_ctl {action} failed: {exc}\n{self.log_tail()}"
            raise HarnessError(msg) from None

    def _as_server_user(self, command: list[str]) -> None:
        result = subprocess.run(  # noqa: S603 -- fixed argv built from the Debian binaries
            command,
            capture_output=True,
            text=True,
            check=False,
            cwd=self.workdir,
            user=self._user.pw_uid if self._user else None,
            group=self._user.pw_gid if self._user else None,
            extra_groups=[] if self._user else None,
            start_new_session=True,
        )
        if result.returncode != 0:
            program = Path(command[0]).name
            msg = f"{program} exited with {result.returncode}: {result.stderr.strip()}"
            raise HarnessError(msg)

    def _client(self, program: str, *arguments: str) -> None:
        command = [str(self.bindir / program), "-h", "127.0.0.1", "-p", str(self.port)]
        command += ["-U", SUPERUSER, *arguments]
        environment = {**os.environ, "PGPASSWORD": self.password}
        result = subprocess.run(  # noqa: S603 -- fixed argv built from the Debian binaries
            command,
            capture_output=True,
            text=True,
            check=False,
            env=environment,
        )
        if result.returncode != 0:
            msg = f"{program} failed: {result.stderr.strip()}"
            raise HarnessError(msg)

    def _hand_over(self, *paths: Path) -> None:
        if self._user is not None:
            for path in paths:
                os.chown(path, self._user.pw_uid, self._user.pw_gid)

    def _postmaster_pid(self) -> int | None:
        pid_file = self.data_dir / "postmaster.pid"
        try:
            return int(pid_file.read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None


def _children(pid: int) -> list[int]:
    """Direct children of ``pid``, from ``/proc`` (field 4 of ``stat`` is the parent)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _server_user() -> pwd.struct_passwd | None:
    """None when not root (the server runs as us); else the ``postgres`` system user."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        _create_system_user()
        return pwd.getpwnam(SYSTEM_USER)


def _create_system_user() -> None:
    useradd = shutil.which("useradd")
    if useradd is None:
        msg = f"no {SYSTEM_USER!r} user to run PostgreSQL as, and no useradd to create one"
        raise HarnessError(msg)
    subprocess.run(  # noqa: S603 -- fixed argv
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SYSTEM_USER],
        check=True,
        capture_output=True,
    )
