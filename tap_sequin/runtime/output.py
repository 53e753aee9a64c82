"""Writing Singer messages to stdout.

Messages are encoded with ``msgspec`` (the encoder of the SDK's ``singer-sdk[msgspec]``
extra, ``singer_sdk.contrib.msgspec``), which is an order of magnitude cheaper than the
SDK's default ``simplejson`` writer (benchmarks/RESULTS.md has the figures). Both write a
NaN or infinite float (Python's ``json`` accepts them from the API, inside a sync's
``metadata``) as ``null``. A message ``msgspec`` cannot encode (a string holding a lone
surrogate) is encoded by the SDK's own serializer instead, which escapes it. Either way
the line is UTF-8 JSON with no character a reader could take for a line end (U+0085,
U+2028 and U+2029 are escaped, as the SDK's ASCII output did); ``time_extracted`` is RFC
3339 in UTC (``...Z``).

The SDK writes and flushes stdout once per message: a ``write`` system call per RECORD
(and with ``PYTHONUNBUFFERED`` set, as in many containers, Python adds no buffer of its
own). This writer gathers RECORD lines and hands them to stdout in blocks of about 64 KiB,
and writes every other message (SCHEMA, STATE, ACTIVATE_VERSION) at once, after the records
before it. So a STATE never reaches the target ahead of the records it covers, and every
write holds whole lines only.
"""

from __future__ import annotations

import os
import select
import sys

import msgspec
from singer_sdk.singerlib import Message, RecordMessage
from singer_sdk.singerlib.encoding.base import GenericSingerWriter
from singer_sdk.singerlib.json import serialize_json

from tap_sequin.errors import OutputFailed

_BLOCK = 64 * 1024

_encoder = msgspec.json.Encoder(decimal_format="number")

# Characters msgspec writes raw that Python's str.splitlines() takes for line ends (it
# escapes the ASCII ones): a reader splitting so would see half a message. In JSON they
# can only stand inside strings, where their escape means the same.
_LINE_BREAKS = (
    ("\x85".encode(), b"\\u0085"),
    ("\u2028".encode(), b"\\u2028"),
    ("\u2029".encode(), b"\\u2029"),
)


def encode_message(message: Message) -> bytes:
    """One Singer message as a JSON line (UTF-8, ending in a newline)."""
    fields = message.to_dict()
    try:
        line = _encoder.encode(fields)
        for raw, escaped in _LINE_BREAKS:
            if raw in line:
                line = line.replace(raw, escaped)
        return line + b"\n"
    except (msgspec.EncodeError, TypeError, ValueError, OverflowError):
        # A lone surrogate (json.loads accepts "\\ud800" from the API), or a type msgspec does not
        # know: the SDK's serializer escapes the former and writes the latter as str().
        return serialize_json(fields).encode("utf-8", "surrogatepass") + b"\n"


class BufferedSingerWriter(GenericSingerWriter[bytes, Message]):
    """A Singer writer that writes RECORDs in blocks and everything else at once."""

    def __init__(self) -> None:
        super().__init__()
        self._pending: list[bytes] = []
        self._pending_size = 0

    def serialize_message(self, message: Message) -> bytes:
        """The message as one JSON line, newline included."""
        return encode_message(message)

    def write_message(self, message: Message) -> None:
        """Queue a RECORD line; write any other message, with what is queued, now."""
        line = self.format_message(message)
        self._pending.append(line)
        self._pending_size += len(line)
        if not isinstance(message, RecordMessage) or self._pending_size >= _BLOCK:
            self.flush()

    def flush(self) -> None:
        """Write every queued line to stdout and flush it."""
        block = b"".join(self._pending)
        self._pending.clear()
        self._pending_size = 0
        self._write(block)

    @staticmethod
    def _write(block: bytes) -> None:
        try:
            # Anything written to the text layer before goes first.
            sys.stdout.flush()
            if block:
                binary = getattr(sys.stdout, "buffer", None)
                if binary is None:  # a text-only stream put in place of stdout
                    sys.stdout.write(block.decode("utf-8", "surrogatepass"))
                    sys.stdout.flush()
                    return
                binary.flush()
                try:
                    fd = binary.fileno()
                except (AttributeError, OSError, ValueError):  # no descriptor (io.BytesIO)
                    binary.write(block)
                    binary.flush()
                else:
                    _write_all(fd, block)
        except BrokenPipeError:
            raise  # the reader is gone: the tap says so (OutputClosed)
        except OSError as exc:  # ENOSPC (> /dev/full), EIO, EFBIG...
            # stdout now points at /dev/null, so no later flush (at exit) fails again.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise OutputFailed(exc.strerror or str(exc)) from None


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd``, however many calls it takes.

    A signal that arrives while a write to a full pipe blocks (a slow target) ends that
    write early with part of the data written, and Python's buffered stdout then dropped
    the rest (measured: Python 3.11.7, SIGTERM to a tap whose target read 4 KiB every
    50 ms; a torn RECORD with the final STATE stuck to it, in 4 runs of 4). ``os.write``
    says how much it wrote, so the rest follows.
    """
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            # A non-blocking stdout (set so by the parent): wait until it takes more.
            select.select([], [fd], [])
