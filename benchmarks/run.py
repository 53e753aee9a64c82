"""Benchmark tap-sequin against the stock Singer SDK pattern (benchmarks/stock_tap.py).

    .venv/bin/python benchmarks/run.py [--quick] [--only A,B] [--repeat K] [--json FILE]

Each scenario starts its own `tap-sequin-sandbox` process (with the scenario's latency),
then runs each tap as a subprocess, stdout piped to a reader that only counts RECORD
lines and keeps the last STATE line. Per run: wall time (spawn to exit), CPU (user+sys of
the tap process only, from `os.wait4` rusage), peak RSS (ru_maxrss), records, final STATE
size, total stdout bytes. With --repeat K every metric is the median of K runs (the taps
of a scenario alternate, so load drift hits both alike). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the virtualenv's bin/ (run with .venv/bin/python)
TAP_SEQUIN = [str(BIN / "tap-sequin")]
STOCK = [sys.executable, str(ROOT / "benchmarks" / "stock_tap.py")]
SANDBOX = [str(BIN / "tap-sequin-sandbox")]
TOKEN = "sandbox-token"
DEFAULT_CONCURRENCY = 8  # tap-sequin's default max_concurrent_requests
RUN_TIMEOUT = 900.0  # seconds; a tap still running then is killed and the run fails

RECORD = b'{"type":"RECORD"'
STATE = b'{"type":"STATE"'

# Each tap is started by a small launcher that forks it, waits for it with os.wait4 and
# reports its rusage and wall time (spawn to exit) on a pipe. Why not spawn the tap
# directly: on Linux a child's ru_maxrss starts at its parent's RSS (the forked copy of
# the parent's memory counts until exec), so every tap would report at least this
# script's RSS, which grows with the scenarios. The launcher stays at ~10 MB.
_LAUNCH = """
import json, os, sys, time
fd, argv = int(sys.argv[1]), sys.argv[2:]
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.close(fd)
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, ru = os.wait4(pid, 0)
wall = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
os.write(fd, json.dumps({"wall_s": wall, "exit_code": code, "ru_utime": ru.ru_utime,
                         "ru_stime": ru.ru_stime, "ru_maxrss": ru.ru_maxrss}).encode())
"""
LAUNCHER = [sys.executable, "-I", "-S", "-c", _LAUNCH]

# Every process this script started and has not reaped yet: stopped on any exit.
_LIVE: list[subprocess.Popen[bytes]] = []

# Environment of every child process (set in main). By default the caller's, as it is.
# --clean-env removes PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE (the first would turn
# every write into a system call, the second makes each start compile its modules unless
# they were compiled at install, as scripts/setup.sh does) and caches bytecode under a
# temporary PYTHONPYCACHEPREFIX, warmed before measuring (nothing is written into .venv).
CHILD_ENV: dict[str, str] | None = None
SCRUBBED = ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")


def child_env(inherit: bool, workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    if not inherit:
        for name in SCRUBBED:
            env.pop(name, None)
        env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    return env


# -- processes --------------------------------------------------------------------


def _stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    # A launcher leads its own process group (the tap in it); a sandbox is signalled alone.
    group = proc.args[: len(LAUNCHER)] == LAUNCHER
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
    """Stop every process still running that this script started."""
    for proc in list(reversed(_LIVE)):
        _stop(proc)


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


class Sandbox:
    """`tap-sequin-sandbox` as a child process, with `/_sandbox/` admin calls."""

    def __init__(self, syncs: int, latency_ms: float, workdir: Path) -> None:
        self.syncs = syncs
        self.latency_ms = latency_ms
        self.stderr_path = workdir / f"sandbox-{syncs}-{latency_ms:g}.err"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> Sandbox:
        cmd = [*SANDBOX, "--port", "0", "--syncs", str(self.syncs), "--seed", "1"]
        cmd += ["--latency-ms", str(self.latency_ms)]
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=CHILD_ENV)
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
            return json.loads(resp.read())

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def clear(self) -> None:
        self._admin("DELETE", "log")

    def stats(self) -> dict[str, Any]:
        return self._admin("GET", "stats")

    def summary(self) -> str:
        try:
            return self.stderr_path.read_text().strip().splitlines()[-1]
        except (OSError, IndexError):
            return ""


class OutputReader(threading.Thread):
    """Drains a tap's stdout: counts RECORD lines, keeps the last STATE line."""

    def __init__(self, fd: int) -> None:
        super().__init__(daemon=True)
        self.fd = fd
        self.records = 0
        self.states = 0
        self.last_state = b""
        self.total_bytes = 0

    def _lines(self, block: bytes) -> None:
        # `block` holds whole lines only; a marker counts only at the start of a line.
        self.records += block.startswith(RECORD) + block.count(b"\n" + RECORD)
        self.states += block.startswith(STATE) + block.count(b"\n" + STATE)
        at = block.rfind(b"\n" + STATE)
        start = at + 1 if at >= 0 else (0 if block.startswith(STATE) else -1)
        if start >= 0:
            end = block.find(b"\n", start)
            self.last_state = block[start : end if end >= 0 else len(block)]

    def run(self) -> None:
        tail = b""
        while chunk := os.read(self.fd, 1 << 20):
            self.total_bytes += len(chunk)
            cut = chunk.rfind(b"\n")
            if cut < 0:
                tail += chunk
                continue
            self._lines(tail + chunk[: cut + 1])
            tail = chunk[cut + 1 :]
        if tail:
            self._lines(tail)


_TICK = os.sysconf("SC_CLK_TCK")


def _system_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / _TICK  # guest time is already in user


def _process_cpu_s(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return (int(rest[11]) + int(rest[12])) / _TICK  # utime, stime
    except (OSError, IndexError, ValueError):
        return 0.0


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system


@dataclass
class Run:
    """One run of one tap."""

    wall_s: float
    cpu_s: float
    user_s: float
    sys_s: float
    rss_mb: float
    records: int
    state_bytes: int
    state_messages: int
    stdout_bytes: int
    exit_code: int
    # CPU the rest of the machine used meanwhile: all busy time minus the tap's, the
    # sandbox's and this script's. Large values mean the run was disturbed.
    other_cpu_s: float = 0.0
    requests: int | None = None
    peak_in_flight: int | None = None


def run_tap(
    cmd: list[str],
    config: dict[str, Any] | None,
    workdir: Path,
    label: str,
    extra: list[str],
    sandbox_pid: int | None = None,
) -> Run:
    """Run one tap to completion; measure it."""
    args = list(cmd)
    if config is not None:
        cfg_path = workdir / f"{label}.config.json"
        cfg_path.write_text(json.dumps(config))
        args += ["--config", str(cfg_path)]
    args += extra
    err_path = workdir / f"{label}.stderr"
    busy0, own0, sb0 = _system_busy_s(), _own_cpu_s(), _process_cpu_s(sandbox_pid)
    result_r, result_w = os.pipe()
    try:
        with open(err_path, "wb") as err:
            proc = subprocess.Popen(
                [*LAUNCHER, str(result_w), *args],
                stdout=subprocess.PIPE,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env=CHILD_ENV,
                pass_fds=(result_w,),
                start_new_session=True,  # its own process group: stopped as a whole
            )
    finally:
        os.close(result_w)
    _LIVE.append(proc)
    assert proc.stdout is not None
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
    reader.join()
    proc.stdout.close()
    if not raw:
        raise RuntimeError(f"{label}: launcher failed (exit {proc.returncode}); see {err_path}")
    usage = json.loads(raw)
    wall = usage["wall_s"]
    proc.returncode = usage["exit_code"]
    tap_cpu = usage["ru_utime"] + usage["ru_stime"]
    other = (
        _system_busy_s()
        - busy0
        - tap_cpu
        - (_own_cpu_s() - own0)
        - (_process_cpu_s(sandbox_pid) - sb0)
    )
    if proc.returncode != 0:
        tail = err_path.read_text(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"{label}: exit {proc.returncode}\n  " + "\n  ".join(tail))
    return Run(
        wall_s=wall,
        cpu_s=tap_cpu,
        user_s=usage["ru_utime"],
        sys_s=usage["ru_stime"],
        rss_mb=usage["ru_maxrss"] / 1024,  # KiB on Linux
        records=reader.records,
        state_bytes=len(reader.last_state),
        state_messages=reader.states,
        stdout_bytes=reader.total_bytes,
        exit_code=proc.returncode,
        other_cpu_s=max(other, 0.0),
    )


def median_run(runs: list[Run]) -> Run:
    """Per-metric median of repeated runs."""
    out = {}
    for key, value in asdict(runs[0]).items():
        values = [getattr(r, key) for r in runs]
        if value is None or any(v is None for v in values):
            out[key] = None
        elif isinstance(value, int) and not isinstance(value, bool):
            out[key] = int(statistics.median_low(values))
        else:
            out[key] = statistics.median(values)
    return Run(**out)


# -- scenarios --------------------------------------------------------------------


@dataclass
class Row:
    scenario: str
    tap: str
    ids: int | str
    latency_ms: float
    concurrency: int | str
    run: Run
    runs: list[Run]
    floor_s: float | None = None
    note: str = ""
    load: list[float] = field(default_factory=list)


@dataclass
class Scenario:
    key: str
    title: str
    syncs: int  # syncs the sandbox serves
    latency_ms: float
    ids: list[int]  # one row per entry: how many sync ids (0: listing mode)
    taps: list[str]  # "tap-sequin", "stock"
    concurrency: int = DEFAULT_CONCURRENCY
    stock_once: bool = False  # run the stock tap once only, not --repeat times
    note: str = ""


def scenarios(quick: bool) -> list[Scenario]:
    q = quick
    return [
        Scenario(
            "A",
            "20 ms latency, default settings",
            60 if q else 300,
            20,
            [60 if q else 300],
            ["stock", "tap-sequin"],
        ),
        Scenario(
            "B", "no latency", 300 if q else 3000, 0, [300 if q else 3000], ["stock", "tap-sequin"]
        ),
        Scenario(
            "C",
            "no latency",
            1000 if q else 10000,
            0,
            [1000 if q else 10000],
            ["stock", "tap-sequin"],
        ),
        Scenario(
            "D",
            "50 ms latency, max_concurrent_requests 16",
            200 if q else 1000,
            50,
            [200 if q else 1000],
            ["stock", "tap-sequin"],
            concurrency=16,
            stock_once=True,
            note="stock run once (not repeated): it is strictly sequential",
        ),
        Scenario(
            "E",
            "no latency, RSS vs ids",
            1000 if q else 10000,
            0,
            [100 if q else 1000, 1000 if q else 10000],
            ["tap-sequin"],
        ),
        Scenario(
            "L",
            "listing mode (no sync_ids), one request",
            1000 if q else 10000,
            0,
            [0],
            ["tap-sequin"],
            note="information only",
        ),
    ]


def sync_ids(n: int) -> list[str]:
    from tap_sequin.sandbox import generate_syncs

    return [s["id"] for s in generate_syncs(n, 1)]


def measure_startup(workdir: Path, repeat: int) -> dict[str, Any]:
    """Wall of `tap-sequin --about`, and of 1-id runs (tap-sequin and stock), 0 latency."""
    k = max(repeat, 3)
    # Warm-up (fills the bytecode cache; not measured).
    run_tap(TAP_SEQUIN, None, workdir, "warmup", ["--about"])
    run_tap(STOCK, None, workdir, "warmup-stock", ["--about"])
    about = [run_tap(TAP_SEQUIN, None, workdir, "about", ["--about"]) for _ in range(k)]
    one = sync_ids(1)
    with Sandbox(1, 0, workdir) as sb:
        cfg = {"api_key": TOKEN, "base_url": sb.url, "sync_ids": one}
        run_tap(TAP_SEQUIN, cfg, workdir, "warmup-tap", [])  # imports the HTTP stack too
        run_tap(STOCK, cfg, workdir, "warmup-stock", [])
        tap, stock = [], []
        for _ in range(k):
            tap.append(run_tap(TAP_SEQUIN, cfg, workdir, "startup-tap", [], sb.pid))
            stock.append(run_tap(STOCK, cfg, workdir, "startup-stock", [], sb.pid))
    for name, runs in (("about", about), ("tap-sequin 1 id", tap), ("stock 1 id", stock)):
        print(
            f"  start-up {name}: wall "
            + ", ".join(f"{r.wall_s:.2f}" for r in runs)
            + " s; CPU "
            + ", ".join(f"{r.cpu_s:.2f}" for r in runs)
            + " s; other-CPU "
            + ", ".join(f"{r.other_cpu_s:.2f}" for r in runs),
            file=sys.stderr,
        )
    return {
        "about": median_run(about),
        "tap-sequin 1 id": median_run(tap),
        "stock 1 id": median_run(stock),
    }


def run_scenario(sc: Scenario, repeat: int, workdir: Path, startup_s: float) -> list[Row]:
    rows: list[Row] = []
    all_ids = sync_ids(sc.syncs)
    print(f"[{sc.key}] sandbox: {sc.syncs} syncs, {sc.latency_ms:g} ms", file=sys.stderr)
    with Sandbox(sc.syncs, sc.latency_ms, workdir) as sb:
        for n in sc.ids:
            runs: dict[str, list[Run]] = {tap: [] for tap in sc.taps}
            loads: list[float] = []
            for r in range(repeat):
                for tap in sc.taps:
                    if tap == "stock" and sc.stock_once and r > 0:
                        continue
                    cfg: dict[str, Any] = {"api_key": TOKEN, "base_url": sb.url}
                    if n:
                        cfg["sync_ids"] = all_ids[:n]
                    if tap == "tap-sequin" and sc.concurrency != DEFAULT_CONCURRENCY:
                        cfg["max_concurrent_requests"] = sc.concurrency
                    cmd = STOCK if tap == "stock" else TAP_SEQUIN
                    sb.clear()
                    loads.append(os.getloadavg()[0])
                    run = run_tap(cmd, cfg, workdir, f"{sc.key}-{tap}-{n}", [], sb.pid)
                    stats = sb.stats()
                    run.requests = stats["requests"]
                    run.peak_in_flight = stats["peak_in_flight"]
                    runs[tap].append(run)
                    print(
                        f"  {sc.key} {tap:10} ids={n or 'list'} run {r + 1}: "
                        f"wall {run.wall_s:.2f}s cpu {run.cpu_s:.2f}s rss {run.rss_mb:.0f}MB "
                        f"records {run.records} requests {run.requests} "
                        f"peak-in-flight {run.peak_in_flight} load {loads[-1]:.2f} "
                        f"other-CPU {run.other_cpu_s:.2f}s",
                        file=sys.stderr,
                    )
            for tap in sc.taps:
                conc: int | str = 1 if tap == "stock" else sc.concurrency
                floor = None
                if tap == "tap-sequin" and sc.latency_ms and n:
                    floor = n * sc.latency_ms / 1000 / sc.concurrency + startup_s
                if not n:
                    conc = "1 (list)"
                note = sc.note if (tap == "stock" and sc.stock_once) or sc.key == "L" else ""
                rows.append(
                    Row(
                        sc.key,
                        tap,
                        n or f"list of {sc.syncs}",
                        sc.latency_ms,
                        conc,
                        median_run(runs[tap]),
                        runs[tap],
                        floor,
                        note,
                        loads,
                    )
                )
        summary = sb.summary
    print(f"  {summary()}", file=sys.stderr)
    return rows


# -- report -----------------------------------------------------------------------


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def _fmt(x: float | None, spec: str = ".2f", suffix: str = "") -> str:
    return "" if x is None else f"{x:{spec}}{suffix}"


def table(rows: list[Row]) -> str:
    head = (
        "| scenario | tap | ids | latency ms | concurrency | wall s | CPU s | peak RSS MB "
        "| records | state bytes | stdout MB | wall stock/tap | CPU stock/tap | floor s "
        "| wall tap/floor |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    stock = {(r.scenario, r.ids): r for r in rows if r.tap == "stock"}
    for r in rows:
        s = stock.get((r.scenario, r.ids)) if r.tap == "tap-sequin" else None
        lines.append(
            "| "
            + " | ".join(
                [
                    r.scenario,
                    r.tap,
                    f"{r.ids:,}" if isinstance(r.ids, int) else r.ids,
                    f"{r.latency_ms:g}",
                    str(r.concurrency),
                    f"{r.run.wall_s:.2f}",
                    f"{r.run.cpu_s:.2f}",
                    f"{r.run.rss_mb:.1f}",
                    f"{r.run.records:,}",
                    f"{r.run.state_bytes:,}",
                    f"{r.run.stdout_bytes / 1e6:.1f}",
                    _fmt(_ratio(s.run.wall_s, r.run.wall_s) if s else None, ".1f", "x"),
                    _fmt(_ratio(s.run.cpu_s, r.run.cpu_s) if s else None, ".1f", "x"),
                    _fmt(r.floor_s),
                    _fmt(_ratio(r.run.wall_s, r.floor_s), ".2f", "x"),
                ]
            )
            + " |"
        )
    return "\n".join(lines)


def verdicts(rows: list[Row], quick: bool, startup_cpu: float = 0.0) -> list[tuple[str, bool, str]]:
    def find(sc: str, tap: str, ids: int | None = None) -> Row | None:
        for r in rows:
            if r.scenario == sc and r.tap == tap and (ids is None or r.ids == ids):
                return r
        return None

    out: list[tuple[str, bool, str]] = []
    a, a_s = find("A", "tap-sequin"), find("A", "stock")
    if a and a_s:
        x = a_s.run.wall_s / a.run.wall_s
        out.append(("A: wall stock/tap-sequin >= 5x", x >= 5, f"{x:.2f}x"))
    if a and a.floor_s:
        x = a.run.wall_s / a.floor_s
        out.append(
            (
                "A: tap-sequin wall within 1.3x of floor",
                x <= 1.3,
                f"{x:.2f}x ({a.run.wall_s:.2f} s vs floor {a.floor_s:.2f} s)",
            )
        )
    for key, target in (("B", 3), ("C", 8)):
        t, s = find(key, "tap-sequin"), find(key, "stock")
        if t and s:
            x = s.run.cpu_s / t.run.cpu_s
            out.append(
                (
                    f"{key}: CPU stock/tap-sequin >= {target}x",
                    x >= target,
                    f"{x:.2f}x ({s.run.cpu_s:.2f} s vs {t.run.cpu_s:.2f} s)",
                )
            )
    d = find("D", "tap-sequin")
    if d and d.floor_s:
        x = d.run.wall_s / d.floor_s
        out.append(
            (
                "D: tap-sequin wall within 1.3x of floor",
                x <= 1.3,
                f"{x:.2f}x ({d.run.wall_s:.2f} s vs floor {d.floor_s:.2f} s)",
            )
        )
    e_rows = [r for r in rows if r.scenario == "E"]
    if len(e_rows) == 2:
        small, big = sorted(e_rows, key=lambda r: r.ids)  # type: ignore[arg-type,return-value]
        x = big.run.rss_mb / small.run.rss_mb
        out.append(
            (
                f"E: peak RSS at {big.ids:,} ids within 1.5x of {small.ids:,} ids",
                x <= 1.5,
                f"{x:.2f}x ({big.run.rss_mb:.1f} MB vs {small.run.rss_mb:.1f} MB)",
            )
        )
        # Linear cost, measured as the issue measured the stock pattern (total CPU over
        # records: 1.8 ms at 2,000 ids, 4.5 ms at 10,000); the marginal cost between the
        # two sizes is shown too, since start-up weighs on the small run.
        per_small = small.run.cpu_s / small.ids  # type: ignore[operator]
        per_big = big.run.cpu_s / big.ids  # type: ignore[operator]
        marginal = (big.run.cpu_s - small.run.cpu_s) / (big.ids - small.ids)  # type: ignore[operator]
        x = per_big / per_small
        out.append(
            (
                f"E: CPU per record at {big.ids:,} ids within 1.25x of {small.ids:,} ids",
                x <= 1.25,
                f"{x:.2f}x ({per_big * 1e6:.0f} us vs {per_small * 1e6:.0f} us per record; "
                f"marginal cost between them {marginal * 1e6:.0f} us per record, "
                f"start-up CPU {startup_cpu:.2f} s)",
            )
        )
    if quick:
        out = [(f"{name} [--quick sizes]", ok, detail) for name, ok, detail in out]
    return out


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "--", "tap_sequin"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        head, dirty = "", ""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "tap_sequin").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return {
        "code": f"git {head}{' + uncommitted changes in tap_sequin/' if dirty else ''}; "
        f"tap_sequin/*.py sha256 {digest.hexdigest()[:12]}",
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--only", help="comma-separated scenarios: A,B,C,D,E,L")
    parser.add_argument("--repeat", type=int, default=1, help="runs per tap (median)")
    parser.add_argument("--json", metavar="FILE", help="save all results as JSON")
    parser.add_argument(
        "--clean-env",
        action="store_true",
        help="drop PYTHONUNBUFFERED and PYTHONDONTWRITEBYTECODE from the children's "
        "environment and cache bytecode in a temporary directory (default: as inherited)",
    )
    args = parser.parse_args(argv)
    wanted = {s.strip().upper() for s in args.only.split(",")} if args.only else None

    signal.signal(signal.SIGTERM, _on_sigterm)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    info = machine()
    load_start = os.getloadavg()
    print(f"machine: {info}; load at start {load_start}", file=sys.stderr)
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tap-sequin-bench-") as tmp:
            workdir = Path(tmp)
            global CHILD_ENV
            CHILD_ENV = child_env(not args.clean_env, workdir)
            startup = measure_startup(workdir, args.repeat)
            startup_s = startup["tap-sequin 1 id"].wall_s
            print(
                f"start-up: tap-sequin --about {startup['about'].wall_s:.2f}s, tap-sequin 1 id "
                f"{startup_s:.2f}s (CPU {startup['tap-sequin 1 id'].cpu_s:.2f}s), stock 1 id "
                f"{startup['stock 1 id'].wall_s:.2f}s",
                file=sys.stderr,
            )
            for sc in scenarios(args.quick):
                if wanted is None or sc.key in wanted:
                    rows += run_scenario(sc, args.repeat, workdir, startup_s)
    except KeyboardInterrupt:
        print("interrupted; stopping child processes", file=sys.stderr)
        return 130
    finally:
        stop_all()
    load_end = os.getloadavg()
    code_end = machine()["code"]

    env_desc = (
        "inherited environment"
        + "".join(f", {n}={os.environ[n]}" for n in SCRUBBED if n in os.environ)
        if not args.clean_env
        else "clean environment (no PYTHONUNBUFFERED / PYTHONDONTWRITEBYTECODE; bytecode cached)"
    )
    print(f"\n### Results ({'quick, ' if args.quick else ''}median of {args.repeat}; {env_desc})\n")
    print(table(rows))
    print(
        f"\nStart-up (0 latency, median of {max(args.repeat, 3)}): `tap-sequin --about` "
        f"{startup['about'].wall_s:.2f} s wall; tap-sequin with 1 id "
        f"{startup_s:.2f} s wall / {startup['tap-sequin 1 id'].cpu_s:.2f} s CPU / "
        f"{startup['tap-sequin 1 id'].rss_mb:.1f} MB; stock with 1 id "
        f"{startup['stock 1 id'].wall_s:.2f} s wall / {startup['stock 1 id'].cpu_s:.2f} s CPU."
    )
    print(
        "floor = ids x latency / max_concurrent_requests + start-up (tap-sequin, 1 id). "
        "stdout MB: all bytes the tap wrote. state bytes: the last STATE line (the stock "
        "tap keeps one partition entry per id)."
    )
    notes = sorted({f"{r.scenario}/{r.tap}: {r.note}" for r in rows if r.note})
    for note in notes:
        print(f"Note: {note}.")
    results = verdicts(rows, args.quick, startup["tap-sequin 1 id"].cpu_s)
    if results:
        print("\n### Targets\n")
        for name, ok, detail in results:
            print(f"- {'PASS' if ok else 'FAIL'} {name}: {detail}")
    loads = [x for r in rows for x in r.load]
    print(
        f"\nLoad average (1 min): {load_start[0]:.2f} at start, {load_end[0]:.2f} at end"
        + (f", {min(loads):.2f}-{max(loads):.2f} before each run" if loads else "")
        + f"; machine: {info['nproc']} x {info['cpu']}, Python {info['python']}, "
        f"{info['date_utc']}; code: {info['code']}"
        + (
            "."
            if code_end == info["code"]
            else f" at start, {code_end} at end: THE CODE CHANGED DURING THE RUN."
        )
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": info,
                    "load_start": load_start,
                    "load_end": load_end,
                    "code_end": code_end,
                    "repeat": args.repeat,
                    "quick": args.quick,
                    "inherit_env": not args.clean_env,
                    "startup": {k: asdict(v) for k, v in startup.items()},
                    "rows": [asdict(r) for r in rows],
                    "targets": [{"target": n, "pass": ok, "detail": d} for n, ok, d in results],
                },
                indent=2,
            )
        )
    return 0 if all(ok for _, ok, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
