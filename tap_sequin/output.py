"""Writing Singer messages to stdout.

The SDK flushes stdout after every message: one ``write`` system call per
RECORD. This writer lets RECORDs fill the buffer and flushes on every other
message (SCHEMA, STATE, ACTIVATE_VERSION), so a STATE never reaches the target
ahead of the records it covers, and a stopped run still flushes whole lines.
"""

from __future__ import annotations

import sys

from singer_sdk.io_base import SingerWriter
from singer_sdk.singerlib import Message, RecordMessage


class BufferedSingerWriter(SingerWriter):
    """A Singer writer that does not flush after each RECORD."""

    def write_message(self, message: Message) -> None:
        """Write one message as one line; flush unless it is a RECORD."""
        sys.stdout.write(self.format_message(message) + "\n")
        if not isinstance(message, RecordMessage):
            sys.stdout.flush()
