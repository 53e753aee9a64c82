"""Fetch many things concurrently and hand them back in the order they were asked for.

``max_concurrent_requests`` worker threads pull jobs; the caller receives
results strictly in submission order, whatever order responses arrive in. At
most ``2 x workers`` jobs are queued or finished-but-unread at any time, so
memory is bounded by the concurrency, not by the number of sync ids.

Workers are daemon threads: a run that is stopped by a signal or by a fatal
error does not wait for requests still in flight before exiting.
"""

from __future__ import annotations

import collections
import queue
import threading
import typing as t

from tap_sequin.client.throttle import Stopped

_K = t.TypeVar("_K")
_V = t.TypeVar("_V")

# How often a waiting caller looks at the stop flag (signal handlers only set it).
_POLL_SECONDS = 0.1


class _Job(t.Generic[_K, _V]):
    __slots__ = ("done", "error", "key", "value")

    def __init__(self, key: _K) -> None:
        self.key = key
        self.done = threading.Event()
        self.value: _V | None = None
        self.error: BaseException | None = None


class OrderedFetcher(t.Generic[_K, _V]):
    """Runs ``fetch(key)`` on worker threads; yields ``(key, value)`` in key order."""

    def __init__(
        self,
        fetch: t.Callable[[_K], _V],
        workers: int,
        stop: threading.Event,
        on_stop: t.Callable[[], BaseException],
    ) -> None:
        self._fetch = fetch
        self._workers = workers
        self._stop = stop
        self._on_stop = on_stop
        self._jobs: queue.SimpleQueue[_Job[_K, _V] | None] = queue.SimpleQueue()
        self._fatal: BaseException | None = None

    def run(self, keys: t.Iterable[_K]) -> t.Iterator[tuple[_K, _V]]:
        """Yield each key with its value, in order; re-raise the first error, in order."""
        threads = [
            threading.Thread(target=self._work, name=f"tap-sequin-fetch-{n}", daemon=True)
            for n in range(self._workers)
        ]
        for thread in threads:
            thread.start()
        pending: collections.deque[_Job[_K, _V]] = collections.deque()
        remaining = iter(keys)
        try:
            self._top_up(pending, remaining)
            while pending:
                job = pending.popleft()
                self._wait(job)
                self._top_up(pending, remaining)
                if job.error is not None:
                    raise self._failure() if isinstance(job.error, Stopped) else job.error
                yield job.key, t.cast(_V, job.value)
        finally:
            # Early exit (error, signal, generator closed): let workers drain and end.
            if pending:
                self._stop.set()
            for _ in threads:
                self._jobs.put(None)

    def _top_up(self, pending: collections.deque[_Job[_K, _V]], keys: t.Iterator[_K]) -> None:
        while len(pending) < 2 * self._workers:
            key = next(keys, _END)
            if key is _END:
                return
            job: _Job[_K, _V] = _Job(t.cast(_K, key))
            pending.append(job)
            self._jobs.put(job)

    def _wait(self, job: _Job[_K, _V]) -> None:
        while not job.done.wait(_POLL_SECONDS):
            if self._stop.is_set():
                raise self._failure()

    def _failure(self) -> BaseException:
        """Why the run stopped: the first worker error, else the stop request (a signal)."""
        return self._fatal if self._fatal is not None else self._on_stop()

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job.value = self._fetch(job.key)
            except BaseException as exc:  # noqa: BLE001 (handed to the caller, in order)
                job.error = exc
                if not isinstance(exc, Stopped) and self._fatal is None:
                    # The run will fail on this error: start no new requests meanwhile
                    # (a revoked token must not set off a storm of 401s).
                    self._fatal = exc
                    self._stop.set()
            finally:
                job.done.set()


_END = object()
