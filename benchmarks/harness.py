"""Measure one process at a time: wall, CPU, peak memory, and what it wrote.

Every benchmark in this folder runs the program it measures as a subprocess (the CLI a
user runs: `tap-sequin`, `target-postgres`, `meltano`, a dlt script) through a small
launcher that forks it, waits for it with `os.wait4` and reports its rusage and wall time
(spawn to exit). Why a launcher: on Linux a child's `ru_maxrss` starts at its parent's RSS
(the forked copy counts until exec), so a direct child would report at least this
harness's RSS, which grows. The launcher stays at ~10 MB. `wait4`'s rusage covers the
process and every descendant it waited for, so `sh -c "a | b"` measures a pipe as a whole.

Also here: the sandbox (`tap-sequin-sandbox`) as a child process, a reader that counts
Singer RECORD lines on a pipe, and the per-metric median of repeated runs.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtualenv's bin/ (run with .venv/bin/python)
TOKEN = "sandbox-token"
RUN_TIMEOUT = 900.0  # seconds; a process still running then is killed and the run fails

RECORD = b'{"type":"RECORD"'
STATE = b'{"type":"STATE"'

_LAUNCH = """
import json, os, sys, time
fd, argv = int(sys.argv[1]), sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.close(fd)
    try:
        os.execvp(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
os.write(fd, json.dumps({"wall_s": wall, "exit_code": code, "ru_utime": ru.ru_utime,
                         "ru_stime": ru.ru_stime, "ru_maxrss": ru.ru_maxrss}).encode())
"""
LAUNCHER = [sys.executable, "-I", "-S", "-c", _LAUNCH]

# Every process started here and not reaped yet: stopped on any exit (stop_all).
_LIVE: list[subprocess.Popen[bytes]] = []


def _stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    # A launcher leads its own process group (the measured program in it); a sandbox is
    # signalled alone.
    group = proc.args[: len(LAUNCHER)] == LAUNCHER  # type: ignore[index]
    if proc.returncode is not None:  # already reaped: its pid may belong to another
        return
    try:
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        elif proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            if group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
            proc.wait(grace)
    except ProcessLookupError:
        pass
    if proc in _LIVE:
        _LIVE.remove(proc)


def stop_all() -> None:
    """Stop every process still running that this harness started."""
    for proc in list(reversed(_LIVE)):
        _stop(proc)


class Sandbox:
    """`tap-sequin-sandbox` as a child process, with `/_sandbox/` admin calls."""

    def __init__(self, syncs: int, latency_ms: float, workdir: Path, api: str = "v1") -> None:
        # `syncs`: with api "self-hosted", the number of sinks.
        self.syncs = syncs
        self.latency_ms = latency_ms
        self.api = api
        self.stderr_path = workdir / f"sandbox-{api}-{syncs}-{latency_ms:g}.err"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> Sandbox:
        cmd = [str(BIN / "tap-sequin-sandbox"), "--port", "0", "--api", self.api]
        cmd += ["--sinks" if self.api == "self-hosted" else "--syncs", str(self.syncs)]
        cmd += ["--seed", "1", "--token", TOKEN, "--latency-ms", str(self.latency_ms)]
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        _LIVE.append(self.proc)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("http://"):
            self.__exit__()
            raise RuntimeError(f"sandbox did not start: {line!r}; see {self.stderr_path}")
        self.url = line
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            _stop(self.proc)
            if self.proc.stdout is not None:
                self.proc.stdout.close()

    def _admin(self, method: str, route: str) -> dict[str, Any]:
        req = urllib.request.Request(f"{self.url}/_sandbox/{route}", method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())  # type: ignore[no-any-return]

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def clear(self) -> None:
        self._admin("DELETE", "log")

    def stats(self) -> dict[str, Any]:
        return self._admin("GET", "stats")


def sync_ids(n: int) -> list[str]:
    """The ids of the first `n` syncs the sandbox serves (seed 1)."""
    from tap_sequin.sandbox import generate_syncs

    return [s["id"] for s in generate_syncs(n, 1)]


class OutputReader(threading.Thread):
    """Drains a pipe: counts Singer RECORD and STATE lines and all bytes."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.records = 0
        self.total_bytes = 0

    def run(self) -> None:
        tail = b""
        while chunk := os.read(self.fd, 1 << 20):
            self.total_bytes += len(chunk)
            cut = chunk.rfind(b"\n")
            if cut < 0:
                tail += chunk
                continue
            block = tail + chunk[: cut + 1]
            # `block` holds whole lines only; a marker counts only at the start of a line.
            self.records += block.startswith(RECORD) + block.count(b"\n" + RECORD)
            tail = chunk[cut + 1 :]
        self.records += tail.startswith(RECORD)


_TICK = os.sysconf("SC_CLK_TCK")


def system_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / _TICK


@dataclass
class Run:
    """One measured run of one program."""

    wall_s: float
    cpu_s: float
    rss_mb: float
    records: int
    stdout_bytes: int
    # CPU the rest of the machine used meanwhile (all busy time minus the program's).
    # It includes the sandbox and PostgreSQL serving the program, and any other load.
    other_cpu_s: float = 0.0
    requests: int | None = None
    peak_in_flight: int | None = None


def measure(
    args: list[str],
    workdir: Path,
    label: str,
    *,
    env: dict[str, str] | None = None,
    stdin: Path | None = None,
    stdout: Path | None = None,
    cwd: Path | None = None,
) -> Run:
    """Run `args` to completion through the launcher; raise if it exits non-zero.

    stdout goes to `stdout` if given, else to a reader that counts RECORD lines;
    stderr to `workdir/<label>.stderr`.
    """
    err_path = workdir / f"{label}.stderr"
    busy0 = system_busy_s()
    result_r, result_w = os.pipe()
    out_file = open(stdout, "wb") if stdout else None  # noqa: SIM115 - closed below
    in_file = open(stdin, "rb") if stdin else None  # noqa: SIM115 - closed below
    try:
        with open(err_path, "wb") as err:
            proc = subprocess.Popen(
                [*LAUNCHER, str(result_w), *args],
                stdout=out_file or subprocess.PIPE,
                stderr=err,
                stdin=in_file or subprocess.DEVNULL,
                env=env,
                cwd=cwd,
                pass_fds=(result_w,),
                start_new_session=True,  # its own process group: stopped as a whole
            )
    finally:
        os.close(result_w)
        for f in (out_file, in_file):
            if f is not None:
                f.close()
    _LIVE.append(proc)
    reader = None
    if proc.stdout is not None:
        reader = OutputReader(proc.stdout.fileno())
        reader.start()
    finished = threading.Event()

    def watchdog() -> None:
        if not finished.wait(RUN_TIMEOUT):
            _stop(proc)

    threading.Thread(target=watchdog, daemon=True).start()
    with os.fdopen(result_r, "rb") as result_file:
        raw = result_file.read()
    proc.wait()
    finished.set()
    if proc in _LIVE:
        _LIVE.remove(proc)
    if reader is not None:
        reader.join()
        assert proc.stdout is not None
        proc.stdout.close()
    if not raw:
        raise RuntimeError(f"{label}: launcher failed (exit {proc.returncode}); see {err_path}")
    usage = json.loads(raw)
    cpu = usage["ru_utime"] + usage["ru_stime"]
    if usage["exit_code"] != 0:
        tail = err_path.read_text(errors="replace").strip().splitlines()[-8:]
        raise RuntimeError(f"{label}: exit {usage['exit_code']}\n  " + "\n  ".join(tail))
    return Run(
        wall_s=usage["wall_s"],
        cpu_s=cpu,
        rss_mb=usage["ru_maxrss"] / 1024,  # KiB on Linux
        records=reader.records if reader else 0,
        stdout_bytes=reader.total_bytes if reader else (stdout.stat().st_size if stdout else 0),
        other_cpu_s=max(system_busy_s() - busy0 - cpu, 0.0),
    )


def median_run(runs: list[Run]) -> Run:
    """Per-metric median of repeated runs."""
    out: dict[str, Any] = {}
    for key, value in asdict(runs[0]).items():
        values = [getattr(r, key) for r in runs]
        if value is None or any(v is None for v in values):
            out[key] = None
        elif isinstance(value, int) and not isinstance(value, bool):
            out[key] = int(statistics.median_low(values))
        else:
            out[key] = statistics.median(values)
    return Run(**out)


def log(message: str) -> None:
    """Progress and per-run numbers go to stderr; results to stdout."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def describe(label: str, run: Run) -> str:
    extra = f" requests {run.requests} peak-in-flight {run.peak_in_flight}" if run.requests else ""
    return (
        f"{label}: wall {run.wall_s:.2f}s cpu {run.cpu_s:.2f}s rss {run.rss_mb:.0f}MB "
        f"records {run.records}{extra} other-CPU {run.other_cpu_s:.2f}s "
        f"load {os.getloadavg()[0]:.2f}"
    )


def syncs_only_catalog(workdir: Path) -> str:
    """A catalog selecting only the `syncs` stream, written once to `workdir`; its path.

    The stock pattern and dlt extract syncs only; tap-sequin also serves
    `sync_health_history` and `credentials` by default, which would not compare like with like.
    """
    path = workdir / "syncs-only.catalog.json"
    if not path.exists():
        cfg = workdir / "discover.config.json"
        cfg.write_text(json.dumps({"api_key": TOKEN}))
        out = subprocess.run(
            [str(BIN / "tap-sequin"), "--config", str(cfg), "--discover"],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout
        catalog = json.loads(out)
        for stream in catalog["streams"]:
            for entry in stream["metadata"]:
                if not entry["breadcrumb"]:
                    entry["metadata"]["selected"] = stream["tap_stream_id"] == "syncs"
        path.write_text(json.dumps(catalog))
    return str(path)
