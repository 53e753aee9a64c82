"""The last line of a successful run: what each stream that ran sent, and soft deletes.

Counts are RECORD messages that reached the output, per stream (after stream maps and
selection), not objects read: a ``__filter__`` that drops every row says 0. A stream that
did not run (deselected) is not named. It says what the tap did ("ACTIVATE_VERSION sent"),
never what a target may do with it: target-jsonl, pipelinewise-target-postgres and
target-duckdb ignore ACTIVATE_VERSION, so "marked deleted" would be untrue there.
"""

from __future__ import annotations

import typing as t

from tap_sequin.streams.base import plural

if t.TYPE_CHECKING:
    from tap_sequin.streams.base import SequinStream
    from tap_sequin.streams.credentials import CredentialsStream
    from tap_sequin.streams.sync_reading import SyncReading
    from tap_sequin.streams.syncs import SyncHealthHistoryStream, SyncsStream


def run_summary(
    reading: SyncReading,
    syncs: SyncsStream,
    history: SyncHealthHistoryStream,
    credentials: CredentialsStream,
) -> str:
    """E.g. ``extracted 25 syncs (ACTIVATE_VERSION sent); 25 rows of sync_health_history;
    32 credentials (ACTIVATE_VERSION sent)``; ``extracted 3 syncs of 25 read`` when a stream
    map filtered some out."""
    parts = []
    if syncs.selected:
        sent = syncs.delivered[syncs.name]
        part = f"extracted {plural(sent, 'sync')}{_of(sent, reading.extracted, 'read')}"
        parts.append(part + _also(syncs) + _activation(syncs))
    if history.selected:
        sent = history.delivered[history.name]
        part = f"{plural(sent, 'row')} of sync_health_history"
        if sent != reading.extracted:
            part += f" (of {plural(reading.extracted, 'sync')} read)"
        parts.append(part + _also(history))
    if reading.not_found and (syncs.selected or history.selected):
        shown = ", ".join(reading.not_found[:10])
        parts.append(f"{len(reading.not_found)} not found: {shown}")
    if credentials.selected:
        if not credentials.served:
            parts.append("credentials not served (404)")
        else:
            sent = credentials.delivered[credentials.name]
            part = f"{plural(sent, 'credential')}{_of(sent, credentials.extracted, 'listed')}"
            parts.append(part + _also(credentials) + _activation(credentials))
    return "; ".join(parts) or "no stream selected"


def _of(sent: int, read: int, verb: str) -> str:
    return "" if sent == read else f" of {read} {verb}"


def _also(stream: SequinStream) -> str:
    """Records written under other names (``__alias__``, ``__source__`` copies)."""
    others = [
        f"{count} as '{name}'"
        for name, count in sorted(stream.delivered.items())
        if name != stream.name and count
    ]
    return f" (records also sent: {', '.join(others)})" if others else ""


def _activation(stream: SequinStream) -> str:
    return f" ({stream.activation})" if stream.activation else ""
