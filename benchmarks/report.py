"""What a benchmark run reports: rows, their markdown table, targets, and the machine.

A Row is one program in one scenario, with the median of its repeated runs; a Target is
a named ratio with its threshold. Both print as markdown (stdout) and save as JSON.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from harness import ROOT, Run


@dataclass
class Row:
    scenario: str
    program: str
    what: str  # e.g. "300 ids", "list of 10,000"
    latency_ms: float
    concurrency: str
    run: Run
    runs: list[Run] = field(default_factory=list)
    floor_s: float | None = None
    note: str = ""


@dataclass
class Target:
    name: str
    value: float  # the measured ratio
    limit: float
    at_least: bool  # True: value >= limit passes; False: value <= limit passes
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.value >= self.limit if self.at_least else self.value <= self.limit

    def line(self) -> str:
        sign = ">=" if self.at_least else "<="
        return (
            f"- {'PASS' if self.ok else 'FAIL'} {self.name}: {self.value:.2f}x "
            f"(target {sign} {self.limit:g}x){'; ' + self.detail if self.detail else ''}"
        )


def table(rows: list[Row]) -> str:
    """Markdown table: one line per row, medians, with wall/floor where there is a floor.

    other-CPU is what the rest of the machine burnt during a run (median): the sandbox,
    PostgreSQL, and anyone else. Seconds of it per second of wall near the number of
    cores mean the run competed for CPU.
    """
    head = (
        "| scenario | program | syncs | latency ms | concurrency | wall s | CPU s "
        "| peak RSS MB | records | floor s | wall/floor | runs (wall s) | other-CPU s |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cells = [
            r.scenario,
            r.program,
            r.what,
            f"{r.latency_ms:g}",
            r.concurrency,
            f"{r.run.wall_s:.2f}",
            f"{r.run.cpu_s:.2f}",
            f"{r.run.rss_mb:.0f}",
            f"{r.run.records:,}" if r.run.records else "",
            f"{r.floor_s:.2f}" if r.floor_s else "",
            f"{r.run.wall_s / r.floor_s:.2f}x" if r.floor_s else "",
            ", ".join(f"{x.wall_s:.2f}" for x in r.runs),
            f"{r.run.other_cpu_s:.1f}",
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def summary(targets: list[Target]) -> str:
    """Markdown table of every target: what was compared, the ratio, the limit, the verdict."""
    lines = ["| target | measured | ratio | limit | |", "|---|---|---|---|---|"]
    for t in targets:
        sign = ">=" if t.at_least else "<="
        cells = [t.name, t.detail, f"{t.value:.2f}x", f"{sign} {t.limit:g}x"]
        cells.append("pass" if t.ok else "**FAIL**")
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _lscpu() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    except OSError:
        return ""
    keep = ("Model name", "CPU(s)", "Thread(s) per core", "Hypervisor vendor", "CPU max MHz")
    fields = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in keep:
            fields[key.strip()] = value.strip()
    return ", ".join(f"{k}: {v}" for k, v in fields.items())


def _code() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    digest = hashlib.sha256()
    for path in sorted((ROOT / "tap_sequin").rglob("*.py")):
        digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    dirty = " + uncommitted changes" if git("status", "--porcelain", "--", "tap_sequin") else ""
    head = git("rev-parse", "--short", "HEAD")
    return f"git {head}{dirty}; tap_sequin sha256 {digest.hexdigest()[:12]}"


def machine() -> dict[str, Any]:
    """The machine and code a run measured: lscpu, memory, Python, versions, load."""
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    versions = {}
    for dist in ("singer-sdk", "dlt", "meltano", "requests"):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:
            versions[dist] = "not installed"
    return {
        "cpu": _lscpu() or platform.processor(),
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_gib, 1),
        "python": f"{platform.python_version()} ({sys.executable})",
        "platform": platform.platform(),
        "versions": versions,
        "code": _code(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
        "load_1min": os.getloadavg()[0],
    }


def machine_line(info: dict[str, Any]) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items())
    return (
        f"Machine: {info['cpu']}; {info['nproc']} CPUs, {info['memory_gib']} GiB; "
        f"Python {info['python'].split()[0]}; {info['platform']}; {versions}. "
        f"Code: {info['code']}. Started {info['date_utc']}, 1-min load {info['load_1min']:.2f}."
    )
