"""Shared fixtures: a sandbox Sequin API on loopback, and two ways to run the tap.

``run_cli`` runs the real ``tap-sequin`` command in a subprocess (exit status,
stderr, signals); ``run_in_process`` drives ``TapSequin`` directly, which is
faster and still goes through the real HTTP code path to the sandbox.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import logging
import os
import signal
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from hypothesis import settings

from tap_sequin.sandbox import Faults, Sandbox, SelfHostedSandbox

# CI explores the same examples every run (a red build must be reproducible);
# developers' runs keep exploring new ones.
settings.register_profile("ci", derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")

# Recognisable, so a leak is easy to spot in any output.
TOKEN = "tok-LEAKCHECK-7c1e9b0d4f"
REPO = Path(__file__).resolve().parents[1]


@dataclasses.dataclass
class Run:
    """What one tap run produced."""

    status: int
    stdout: str
    stderr: str
    messages: list[dict[str, t.Any]]

    @property
    def records(self) -> list[dict[str, t.Any]]:
        """The records of the ``syncs`` stream."""
        return self.records_of("syncs")

    def records_of(self, stream: str) -> list[dict[str, t.Any]]:
        return [m["record"] for m in self.of_type("RECORD") if m["stream"] == stream]

    def of_stream(self, kind: str, stream: str) -> list[dict[str, t.Any]]:
        return [m for m in self.of_type(kind) if m["stream"] == stream]

    @property
    def ids(self) -> list[str]:
        return [r["id"] for r in self.records]

    def of_type(self, kind: str) -> list[dict[str, t.Any]]:
        return [m for m in self.messages if m["type"] == kind]

    @property
    def last_stderr_line(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def parse_messages(stdout: str) -> list[dict[str, t.Any]]:
    """Every stdout line must be one whole JSON Singer message."""
    return [json.loads(line) for line in stdout.splitlines()]


def config_for(sandbox: Sandbox, **overrides: t.Any) -> dict[str, t.Any]:
    """A config pointing at ``sandbox``, with quick retries for tests."""
    return {
        "api_key": TOKEN,
        "base_url": sandbox.url,
        "retry_backoff_seconds": 0.01,
        "max_retries": 3,
        "request_timeout": 5,
        **overrides,
    }


@pytest.fixture
def sandbox() -> t.Iterator[Sandbox]:
    with Sandbox(syncs=12, seed=7, token=TOKEN) as sb:
        yield sb


@pytest.fixture
def self_hosted() -> t.Iterator[SelfHostedSandbox]:
    """The sandbox serving a self-hosted Sequin server's API: 12 sinks (every case of its
    seeded world) as in run 2, where the kafka sink's ``Message delivery`` fails."""
    with SelfHostedSandbox(sinks=12, seed=1, run=2, token=TOKEN) as sb:
        yield sb


def self_hosted_config_for(
    sandbox: SelfHostedSandbox | Sandbox, **overrides: t.Any
) -> dict[str, t.Any]:
    """A config with ``api: self-hosted`` pointing at ``sandbox``, quick retries for tests."""
    return {**config_for(t.cast(Sandbox, sandbox)), "api": "self-hosted", **overrides}


def make_sandbox(**kwargs: t.Any) -> Sandbox:
    kwargs.setdefault("token", TOKEN)
    kwargs.setdefault("seed", 7)
    kwargs.setdefault("faults", Faults())
    return Sandbox(**kwargs)


def tap_command() -> list[str]:
    return [sys.executable, "-m", "tap_sequin"]


def run_cli(
    config: dict[str, t.Any] | None,
    tmp_path: Path,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
) -> Run:
    """Run ``tap-sequin --config <file>`` and collect its output."""
    command = tap_command()
    if config is not None:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(config))
        command += ["--config", str(path)]
    full_env = {**os.environ, **(env or {})}
    done = subprocess.run(
        [*command, *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        check=False,
        cwd=cwd,
    )
    try:
        messages = parse_messages(done.stdout)
    except ValueError:  # not Singer output (--about, --test); tests read .stdout
        messages = []
    return Run(done.returncode, done.stdout, done.stderr, messages)


def catalog_selecting(config: dict[str, t.Any], *streams: str) -> dict[str, t.Any]:
    """The tap's catalog with only ``streams`` selected."""
    from tap_sequin.tap import TapSequin

    catalog = TapSequin(config=config, validate_config=False).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def run_in_process(config: dict[str, t.Any], catalog: dict[str, t.Any] | None = None) -> Run:
    """Run a full sync in this process; errors propagate as exceptions."""
    from tap_sequin.tap import TapSequin

    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            tap = TapSequin(config=config, catalog=catalog)
            tap.run()
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)
    return Run(0, out.getvalue(), "", parse_messages(out.getvalue()))


@pytest.fixture(autouse=True)
def _quiet_sdk_metrics() -> None:
    # The SDK's metric lines are noise in test output.
    logging.getLogger("singer_sdk.metrics").setLevel(logging.WARNING)
