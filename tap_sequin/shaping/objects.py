"""What every shaper shares: the opening check of a raw object, and its problem log.

An object becomes a row only if it is a JSON object with a non-blank string ``id``
(the primary key); otherwise the shaper raises its ``Malformed`` error and the stream
skips the object (a listing is then incomplete). Unknown keys are warned about once.
"""

from __future__ import annotations

import logging
import typing as t

from tap_sequin.shaping.fields import FieldReader
from tap_sequin.shaping.problems import ProblemLog, json_type


class Malformed(ValueError):
    """An object that cannot become a row: not a JSON object, or no usable ``id``."""


class ObjectShaper:
    """Base of the shapers; a subclass names its ``noun``, ``known_fields`` and ``malformed``.

    Use one shaper per run: it warns about each problem once and counts every occurrence.
    """

    noun: t.ClassVar[str]
    known_fields: t.ClassVar[frozenset[str]]
    malformed: t.ClassVar[type[Malformed]] = Malformed

    def __init__(self, logger: logging.Logger | logging.LoggerAdapter[t.Any]) -> None:
        self.problems = ProblemLog(logger, self.noun)
        self._read = FieldReader(self.problems)

    def expect_clean_text(self, clean_text_only: bool) -> None:
        """Whether the objects shaped next come from an answer that cannot hold NUL or a
        lone surrogate (``tap_sequin.client.clean_text``)."""
        self._read.clean_text_only = clean_text_only

    def keyed(self, raw: t.Any) -> tuple[dict[str, t.Any], str]:
        """``raw`` and its ``id``, once checked; raises ``malformed`` if it cannot be keyed."""
        self.problems.next_object()
        noun = self.noun
        if not isinstance(raw, dict):
            raise self.malformed(f"Expected a {noun} to be a JSON object, got {json_type(raw)}.")
        object_id = raw.get("id")
        if not isinstance(object_id, str) or not object_id.strip():
            got = "a blank string" if isinstance(object_id, str) else json_type(object_id)
            raise self.malformed(
                f"A {noun} has no usable 'id' (expected a non-empty string, got {got}), "
                "so it cannot be keyed."
            )
        if not self.known_fields.issuperset(raw):
            self.problems.unknown_keys(raw, self.known_fields, object_id)
        return raw, object_id

    def shape(self, raw: t.Any) -> dict[str, t.Any]:
        """The row for one raw object; raises ``malformed`` if it cannot become one."""
        raise NotImplementedError

    def log_summary(self) -> None:
        """Log how many objects had each problem that occurred more than once."""
        self.problems.log_summary()
