"""CPU per GET of the HTTP clients tap-sequin could use, side by side in one run.

    .venv/bin/python benchmarks/http_clients.py [--requests 3000]

Each client fetches the same sync ids, one at a time over one kept-alive connection,
from a sandbox running in its own process, and the JSON body is parsed. CPU is this
process' user + system time (the server's is not counted). Clients:

- ``requests`` (a ``Session``, as the SDK's ``RESTStream`` uses it);
- ``requests`` with ``trust_env = False`` (no re-reading of proxy variables per request);
- ``urllib3`` (a ``PoolManager``, and its connection pool used directly);
- ``tap_sequin.session.new_session`` (requests with the tap's watched adapter: what the
  tap uses; ``transport.py``, the hand-written client, is gone).

The order of the clients is rotated each round, and the median of the rounds is shown.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import typing as t
from pathlib import Path

import requests
import urllib3

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "sandbox-token"  # the sandbox's public default
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json", "User-Agent": "x"}


def clients(url: str) -> dict[str, t.Callable[[str], object]]:
    from tap_sequin.client.session import new_session

    session = requests.Session()
    plain = requests.Session()
    plain.trust_env = False
    manager = urllib3.PoolManager()
    pool = urllib3.connection_from_url(url)
    timeout = urllib3.Timeout(connect=30, read=30)
    tap_session = new_session(1)

    def pooled(path: str) -> object:
        answer = pool.urlopen("GET", path, headers=HEADERS, timeout=timeout, retries=False)
        return json.loads(answer.data)

    return {
        "requests": lambda path: session.get(url + path, headers=HEADERS).json(),
        "requests, trust_env off": lambda path: plain.get(url + path, headers=HEADERS).json(),
        "urllib3 PoolManager": lambda path: json.loads(
            manager.request("GET", url + path, headers=HEADERS, timeout=timeout).data
        ),
        "urllib3 connection pool": pooled,
        "tap_sequin session": lambda path: json.loads(
            tap_session.get(url + path, headers=HEADERS).content
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="GETs per client per round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "tap_sequin.sandbox", "--port", "0", "--syncs", "200"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert sandbox.stdout is not None
        url = sandbox.stdout.readline().strip()
        from tap_sequin.sandbox import generate_syncs

        paths = [f"/v1/syncs/{s['id']}" for s in generate_syncs(200, 1)]
        work = [paths[i % len(paths)] for i in range(args.requests)]
        runners = clients(url)
        names = list(runners)
        cpu: dict[str, list[float]] = {name: [] for name in names}
        for round_ in range(args.rounds):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in order:
                get = runners[name]
                get(work[0])  # connect outside the measurement
                started = time.process_time()
                for path in work:
                    get(path)
                cpu[name].append((time.process_time() - started) / len(work))
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
    base = statistics.median(cpu["tap_sequin session"])
    print(f"CPU per GET + JSON parse, median of {args.rounds} rounds of {args.requests}:\n")
    print("| client | CPU µs per request | vs tap_sequin |")
    print("|---|---|---|")
    for name in names:
        median = statistics.median(cpu[name])
        print(f"| {name} | {median * 1e6:.0f} | {median / base:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
