"""`tap-sequin-sandbox`: run the sandbox as a process until SIGTERM or SIGINT.

The first line on stdout is the base URL, printed once the socket listens; a one-line
summary (requests, peak in-flight, server CPU per request) goes to stderr at exit.
Bad flags exit 2 with argparse's one-line message.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import textwrap
import time
import typing as t
from typing import IO

from tap_sequin.sandbox.admin import ROUTES
from tap_sequin.sandbox.data import generate_syncs
from tap_sequin.sandbox.faults import Faults, parse_rule
from tap_sequin.sandbox.self_hosted.admin import ROUTES as SELF_HOSTED_ROUTES
from tap_sequin.sandbox.self_hosted.seed import seed_world
from tap_sequin.sandbox.self_hosted.world import World
from tap_sequin.sandbox.server import SandboxServer

USAGE_NOTES = """\
output:
  The first line on stdout is the base URL (http://127.0.0.1:PORT), printed once the
  sandbox listens: point the tap at it with base_url and --token's value as api_key.
  The sandbox serves GET/PATCH/DELETE /v1/syncs/{id}, GET/POST /v1/syncs and
  GET /v1/credentials, like Sequin's v1 API, and runs until SIGTERM or SIGINT
  (Ctrl-C); then one summary line goes to stderr.
  With --api self-hosted it serves the self-hosted server's API instead (--sinks seeded
  sinks): GET /api/sinks, /api/sinks/{id_or_name}, /api/sinks/{id_or_name}/backfills,
  /api/postgres_databases, /api/destinations/http_endpoints, and GET /health (no token).

admin routes (no token; never faulted, delayed or logged):
"""
SELF_HOSTED_NOTE = "\nadmin routes with --api self-hosted (besides the ones above):\n"


def _at_least(minimum: float, kind: type[float] | type[int]) -> t.Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a{'n integer' if kind is int else ' number'}"
            ) from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be {minimum} or more, got {text}")
        return value

    return parse


def _share(text: str) -> float:
    value = _at_least(0, float)(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"is a share of requests, from 0 to 1, got {text}")
    return value


def _port(text: str) -> int:
    value = int(_at_least(0, int)(text))
    if value > 65535:
        raise argparse.ArgumentTypeError(f"must be 0 (any free port) to 65535, got {text}")
    return value


def _token(text: str) -> str:
    if not text.strip() or not text.isprintable() or any(ch.isspace() for ch in text):
        raise argparse.ArgumentTypeError("must be a non-empty token without spaces")
    return text


def build_parser() -> argparse.ArgumentParser:
    """The command line, flag for flag with `Sandbox` and `Faults`."""

    def listing(routes: tuple[tuple[str, str], ...]) -> str:
        return "\n".join(
            "  "
            + route
            + "\n"
            + textwrap.fill(effect, 88, initial_indent=" " * 6, subsequent_indent=" " * 6)
            for route, effect in routes
        )

    routes = listing(ROUTES) + "\n" + SELF_HOSTED_NOTE + listing(SELF_HOSTED_ROUTES)
    parser = argparse.ArgumentParser(
        prog="tap-sequin-sandbox",
        description="A local Sequin API (v1, or the self-hosted server's) for tests and demos, "
        "on 127.0.0.1.",
        formatter_class=_Formatter,
        epilog=USAGE_NOTES + routes,
    )
    add = parser.add_argument
    count, number = _at_least(0, int), _at_least(0, float)
    add("--port", type=_port, default=0, help="port on 127.0.0.1 (0: any free port)")
    add(
        "--api",
        choices=("v1", "self-hosted"),
        default="v1",
        help="which API to serve: Sequin's v1 API, or the self-hosted server's under /api",
    )
    add("--syncs", type=count, default=50, help="how many seeded syncs to serve (v1)")
    add("--sinks", type=count, default=12, help="how many seeded sinks to serve (self-hosted)")
    add(
        "--secrets-in-clear",
        action="store_true",
        help="self-hosted: send every secret in clear, not obfuscated (the real server "
        "obfuscates them; this shows a client what it must never load)",
    )
    add("--seed", type=int, default=1, help="seed of the data set and of the faults")
    add(
        "--run",
        type=int,
        default=1,
        help="serve the world as in this run (some syncs' or sinks' health changes between "
        "runs, and self-hosted backfills progress)",
    )
    add("--token", type=_token, default="sandbox-token", help="the API token clients must send")
    add("--latency-ms", type=number, default=0.0, help="delay added to every API request")
    add("--rate-429", type=_share, default=0.0, help="share of requests answered 429")
    add("--retry-after", type=count, default=1, help="Retry-After seconds on 429s")
    add("--retry-after-date", action="store_true", help="send Retry-After as an HTTP-date")
    add("--rate-5xx", type=_share, default=0.0, help="share answered 500/502/503/504")
    add("--rate-drop", type=_share, default=0.0, help="share dropped without an answer")
    add("--rate-cut", type=_share, default=0.0, help="share with a cut-off body")
    add("--rate-html", type=_share, default=0.0, help="share answered by a 502 HTML page")
    add("--rate-html-200", type=_share, default=0.0, help="share answered by a 200 HTML page")
    add("--rate-empty", type=_share, default=0.0, help="share answered by an empty 200")
    add("--rate-slow", type=_share, default=0.0, help="share answered after --slow-ms")
    add("--slow-ms", type=number, default=5000.0, help="delay of slow answers")
    add("--not-found", nargs="+", default=[], metavar="ID", help="sync (or sink) ids answering 404")
    add(
        "--rule",
        action="append",
        default=[],
        metavar="PATH=KIND[*TIMES]",
        help="e.g. '/v1/syncs/ID=503*2' or '/v1/syncs*=drop'; PATH may end in * (prefix)",
    )
    add("--revoked", action="store_true", help="answer 401 to every API request")
    add("--log", metavar="FILE", help="write one JSON line per request to FILE")
    return parser


class _Formatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown after each flag; the epilog (output, admin routes) kept as written."""


def faults_from_args(args: argparse.Namespace) -> Faults:
    """The `Faults` the flags ask for."""
    return Faults(
        rate_429=args.rate_429,
        retry_after=args.retry_after,
        retry_after_date=args.retry_after_date,
        rate_5xx=args.rate_5xx,
        rate_drop=args.rate_drop,
        rate_cut=args.rate_cut,
        rate_html=args.rate_html,
        rate_html200=args.rate_html_200,
        rate_empty=args.rate_empty,
        rate_slow=args.rate_slow,
        slow_ms=args.slow_ms,
        not_found=frozenset(args.not_found),
        rules=tuple(parse_rule(r) for r in args.rule),
        revoked=args.revoked,
    )


async def serve(args: argparse.Namespace, faults: Faults, sink: IO[str] | None) -> SandboxServer:
    """Listen, print the URL, serve until a stop signal; return the server for its stats."""
    world = None
    if args.api == "self-hosted":
        seeded = seed_world(args.sinks, args.seed, args.run)
        world = World(seeded, run=args.run, secrets_in_clear=args.secrets_in_clear)
    server = SandboxServer(
        generate_syncs(args.syncs, args.seed, args.run) if world is None else [],
        seed=args.seed,
        token=args.token,
        faults=faults,
        latency_ms=args.latency_ms,
        log_sink=sink,
        cpu_clock=time.process_time,
        owned=True,
        run=args.run,
        world=world,
    )
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    port = await server.listen("127.0.0.1", args.port)
    print(f"http://127.0.0.1:{port}", flush=True)
    if sink is not None:
        flusher = asyncio.ensure_future(_flush_every(sink, 0.5))
    await stop.wait()
    server.close()
    await server.wait_closed()
    if sink is not None:
        flusher.cancel()
    return server


async def _flush_every(sink: IO[str], seconds: float) -> None:
    # So another process can follow the log while the sandbox runs.
    while True:
        await asyncio.sleep(seconds)
        sink.flush()


def main(argv: list[str] | None = None) -> int:
    """Run the sandbox; exit status 0 after SIGTERM/SIGINT, 2 on bad flags."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.run < 1:
        parser.error(f"argument --run: must be 1 or more, got {args.run}")
    if args.secrets_in_clear and args.api != "self-hosted":
        parser.error("argument --secrets-in-clear: only with --api self-hosted")
    try:
        faults = faults_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    times_before = os.times()
    try:
        sink = open(args.log, "w", encoding="utf-8") if args.log else None  # noqa: SIM115
    except OSError as error:
        parser.error(f"argument --log: cannot write {args.log} ({error.strerror or error})")
    try:
        server = asyncio.run(serve(args, faults, sink))
    finally:
        if sink is not None:
            sink.close()
    stats = server.stats()
    times = os.times()
    user, system = times.user - times_before.user, times.system - times_before.system
    per_request = stats.server_cpu_seconds / stats.requests * 1e6 if stats.requests else 0.0
    print(
        f"sandbox: {stats.requests} requests, peak {stats.peak_in_flight} in flight, "
        f"{stats.server_cpu_seconds:.3f} s CPU serving ({per_request:.1f} us/request); "
        f"process user {user:.3f} s, system {system:.3f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
