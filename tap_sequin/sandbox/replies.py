"""What an API route answers: `Reply` (status, body, headers) and Sequin's error shape.

Shared by the v1 routes, the self-hosted routes and the faults, so none of them needs the
others to build an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tap_sequin.sandbox.store import to_json
from tap_sequin.sandbox.wire import JSON


@dataclass
class Reply:
    """A status, a body and the headers beyond the standard ones (`content_type=None`: no
    content-type header at all)."""

    status: int
    body: bytes
    content_type: str | None = JSON
    headers: tuple[tuple[str, str], ...] = ()


def summary(status: int, text: str, **extra: Any) -> Reply:
    """An error reply in the API's own shape, `{"summary": text, ...}`."""
    return Reply(status, to_json({"summary": text, **extra}))
