"""Where does tap-sequin's CPU go? Run it in-process under cProfile, every thread included.

    .venv/bin/python benchmarks/profile_tap.py [--ids 3000] [--latency-ms 0]
        [--concurrency 8] [--list] [--api v1|self-hosted] [--timer cpu|wall] [--top 30]
        [--sort tottime] [--out FILE.pstats]

With `--api self-hosted`, the sandbox serves `--ids` sinks and the tap extracts every
self-hosted stream (the sinks listing, then each sink's backfills).

A `tap-sequin-sandbox` subprocess serves the syncs; the tap runs in this process
(`TapSequin(config).sync_all()`, stdout to /dev/null). cProfile only sees the thread
that enabled it, and tap-sequin does its HTTP on worker threads, so every thread started
during the run gets its own `cProfile.Profile` (installed via `threading.setprofile`,
which then hands the thread to the C profiler) and all of them are merged at the end.
Start-up (imports, tap construction, discovery) is profiled separately and listed first
unless --no-startup.

Caveats:
- cProfile adds a fixed cost per Python call, so many tiny functions look costlier than
  they are; compare shares, not absolute seconds, with benchmarks/run.py's numbers.
- The default timer is per-thread CPU time (`time.thread_time`): time a worker spends
  blocked in a socket read does not count. `--timer wall` shows waits instead.
- Time spent in C without Python calls (json encoding, socket reads) is attributed to
  the builtin that was called.
- Imports done before profiling starts (this script imports tap_sequin.sandbox for the
  sync ids) are not in the start-up profile; run `python -X importtime -m tap_sequin
  --about` for imports alone.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import logging
import os
import pstats
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent


def _thread_profiles(
    timer: Callable[[], float] | None,
) -> tuple[list[cProfile.Profile], object]:
    profiles: list[cProfile.Profile] = []

    def hook(frame: object, event: str, arg: object) -> None:
        # First profile event in a new thread: hand the thread to a profiler of its own.
        profile = cProfile.Profile(timer) if timer else cProfile.Profile()
        profiles.append(profile)
        profile.enable()

    return profiles, hook


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ids", type=int, default=3000, help="sync ids (sandbox serves as many)")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--concurrency", type=int, default=8, help="max_concurrent_requests")
    parser.add_argument("--list", action="store_true", help="listing mode (no sync_ids)")
    parser.add_argument("--api", choices=["v1", "self-hosted"], default="v1")
    parser.add_argument("--timer", choices=["cpu", "wall"], default="cpu")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumtime)")
    parser.add_argument("--no-startup", action="store_true", help="skip the start-up profile")
    parser.add_argument("--out", help="also dump the merged run profile (pstats file)")
    args = parser.parse_args()
    timer = time.thread_time if args.timer == "cpu" else None
    if sys.dont_write_bytecode:
        print(
            "note: PYTHONDONTWRITEBYTECODE is set: start-up includes compiling modules "
            "from source (builtins.compile), which an installed tap does not do",
            file=sys.stderr,
        )

    self_hosted = args.api == "self-hosted"
    cmd = [str(BIN / "tap-sequin-sandbox"), "--port", "0", "--api", args.api]
    cmd += ["--sinks" if self_hosted else "--syncs", str(args.ids)]
    cmd += ["--seed", "1", "--latency-ms", str(args.latency_ms)]
    sandbox = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert sandbox.stdout is not None
        url = sandbox.stdout.readline().decode().strip()
        if not url.startswith("http://"):
            raise SystemExit(f"sandbox did not start: {url!r}")
        config: dict[str, object] = {
            "api_key": "sandbox-token",
            "base_url": url,
            "max_concurrent_requests": args.concurrency,
            "api": args.api,
        }
        if not (args.list or self_hosted):
            from tap_sequin.sandbox import generate_syncs

            config["sync_ids"] = [s["id"] for s in generate_syncs(args.ids, 1)]

        startup = cProfile.Profile(timer) if timer else cProfile.Profile()
        startup.enable()
        from tap_sequin.tap import TapSequin

        tap = TapSequin(config=config, validate_config=True)
        _ = tap.streams
        startup.disable()
        logging.disable(logging.INFO)  # the SDK's per-stream lines would clutter the report

        profiles, hook = _thread_profiles(timer)
        main_profile = cProfile.Profile(timer) if timer else cProfile.Profile()
        threading.setprofile(hook)  # type: ignore[arg-type]
        cpu0, wall0 = time.process_time(), time.perf_counter()
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            main_profile.enable()
            tap.sync_all()
            main_profile.disable()
        threading.setprofile(None)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    finally:
        sandbox.send_signal(signal.SIGTERM)
        try:
            sandbox.wait(5)
        except subprocess.TimeoutExpired:
            sandbox.kill()
            sandbox.wait()

    n = sum(getattr(stream, "extracted", 0) for stream in tap.streams.values())
    print(
        f"tap-sequin: {n} records, sync_all {wall:.2f} s wall, {cpu:.2f} s process CPU "
        f"({cpu / max(n, 1) * 1e6:.0f} us/record, profiler overhead included); "
        f"{len(profiles)} worker thread(s) profiled; timer: {args.timer}"
    )
    if not args.no_startup:
        print(
            f"\n## Start-up (imports after this script's own, tap construction, discovery); "
            f"top {args.top} by {args.sort}\n"
        )
        _print(pstats.Stats(startup), args)

    # Each worker profiler is still attached to its (finished) thread; create_stats() on
    # this thread only turns this thread's profiling off, which is already off.
    merged = pstats.Stats(main_profile)
    for profile in profiles:
        profile.create_stats()
        merged.add(profile)
    print(f"\n## Run (main thread + workers merged); top {args.top} by {args.sort}\n")
    _print(merged, args)
    if args.out:
        merged.dump_stats(args.out)
        print(f"\nsaved {args.out} (open with: python -m pstats {args.out})")
    return 0


def _print(stats: pstats.Stats, args: argparse.Namespace) -> None:
    buffer = io.StringIO()
    stats.stream = buffer  # type: ignore[attr-defined]
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    text = buffer.getvalue()
    # Drop pstats' preamble (file list) but keep the totals line and the table.
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if "function calls" in line), 0)
    print("\n".join(line for line in lines[start:] if line.strip()))


if __name__ == "__main__":
    sys.exit(main())
