"""Every use of the Singer SDK's internals, in one place, each with why no public hook serves.

The rest of the package uses the SDK through its public surface only. Each item here
names the SDK behaviour it relies on; ``tests/test_sdk_internals.py`` fails when one of
them changes, so an SDK upgrade shows what to look at.

1. ``parse_environment_config`` (``singer_sdk.configuration._dict_config``): the SDK's own
   reading of ``<PREFIX>_*`` variables by a config schema (JSON arrays, booleans), used
   for ``--config ENV``, which the tap reads itself so it can check the values first.
2. ``Stream._generate_record_messages``: the one place every RECORD passes. Overridden to
   count the RECORDs each stream name received (soft deletes need that count) and to skip
   the SDK's walk of every record against the selection mask when nothing is deselected
   (that walk removes nothing then, and costs more CPU than shaping the record).
3. ``Stream._stream_version`` and ``Stream._write_activate_version_message``: the SDK's
   public ``emit_activate_version_messages`` sends ACTIVATE_VERSION *before* the first
   RECORD, so a run that failed midway left nothing live; the tap sends it after the last
   RECORD of a complete listing, with the version its RECORDs carry.
4. ``CustomStreamMap._eval``: wrapped so an expression that fails on a value names the
   stream, the property and the sync instead of escaping bare.
6. ``Stream.state_manager.is_flushed``: the SDK writes a stream's STATE only when a
   bookmark moved; the ``sinks`` stream keeps the ids it listed in its STATE (FULL_TABLE
   has no bookmark), so it marks the state changed for the SDK to write it.
5. The text of the SDK's "An unhandled error occurred while syncing" ERROR line: dropped
   for failures the tap explains itself in one ``tap-sequin: error:`` line.
"""

from __future__ import annotations

import ast
import datetime
import logging
import sys
import typing as t
from collections import Counter

from singer_sdk.configuration._dict_config import parse_environment_config
from singer_sdk.mapper import RemoveRecordTransform
from singer_sdk.singerlib import RecordMessage
from singer_sdk.streams import Stream

from tap_sequin.errors import ConfigError, TapSequinError

__all__ = [
    "RecordCounting",
    "mark_state_changed",
    "name_failures_of_values",
    "parse_environment_config",
    "quiet_handled_failures",
    "set_record_version",
    "write_activate_version",
]

UNHANDLED_ERROR_LINE = "An unhandled error occurred while syncing"


class RecordCounting(Stream):
    """A stream that counts the RECORDs it wrote, by the stream name they were written as."""

    delivered: Counter[str]
    _everything_selected: bool | None = None

    def _generate_record_messages(
        self, record: dict[str, t.Any]
    ) -> t.Generator[RecordMessage, None, None]:
        for message in self._record_messages(record):
            self.delivered[message.stream] += 1
            yield message

    def _record_messages(self, record: dict[str, t.Any]) -> t.Iterator[RecordMessage]:
        if self._everything_selected is None:
            self._everything_selected = all(self.mask.values())
        if not self._everything_selected:
            yield from super()._generate_record_messages(record)
            return
        # The SDK's loop without the selection walk (the tap's shapers already emit the
        # schema's JSON types, so the SDK's type conformance has nothing to do either).
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=datetime.datetime.now(datetime.timezone.utc),
                )


def set_record_version(stream: Stream, version: int) -> None:
    """Make the RECORDs ``stream`` writes from now on carry ``version``."""
    stream._stream_version = version


def write_activate_version(stream: Stream, version: int) -> None:
    """Write ACTIVATE_VERSION ``version`` for every name ``stream`` is written as."""
    stream._write_activate_version_message(version)


def mark_state_changed(stream: Stream) -> None:
    """Make the SDK write ``stream``'s STATE at the end of its sync, as after a bookmark."""
    stream.state_manager.is_flushed = False


def removes_stream(stream_map: object) -> bool:
    """Whether a stream map drops the whole stream (``__NULL__`` as the stream's map)."""
    return isinstance(stream_map, RemoveRecordTransform)


def name_failures_of_values(stream_map: object) -> None:
    """Make an expression failing on a value raise ``ConfigError`` naming where it failed.

    ``stream_map`` is one of the SDK's stream maps; only those that evaluate
    expressions (``CustomStreamMap._eval``) are changed. The SDK lets ``int(name)`` or
    ``1/0`` out bare, naming neither the stream nor the property, after an ERROR line.
    """
    evaluate = getattr(stream_map, "_eval", None)
    if evaluate is None or not hasattr(stream_map, "stream_alias"):
        return
    stream = getattr(stream_map, "stream_alias", "?")

    def named(
        expr: str, expr_parsed: ast.Expr, record: dict[str, t.Any], property_name: str | None
    ) -> t.Any:
        try:
            return evaluate(
                expr=expr, expr_parsed=expr_parsed, record=record, property_name=property_name
            )
        except Exception as exc:
            where = f"{stream}.{property_name or '__filter__'}"
            sync = f" on sync {record['id']}" if isinstance(record.get("id"), str) else ""
            raise ConfigError(
                "stream_maps",
                f"{where}: {expr!r} failed{sync}: {type(exc).__name__}: {exc!s:.200}",
            ) from exc

    stream_map._eval = named  # type: ignore[attr-defined]


class _HandledFailures(logging.Filter):
    """Drops the SDK's "An unhandled error occurred while syncing" for failures we explain.

    The tap ends such runs with one ``tap-sequin: error:`` line; an ERROR line before it
    saying the error was unhandled is noise and untrue. Other exceptions keep the line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and str(record.msg).startswith(UNHANDLED_ERROR_LINE):
            return not isinstance(sys.exc_info()[1], (TapSequinError, BrokenPipeError))
        return True


def quiet_handled_failures(logger: logging.Logger | logging.LoggerAdapter[t.Any]) -> None:
    """Add the filter above to a stream's logger (a ``LoggerAdapter`` from SDK 0.55 on)."""
    target = logger.logger if isinstance(logger, logging.LoggerAdapter) else logger
    if not any(isinstance(f, _HandledFailures) for f in target.filters):
        target.addFilter(_HandledFailures())
