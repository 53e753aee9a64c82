"""Writing Singer messages to stdout.

The SDK writes and flushes stdout once per message: a ``write`` system call per
RECORD (and with ``PYTHONUNBUFFERED`` set, as in many containers, Python adds
no buffer of its own). This writer gathers RECORD lines and hands them to
stdout in blocks of about 64 KiB, and writes every other message (SCHEMA,
STATE, ACTIVATE_VERSION) at once, after the records before it. So a STATE
never reaches the target ahead of the records it covers, and every write holds
whole lines only.
"""

from __future__ import annotations

import os
import sys

from singer_sdk.io_base import SingerWriter
from singer_sdk.singerlib import Message, RecordMessage

from tap_sequin.errors import OutputFailed

_BLOCK = 64 * 1024


class BufferedSingerWriter(SingerWriter):
    """A Singer writer that writes RECORDs in blocks and everything else at once."""

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[str] = []
        self._pending_size = 0

    def write_message(self, message: Message) -> None:
        """Queue a RECORD line; write any other message, with what is queued, now."""
        line = self.format_message(message) + "\n"
        self._pending.append(line)
        self._pending_size += len(line)
        if not isinstance(message, RecordMessage) or self._pending_size >= _BLOCK:
            self.flush()

    def flush(self) -> None:
        """Write every queued line to stdout and flush it."""
        if self._pending:
            block = "".join(self._pending)
            self._pending.clear()
            self._pending_size = 0
            self._write(block)
        self._write("")

    @staticmethod
    def _write(text: str) -> None:
        try:
            if text:
                sys.stdout.write(text)
            sys.stdout.flush()
        except BrokenPipeError:
            raise  # the reader is gone: the tap says so (OutputClosed)
        except OSError as exc:  # ENOSPC (> /dev/full), EIO, EFBIG...
            # stdout now points at /dev/null, so no later flush (at exit) fails again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise OutputFailed(exc.strerror or str(exc)) from None
