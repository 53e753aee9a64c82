"""Health objects in the shapes Sequin documents, for the sandbox's syncs and credentials.

The older sync shape carries the "why": `{"status", "credential": {"status", "notes",
"time"}, "provider": {"status", "notes"}}` (the provider part has no `time`).
"""

from __future__ import annotations

from typing import Any

REVOKED_NOTE = "The refresh token was revoked."


def provider_notes(provider: str, status: str) -> list[str]:
    """What the older health shape says about a provider in this state (notes are the why)."""
    if status == "error":
        return [f"{provider.title()} has answered 503 to every request for the last hour."]
    if status == "warn":
        return [f"We're seeing elevated error rates from {provider.title()}; syncs may lag."]
    return []


def older_health(
    status: str, provider: str, now: str, credential_status: str = "ok"
) -> dict[str, Any]:
    """Sequin's older documented health shape; the provider part has no `time`."""
    credential_notes = [] if credential_status == "ok" else [REVOKED_NOTE]
    return {
        "status": status,
        "credential": {"status": credential_status, "notes": credential_notes, "time": now},
        "provider": {"status": status, "notes": provider_notes(provider, status)},
    }
