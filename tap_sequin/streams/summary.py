"""The last line of a successful run: what each stream that ran sent, and soft deletes.

Counts are RECORD messages that reached the output, per stream (after stream maps and
selection), not objects read: a ``__filter__`` that drops every row says 0. A stream that
did not run (deselected) is not named. It says what the tap did ("ACTIVATE_VERSION sent"),
never what a target may do with it: target-jsonl, pipelinewise-target-postgres and
target-duckdb ignore ACTIVATE_VERSION, so "marked deleted" would be untrue there.
"""

from __future__ import annotations

import typing as t

from tap_sequin.streams.backfills import BackfillsStream
from tap_sequin.streams.listing import ListingStream
from tap_sequin.streams.sinks import SinkHealthHistoryStream, SinksStream
from tap_sequin.streams.syncs import SyncHealthHistoryStream, SyncsStream

if t.TYPE_CHECKING:
    from tap_sequin.streams.base import SequinStream


def run_summary(streams: t.Iterable[SequinStream]) -> str:
    """E.g. ``extracted 25 syncs (ACTIVATE_VERSION sent); 25 rows of sync_health_history;
    32 credentials (ACTIVATE_VERSION sent)``; ``extracted 3 syncs of 25 read`` when a stream
    map filtered some out."""
    first = (SyncsStream, SyncHealthHistoryStream, SinksStream, SinkHealthHistoryStream)
    ordered = sorted(streams, key=lambda s: not isinstance(s, first))
    parts = []
    for stream in ordered:
        if isinstance(stream, SyncsStream):
            parts.extend(_syncs(stream))
        elif isinstance(stream, SyncHealthHistoryStream):
            parts.extend(_sync_history(stream))
        elif isinstance(stream, SinksStream):
            parts.extend(_listing(stream))
            parts.extend(
                _history(child)
                for child in stream.child_streams
                if isinstance(child, (SinkHealthHistoryStream, BackfillsStream)) and child.selected
            )
        elif isinstance(stream, ListingStream):
            parts.extend(_listing(stream))
    return "; ".join(parts) or "no stream selected"


def plural(count: int, noun: str) -> str:
    """``1 sync``, ``2 syncs``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _syncs(syncs: SyncsStream) -> list[str]:
    reading = syncs.reading
    if reading is None:
        return []
    parts = []
    if syncs.selected:
        sent = syncs.delivered[syncs.name]
        part = f"extracted {plural(sent, 'sync')}{_of(sent, reading.extracted, 'read')}"
        parts.append(part + _also(syncs) + _activation(syncs))
    if reading.not_found:
        shown = ", ".join(reading.not_found[:10])
        parts.append(f"{len(reading.not_found)} not found: {shown}")
    return parts


def _history(stream: SinkHealthHistoryStream | BackfillsStream) -> str:
    """``12 rows of sink_health_history``, ``6 backfills (ACTIVATE_VERSION sent)``."""
    sent = stream.delivered[stream.name]
    if isinstance(stream, BackfillsStream):
        part = plural(sent, "backfill") + _of(sent, stream.extracted, "read")
        return part + _also(stream) + _activation(stream)
    part = f"{plural(sent, 'row')} of {stream.name}{_of(sent, stream.extracted, 'observed')}"
    return part + _also(stream)


def _sync_history(history: SyncHealthHistoryStream) -> list[str]:
    if not history.selected:
        return []
    sent = history.delivered[history.name]
    part = f"{plural(sent, 'row')} of {history.name}"
    if sent != history.extracted:
        part += f" (of {plural(history.extracted, 'sync')} read)"
    return [part + _also(history)]


def _listing(stream: ListingStream) -> list[str]:
    if not stream.selected:
        return []
    if not stream.served:
        return [f"{stream.name} not served (404)"]
    sent = stream.delivered[stream.name]
    part = f"{plural(sent, stream.noun)}{_of(sent, stream.outcome.extracted, 'listed')}"
    return [part + _also(stream) + _activation(stream)]


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
