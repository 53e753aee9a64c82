"""What the tap's streams share: a lean record path, and soft deletes only when they are safe.

ACTIVATE_VERSION tells the target that rows of older versions are gone (target-postgres sets
``_sdc_deleted_at`` on them). It is sent after the last RECORD of a complete listing, and
only when every listed object reached the output as a RECORD of the stream under every name
the stream is written as. A stream map that filters, removes or re-routes records, a
``batch_config`` (BATCH files carry no version), an incomplete listing: each means no
activation, and one log line that says why. The SDK's own ``emit_activate_version_messages``
would announce the version *before* the first record, so a run that then failed left
nothing live; it stays off.
"""

from __future__ import annotations

import logging
import sys
import typing as t
from collections import Counter

from singer_sdk.helpers._util import utc_now
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import RemoveRecordTransform
from singer_sdk.singerlib import RecordMessage
from singer_sdk.streams import Stream

from tap_sequin.errors import TapSequinError

if t.TYPE_CHECKING:
    from singer_sdk.tap_base import Tap

ACTIVATED = "ACTIVATE_VERSION sent"


class _HandledFailures(logging.Filter):
    """Drops the SDK's "An unhandled error occurred while syncing" for failures we explain.

    The tap ends such runs with one ``tap-sequin: error:`` line; an ERROR line before it
    saying the error was unhandled is noise and untrue. Other exceptions keep the line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and str(record.msg).startswith(
            "An unhandled error occurred while syncing"
        ):
            return not isinstance(sys.exc_info()[1], (TapSequinError, BrokenPipeError))
        return True


class SequinStream(Stream):
    """Base of the tap's streams; counts the RECORDs each stream name actually received."""

    # Shaping already emits exactly the schema's JSON types; re-conforming every
    # record would only spend CPU.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: Tap, schema: dict[str, t.Any], name: str) -> None:
        super().__init__(tap, schema=schema, name=name)
        self.logger.addFilter(_HandledFailures())
        # RECORD messages written, by the stream name they were written as.
        self.delivered: Counter[str] = Counter()
        # For the run's summary: what this stream did about soft deletes (None: not its job).
        self.activation: str | None = None
        self._everything_selected: bool | None = None

    @property
    def emit_activate_version_messages(self) -> bool:
        # Never the SDK's way (before the first record); see activate_if_delivered().
        return False

    def _generate_record_messages(
        self, record: dict[str, t.Any]
    ) -> t.Generator[RecordMessage, None, None]:
        for message in self._record_messages(record):
            self.delivered[message.stream] += 1
            yield message

    def _record_messages(self, record: dict[str, t.Any]) -> t.Iterator[RecordMessage]:
        # The SDK walks every record against the selection mask, nested objects
        # included; when nothing is deselected (the usual case) that walk removes
        # nothing and costs more CPU than shaping the record.
        if self._everything_selected is None:
            self._everything_selected = all(self.mask.values())
        if not self._everything_selected:
            yield from super()._generate_record_messages(record)
            return
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self._stream_version,
                    time_extracted=utc_now(),
                )

    def activate_if_delivered(self, listed: int, noun: str, incomplete: str | None) -> None:
        """After the last RECORD of a listing of ``listed`` objects: activate, or say why not.

        ``incomplete`` is why the listing itself was not complete (None: it was).
        """
        reason = incomplete or self._why_not_delivered(listed, noun)
        if reason is None:
            self._write_activate_version_message(t.cast(int, self._stream_version))
            self.activation = ACTIVATED
            return
        self.activation = f"no ACTIVATE_VERSION: {reason}"
        self.logger.warning(
            "Stream '%s': no ACTIVATE_VERSION this run, so no row is marked deleted: %s.",
            self.name,
            reason,
        )

    def _why_not_delivered(self, listed: int, noun: str) -> str | None:
        if self.get_batch_config(self.config):
            return "batch_config is set and BATCH files carry no version"
        primary = self.stream_maps[0]
        if isinstance(primary, RemoveRecordTransform):
            return f"a stream map removes stream '{self.name}'"
        if primary.stream_alias != self.name:
            return f"a stream map re-routes '{self.name}' to '{primary.stream_alias}'"
        for stream_map in self.stream_maps:
            if isinstance(stream_map, RemoveRecordTransform):
                continue
            got = self.delivered[stream_map.stream_alias]
            if got != listed:
                return (
                    f"only {got} of {listed} {noun} reached the output as records of "
                    f"'{stream_map.stream_alias}' (a stream map filters them)"
                )
        return None


def plural(count: int, noun: str) -> str:
    """``1 sync``, ``2 syncs``."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
