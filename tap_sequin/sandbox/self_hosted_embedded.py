"""`SelfHostedSandbox`: the sandbox serving the self-hosted server's API, on a background
thread of the current process (lifecycle, log, faults and token as `Sandbox`'s)."""

from __future__ import annotations

from typing import Any

from tap_sequin.sandbox.embedded import Background
from tap_sequin.sandbox.faults import Faults
from tap_sequin.sandbox.self_hosted.seed import seed_world
from tap_sequin.sandbox.self_hosted.world import World
from tap_sequin.sandbox.server import SandboxServer


class SelfHostedSandbox(Background):
    """A local self-hosted Sequin API on `http://127.0.0.1:<port>` (routes under `/api`,
    and `/health`).

    `sinks` is how many seeded sinks to serve; `run` which run's health and backfill
    progress to show (`set_run` moves on); `secrets_in_clear` sends every secret in clear.
    """

    def __init__(
        self,
        sinks: int = 12,
        seed: int = 1,
        token: str = "sandbox-token",  # noqa: S107 (the sandbox's public default)
        faults: Faults | None = None,
        latency_ms: float = 0.0,
        port: int = 0,
        run: int = 1,
        secrets_in_clear: bool = False,
    ) -> None:
        self.world = World(seed_world(sinks, seed, run), run=run, secrets_in_clear=secrets_in_clear)
        server = SandboxServer(
            [],
            seed=seed,
            token=token,
            faults=faults,
            latency_ms=latency_ms,
            run=run,
            world=self.world,
        )
        super().__init__(server, seed, port)

    @property
    def sink_ids(self) -> list[str]:
        """Ids of the current sinks (hidden ones included), in list order."""
        return self.world.sink_ids()

    def sink(self, sink_id: str) -> dict[str, Any]:
        """One sink as `GET /api/sinks/{id}` answers it; raises KeyError if there is none."""
        return self.world.sink(sink_id)

    def set_sink_health(self, sink_id: str, health: dict[str, Any] | None) -> None:
        """Replace a sink's whole health object; None: its `health` key goes missing."""
        self.world.set_health(sink_id, health)

    def set_check(self, sink_id: str, name: str, status: str, error: str | None = None) -> None:
        """Set one check of a sink; the overall health status follows."""
        self.world.set_check(sink_id, name, status, error)

    def hide_sink(self, sink_id: str, hidden: bool = True) -> None:
        """Leave a sink out of the list while it still answers by id (or list it again)."""
        self.world.set_hidden(sink_id, hidden)

    def delete_sink(self, sink_id: str) -> None:
        """Remove a sink and its backfills; raises KeyError if unknown."""
        self.world.delete(sink_id)

    def set_server_error(self, error: str | None) -> None:
        """Make `GET /health` answer 500 with `error` (None: 200 again)."""
        self.world.server_error = error

    def secrets(self) -> list[str]:
        """Every secret of the world in clear (each carries `SECRET_MARKER`)."""
        return self.world.secrets()

    def obfuscated_secrets(self) -> list[str]:
        """Every secret field's value as the server obfuscates it."""
        return self.world.obfuscated_secrets()
