"""Health that moves between runs: what `tap-sequin-sandbox --run N` serves in run N.

A few seeded syncs, chosen by their place in the list, change health on a fixed schedule,
so a scheduled demo (`scripts/run` passes its run counter) has a history to show from the
second run on. The schedule depends on nothing but the run number:

| place | runs unhealthy | what Sequin says (older health shape, with notes) |
| --- | --- | --- |
| 2 | 2, 3, then 6, 7, ... (two of every four runs) | provider `error`: the provider answers 503 |
| 5 | 3, 6, 9, ... (one of every three runs) | `warn`, credential `error`: refresh token revoked |

In every other run these syncs are `healthy` (the current shape). Every other sync keeps the
health it was generated with.
"""

from __future__ import annotations

from typing import Any

from tap_sequin.sandbox.health import older_health


def unhealthy_in_run(place: int, run: int) -> bool | None:
    """Whether the sync at `place` is unhealthy in `run` (1-based); None: it never moves."""
    if place == 2:
        return (run - 1) % 4 in (1, 2)
    if place == 5:
        return (run - 1) % 3 == 2
    return None


def health_for_run(sync: dict[str, Any], place: int, run: int) -> dict[str, Any] | None:
    """The health `sync` (at `place` in the list) has in `run`; None if its health never moves."""
    unhealthy = unhealthy_in_run(place, run)
    if unhealthy is None:
        return None
    if not unhealthy:
        return {"status": "healthy", "sync_id": sync["id"]}
    provider = str(sync.get("provider") or "the provider")
    now = str(sync.get("updated_at") or "2024-01-01 00:00:00")
    if place == 2:
        return older_health("error", provider, now)
    return older_health("warn", provider, now, credential_status="error")


def apply_run(syncs: list[dict[str, Any]], run: int) -> None:
    """Set, in place, the health of the moving syncs of `syncs` to what it is in `run`."""
    for place, sync in enumerate(syncs):
        health = health_for_run(sync, place, run)
        if health is not None:
            sync["health"] = health
