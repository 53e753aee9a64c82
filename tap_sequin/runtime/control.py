"""One ``RunControl`` per tap, handed to every stream: the run's settings, and stop requests.

A signal only notes itself here and sets every stop event in use; the code that reads
from the API notices between two whole messages, so stdout never holds a torn line and
the run ends non-zero. The SDK's own handler writes a STATE from inside the signal
handler and lets the run exit 0.
"""

from __future__ import annotations

import contextlib
import signal
import threading
import typing as t

from tap_sequin.errors import Interrupted

if t.TYPE_CHECKING:
    from types import FrameType

    from tap_sequin.settings.parsing import Settings

_SIGNALS = ("SIGINT", "SIGTERM")


class RunControl:
    """The run's settings; whether the run must stop, and why. Safe to use from workers.

    ``settings`` gives the settings the tap checked (one object per run: clients made
    with it share one throttle).
    """

    def __init__(self, settings: t.Callable[[], Settings]) -> None:
        self._settings = settings
        # One event per extraction in progress; a signal sets them all.
        self._events: set[threading.Event] = set()
        self._signal: tuple[int, str] | None = None

    @property
    def settings(self) -> Settings:
        """The run's settings, checked before any stream runs."""
        return self._settings()

    def install_signal_handlers(self) -> None:
        """Make SIGINT and SIGTERM stop the run (from the main thread only, as Python asks)."""
        if threading.current_thread() is not threading.main_thread():
            return
        for name in _SIGNALS:
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), self.on_signal)

    def on_signal(self, signum: int, frame: FrameType | None = None) -> None:
        """Note the signal and set every stop event; the run stops at its next check."""
        self._signal = (signum, signal.Signals(signum).name)
        for event in list(self._events):
            event.set()

    @contextlib.contextmanager
    def stop_event(self) -> t.Iterator[threading.Event]:
        """An event set when the run must stop: by a signal, or by the extraction itself."""
        event = threading.Event()
        self._events.add(event)
        if self._signal is not None:
            event.set()
        try:
            yield event
        finally:
            self._events.discard(event)

    def interruption(self) -> BaseException:
        """The exception that reports the signal received (or a generic stop)."""
        if self._signal is None:
            return Interrupted(signal.SIGTERM, "a stop request")
        return Interrupted(*self._signal)

    def check_interrupted(self) -> None:
        """Raise ``Interrupted`` if a signal has arrived."""
        if self._signal is not None:
            raise self.interruption()
