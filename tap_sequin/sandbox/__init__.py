"""A local stand-in for Sequin's v1 management API (and for the self-hosted server's), for
tests, demos and benchmarks.

    from tap_sequin.sandbox import Sandbox, Faults, Rule, generate_syncs

    with Sandbox(syncs=50, seed=1, faults=Faults(rate_429=0.1)) as sb:
        ...  # point the tap at sb.url with token "sandbox-token"

    with SelfHostedSandbox(sinks=12, seed=1, run=1) as sb:
        ...  # the self-hosted server's API under sb.url + "/api"

Run it as a process with `tap-sequin-sandbox` (or `python -m tap_sequin.sandbox`).

Where things are: `data` (the seeded syncs), `health` (the documented health shapes), `runs`
(health that moves from run to run), `credentials` (the credentials listing), `store` (the
current world), `api` (the v1 routes), `faults` (what goes wrong, decided per request),
`replies` (what a route answers), `server` (asyncio HTTP/1.1), `wire` (parsing and writing
HTTP), `requestlog` (what happened), `admin` (`/_sandbox/` routes for another process),
`embedded` (`Sandbox`, on a background thread), `self_hosted` (the self-hosted server's API).
"""

from tap_sequin.sandbox.data import (
    EXAMPLE_SYNC,
    EXAMPLE_SYNC_ID,
    MASK,
    SECRET_MARKER,
    generate_syncs,
)
from tap_sequin.sandbox.embedded import Sandbox
from tap_sequin.sandbox.faults import Faults, Rule
from tap_sequin.sandbox.requestlog import RequestRecord, Stats
from tap_sequin.sandbox.self_hosted_embedded import SelfHostedSandbox
from tap_sequin.sandbox.server import SandboxServer

__all__ = [
    "EXAMPLE_SYNC",
    "EXAMPLE_SYNC_ID",
    "MASK",
    "SECRET_MARKER",
    "Faults",
    "RequestRecord",
    "Rule",
    "Sandbox",
    "SandboxServer",
    "SelfHostedSandbox",
    "Stats",
    "generate_syncs",
]
