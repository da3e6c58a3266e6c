"""A throwaway PostgreSQL server for tests (tests/test_service_pg.py).

The server lives in a fresh temporary folder (data directory, Unix socket directory, log) and
listens only on a Unix socket in that folder (``listen_addresses = ''``), so nothing it does
collides with another run or with a PostgreSQL of the machine. Its superuser is ``postgres``,
trusted over the socket. ``initdb`` and ``postgres`` refuse to run as root: as root, they run as
the ``postgres`` system user (the folder is handed to that user); otherwise as the current user.

The server process gets SIGINT (PostgreSQL's fast shutdown) if the test process dies, so a
killed pytest leaves no server behind; :meth:`PostgresServer.stop` stops it with
``pg_ctl stop -m fast`` and removes the folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

#: the environment variable that turns "no PostgreSQL here: skip" into a failure (CI sets it)
REQUIRE_ENV = "SCHOOLPOST_REQUIRE_POSTGRES"
SUPERUSER = "postgres"
#: the longest Unix socket path (sun_path holds 108 bytes with its terminating zero)
MAX_SOCKET_PATH = 107


class Unavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine, or no user to run them as."""


def required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def _version_key(bindir: str) -> tuple[int, ...]:
    name = Path(bindir).parent.name  # /usr/lib/postgresql/<version>/bin
    return tuple(int(part) for part in re.findall(r"\d+", name)) or (0,)


def _is_server_bindir(path: Path) -> bool:
    return all(os.access(path / exe, os.X_OK) and (path / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres"))


def find_bindir() -> Path | None:
    """The folder of ``initdb``, ``pg_ctl`` and ``postgres``: ``pg_config --bindir`` (without the
    server package installed it may name a folder without them), else the newest
    ``/usr/lib/postgresql/*/bin``, else the ``PATH``."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=30,
                                  check=False)
        except (OSError, subprocess.SubprocessError):
            done = None
        if done is not None and done.returncode == 0 and done.stdout.strip():
            candidates.append(Path(done.stdout.strip()))
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    return next((c for c in candidates if _is_server_bindir(c)), None)


def _run_as() -> dict[str, Any]:
    """``subprocess`` arguments that run PostgreSQL's programs as a user they accept."""
    if os.geteuid() != 0:
        return {}
    try:
        pw = pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise Unavailable(f"running as root and there is no {SUPERUSER!r} system user to run PostgreSQL as "
                          "(initdb and postgres refuse to run as root)") from None
    return {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}


def _traversable_by_all(folder: Path) -> bool:
    """Every folder from the root down to ``folder`` can be entered by any user."""
    folder = folder.resolve()
    return all(os.stat(p).st_mode & 0o001 for p in (folder, *folder.parents))


def _base_folder() -> Path:
    """A fresh folder for the server; as root, under a temporary folder the ``postgres`` user can
    reach (pytest's ``tmp_path`` is not: /tmp/pytest-of-root is private)."""
    parent = Path(tempfile.gettempdir())
    if os.geteuid() == 0 and not _traversable_by_all(parent):
        parent = Path("/tmp")
    return Path(tempfile.mkdtemp(prefix="schoolpost-pg-", dir=parent))


def free_port() -> int:
    """A port number no one listens on. The server binds no TCP port (the number only names its
    socket file, in a folder of its own), so this is belt and braces."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# prctl is looked up here, not in the child between fork and exec (no imports there)
try:
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # pragma: no cover - not Linux
    _prctl = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """The server gets SIGINT (fast shutdown) when the process that started it dies (Linux)."""
    if _prctl is not None:
        _prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG; after the change of user, which clears it


def _conf_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PostgresServer:
    """One running server; :func:`postgres_server` starts and stops it."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self._as = _run_as()
        self.base = _base_folder()
        self.data = self.base / "data"
        self.sockets = self.base / "socket"
        self.logfile = self.base / "postgres.log"
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        socket_path = self.sockets / f".s.PGSQL.{self.port}"
        if len(str(socket_path)) > MAX_SOCKET_PATH:
            shutil.rmtree(self.base, ignore_errors=True)
            raise RuntimeError(f"the socket path {socket_path} is too long for a Unix socket: set TMPDIR to a "
                               "shorter folder")

    # -- life cycle ------------------------------------------------------------------------

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        return env

    def _run(self, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False,
                              cwd=self.base, env=self._env(), stdin=subprocess.DEVNULL, **self._as)

    def start(self, timeout: float = 60.0) -> None:
        self.sockets.mkdir()
        if self._as:
            for path in (self.base, self.sockets):
                os.chown(path, self._as["user"], self._as["group"])
        os.chmod(self.base, 0o700)
        os.chmod(self.sockets, 0o700)
        done = self._run(self.bindir / "initdb", "-D", self.data, "-U", SUPERUSER, "--auth=trust",
                         "--encoding=UTF8", "--locale=C", "--no-sync")
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed (exit code {done.returncode}):\n{done.stdout}\n{done.stderr}")
        # Unix socket only, in our own folder; no durability (a test database is thrown away)
        settings = {
            "listen_addresses": "''",
            "unix_socket_directories": _conf_string(str(self.sockets)),
            "port": str(self.port),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "'32MB'",
            "max_connections": "50",
        }
        with open(self.data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n# tests/pgserver.py\n" + "".join(f"{k} = {v}\n" for k, v in settings.items()))
        with open(self.logfile, "ab") as log:
            self.process = subprocess.Popen([str(self.bindir / "postgres"), "-D", str(self.data)],
                                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                            cwd=self.base, env=self._env(), start_new_session=True,
                                            preexec_fn=_die_with_parent,  # noqa: PLW1509 - a C call only
                                            **self._as)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        import psycopg

        deadline = time.monotonic() + timeout
        error: Exception | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"postgres exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                with self.connect(connect_timeout=2):
                    return
            except psycopg.OperationalError as exc:
                error = exc
                time.sleep(0.1)
        raise RuntimeError(f"postgres did not accept connections in {timeout} s ({error}):\n{self.log_tail()}")

    def stop(self) -> None:
        """``pg_ctl stop -m fast``, then remove the folder; safe to call twice."""
        try:
            if self.process is not None and self.process.poll() is None:
                try:
                    self._run(self.bindir / "pg_ctl", "stop", "-D", self.data, "-m", "fast", "-w", "-t", "60",
                              timeout=90)
                except subprocess.TimeoutExpired:
                    pass
                try:
                    self.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            self.process = None
            shutil.rmtree(self.base, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.logfile.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- use -------------------------------------------------------------------------------

    def url(self, dbname: str, driver: str = "postgresql+psycopg") -> str:
        """A SQLAlchemy URL for ``dbname``: the superuser over the Unix socket."""
        return f"{driver}://{SUPERUSER}@/{dbname}?host={self.sockets}&port={self.port}"

    def connect(self, dbname: str = "postgres", **kwargs: Any):
        """A psycopg connection (autocommit) to ``dbname`` as the superuser."""
        import psycopg

        return psycopg.connect(host=str(self.sockets), port=self.port, user=SUPERUSER, dbname=dbname,
                               autocommit=True, **kwargs)

    def create_database(self, prefix: str = "schoolpost") -> str:
        """A new empty database with a fresh name; returns its name."""
        from psycopg import sql

        name = f"{prefix}_{secrets.token_hex(4)}"
        with self.connect() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name


@contextlib.contextmanager
def postgres_server(bindir: Path | None = None) -> Iterator[PostgresServer]:
    """A running server, stopped and removed at the end; raises :class:`Unavailable` when there
    are no server binaries (or, as root, no ``postgres`` user)."""
    bindir = bindir or find_bindir()
    if bindir is None:
        raise Unavailable("no PostgreSQL server binaries (initdb, pg_ctl, postgres) found via pg_config --bindir, "
                          "/usr/lib/postgresql/*/bin or PATH; install them (Debian: apt-get install postgresql)")
    server = PostgresServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
