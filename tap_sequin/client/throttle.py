"""Client-side pacing shared by every request attempt of a run, retries included.

Two rules, both global to the run (every stream's client shares one ``Throttle``):

* ``max_requests_per_second``: no rolling one-second window holds more request
  starts than the cap (a sliding log of start times, so bursts cannot cross a
  window boundary the way a fixed-window counter lets them).
* a 429, or any answer with ``Retry-After`` (a 503 in a maintenance window),
  pauses *every* worker until the wait has passed, not only the request that
  received it: the limit is the account's, the outage the service's.
"""

from __future__ import annotations

import collections
import math
import threading
import time
import typing as t
import weakref

if t.TYPE_CHECKING:
    from tap_sequin.settings.parsing import Settings

# The server stamps arrival, we stamp departure; between them lie requests' own work
# (other threads may hold the GIL meanwhile) and the network. The slack keeps a request
# released exactly one window later from landing inside the previous one (a smaller slack
# let the server count more starts than the cap in its busiest second on a loaded
# machine). It costs at most 5% of the cap's throughput.
_WINDOW_SLACK = 0.05


class Stopped(Exception):
    """Raised to a waiting worker when the run is being stopped."""


class Throttle:
    """Decides when the next request attempt may start."""

    def __init__(self, max_per_second: float | None) -> None:
        self._lock = threading.Lock()
        self._paused_until = 0.0
        self._starts: collections.deque[float] | None = None
        self._window = 0.0
        if max_per_second is not None:
            # Below 1/s, one request per 1/rate seconds; above, floor(rate) per second.
            capacity = max(1, math.floor(max_per_second))
            self._window = (1.0 if max_per_second >= 1 else 1.0 / max_per_second) + _WINDOW_SLACK
            self._starts = collections.deque(maxlen=capacity)

    def pause(self, seconds: float) -> None:
        """Hold back every attempt for ``seconds`` from now (a 429, or a Retry-After)."""
        with self._lock:
            self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def wait_turn(self, stop: threading.Event) -> None:
        """Block until an attempt may start, then count it; raise ``Stopped`` once ``stop``
        is set."""
        while True:
            if stop.is_set():
                raise Stopped
            with self._lock:
                now = time.monotonic()
                delay = self._paused_until - now
                starts = self._starts
                if delay <= 0 and starts is not None and len(starts) == starts.maxlen:
                    delay = starts[0] + self._window - now
                if delay <= 0:
                    if starts is not None:
                        starts.append(now)
                    return
            # Sleep outside the lock; wake early if the run stops.
            stop.wait(min(delay, 0.25))


_shared: dict[int, Throttle] = {}
# Reentrant: a garbage collection inside the locked block (weakref.finalize allocates) may
# run an earlier Settings' finalizer, _forget, on this same thread; a plain Lock deadlocked
# there (seen once in a test run: the process hung in _forget under throttle_for).
_shared_lock = threading.RLock()


def throttle_for(settings: Settings) -> Throttle:
    """The run's one throttle: clients made with the same ``Settings`` object (every stream
    of a run) share it, so the cap and a ``Retry-After`` pause hold across streams."""
    key = id(settings)
    with _shared_lock:
        throttle = _shared.get(key)
        if throttle is None:
            throttle = _shared[key] = Throttle(settings.max_requests_per_second)
            # Forgotten with the settings, so a later object at the same address starts anew.
            weakref.finalize(settings, _forget, key)
        return throttle


def _forget(key: int) -> None:
    with _shared_lock:
        _shared.pop(key, None)
