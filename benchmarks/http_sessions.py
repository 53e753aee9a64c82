"""One shared ``requests.Session`` or one session per worker? Side by side in one run.

    .venv/bin/python benchmarks/http_sessions.py [--requests 4000] [--workers 8] [--rounds 3]

Each layout GETs the same sync ids from a sandbox in its own process, ``--workers``
threads at a time, through ``tap_sequin.client.session`` (requests with the tap's watched
adapter), parsing each JSON body, each request inside a watchdog attempt as the tap
makes it. Reported per layout (median of the rounds; the order alternates each round):
wall time, this process' CPU per request (the server's is not counted), and the
connections the server saw opened.

- ``shared``: one session, its pool sized to the workers (what the tap does);
- ``per worker``: a session per thread, pool size 1, all closed at the end.

Figures on the 2-vCPU machine of the README (latency 0 and 20 ms), in the docstring of
``tap_sequin/session.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import threading
import time
import typing as t
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import requests

from tap_sequin.client.session import Watchdog, new_session
from tap_sequin.sandbox import generate_syncs

TOKEN = "sandbox-token"  # the sandbox's public default
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}


def _connections(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_sandbox/stats") as answer:
        return int(json.load(answer)["connections"])


def _run(layout: str, url: str, paths: list[str], workers: int) -> dict[str, float]:
    stop = threading.Event()
    watchdog = Watchdog(stop)
    sessions: list[requests.Session] = []
    lock = threading.Lock()
    local = threading.local()
    shared = new_session(workers) if layout == "shared" else None

    def session() -> requests.Session:
        if shared is not None:
            return shared
        own: requests.Session | None = getattr(local, "session", None)
        if own is None:
            own = local.session = new_session(1)
            with lock:
                sessions.append(own)
        return own

    def get(path: str) -> object:
        with watchdog.attempt(30):
            answer = session().get(url + path, headers=HEADERS, timeout=(30, 30))
            return json.loads(answer.content)

    before = _connections(url)
    cpu, wall = time.process_time(), time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(get, paths):
            pass
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    watchdog.close()
    for own in [*sessions, *([shared] if shared else [])]:
        own.close()
    return {
        "wall_s": wall,
        "cpu_us_per_request": cpu / len(paths) * 1e6,
        # Less the connection that asked for the stats.
        "connections": _connections(url) - before - 1,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=0)
    args = parser.parse_args()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tap_sequin.sandbox",
            "--port",
            "0",
            "--syncs",
            "200",
            "--latency-ms",
            str(args.latency_ms),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        ids = [s["id"] for s in generate_syncs(200, 1)]
        paths = [f"/v1/syncs/{ids[i % len(ids)]}" for i in range(args.requests)]
        layouts = ["shared", "per worker"]
        results: dict[str, list[dict[str, float]]] = {name: [] for name in layouts}
        for round_ in range(args.rounds):
            for name in layouts if round_ % 2 == 0 else layouts[::-1]:
                results[name].append(_run(name, url, paths, args.workers))
        print(
            f"{args.requests} GETs, {args.workers} workers, latency {args.latency_ms} ms, "
            f"median of {args.rounds} rounds"
        )
        print(f"{'layout':<12} {'wall s':>8} {'CPU us/request':>15} {'connections':>12}")
        for name in layouts:
            row: dict[str, t.Any] = {
                key: statistics.median(r[key] for r in results[name]) for key in results[name][0]
            }
            print(
                f"{name:<12} {row['wall_s']:>8.2f} {row['cpu_us_per_request']:>15.0f} "
                f"{row['connections']:>12.0f}"
            )
    finally:
        server.terminate()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
