"""Warnings about the data Sequin sent: each kind once per run, every occurrence counted.

A shaper lives for one run and reports through one ``ProblemLog``: the first object with a
given (field, problem) gets a warning naming the field and the object's id; later ones are
only counted, and ``log_summary()`` reports the totals at the end, so 10,000 bad syncs do
not flood the log. Messages name fields, ids and JSON types, never values of credentials.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Container, Iterable
from typing import Any

_MAX_QUOTED = 80


class ProblemLog:
    """Warn-once bookkeeping for one kind of object (``subject``: "sync", "credential")."""

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter[Any], subject: str) -> None:
        self._logger = logger
        self._subject = subject
        self._warned: set[tuple[str, str]] = set()
        # How many objects had each (field, problem), logged or not; an object counts once
        # however often the problem recurs inside it (objects are shaped one at a time).
        self.counts: Counter[tuple[str, str]] = Counter()
        self._object = 0
        self._last_object: dict[tuple[str, str], int] = {}

    def problem(
        self,
        field: str,
        problem: str,
        object_id: str,
        detail: str = "",
        outcome: str = "writing null",
    ) -> None:
        """Count one (field, problem); warn the first time this run."""
        key = (field, problem)
        self._count(key)
        if key in self._warned:
            return
        self._warned.add(key)
        self._logger.warning(
            "%s %s: field %s is %s%s; %s. Warned once per run for this field and problem.",
            self._subject.capitalize(),
            quote(object_id),
            quote(field),
            problem,
            detail,
            outcome,
        )

    def next_object(self) -> None:
        """The shaper starts on the next object: problems from here on count for it."""
        self._object += 1

    def _count(self, key: tuple[str, str]) -> None:
        if self._last_object.get(key) != self._object:
            self._last_object[key] = self._object
            self.counts[key] += 1

    def wrong_type(self, field: str, object_id: str, value: Any, expected: str) -> None:
        """``field`` holds a value of the wrong JSON type; null is written instead."""
        self.problem(field, f"not {expected}", object_id, f" (got {json_type(value)})")

    def unknown_keys(
        self,
        keys: Iterable[Any],
        known: Container[str],
        object_id: str,
        parent: str = "",
        outcome: str = "dropping it from every row",
    ) -> None:
        """Warn about each key of ``keys`` not in ``known`` (once per run per name)."""
        for key in keys:
            if key in known:
                continue
            name = f"{parent}{key}"
            problem = (name, "not in the schema")
            self._count(problem)
            if problem not in self._warned:
                self._warned.add(problem)
                self._logger.warning(
                    "%s field %s is not in the schema; %s (first seen on %s %s, warned once "
                    "per run).",
                    self._subject.capitalize(),
                    quote(name),
                    outcome,
                    self._subject,
                    quote(object_id),
                )

    def log_summary(self) -> None:
        """Log how many objects had each problem that occurred more than once."""
        for (field, problem), count in sorted(self.counts.items()):
            if count > 1:
                self._logger.warning(
                    "%d %ss in this run: field %s is %s.",
                    count,
                    self._subject,
                    quote(field),
                    problem,
                )


def json_type(value: Any) -> str:
    """The JSON type of a parsed value, with its article ("a string", "an array")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return f"a {type(value).__name__}"


def quote(text: str) -> str:
    """Quote text for a one-line log message, cut short if long."""
    if len(text) > _MAX_QUOTED:
        text = text[: _MAX_QUOTED - 3] + "..."
    return repr(text)
