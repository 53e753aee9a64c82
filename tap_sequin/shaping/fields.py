"""Reading typed values out of parsed JSON, one column at a time.

A value of the JSON type its column declares passes through; null stays null; anything else
becomes null (or loses its bad elements) with a warning through the run's ``ProblemLog``.
Shared by the sync and credential shapers, so both judge values the same way.
"""

from __future__ import annotations

from typing import Any

from tap_sequin.shaping.nul import replace_nul
from tap_sequin.shaping.problems import ProblemLog, quote
from tap_sequin.shaping.timestamps import to_utc_rfc3339

# The integer columns' bounds (the schemas say them too): what every target can store.
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# target-postgres (Python's json) failed to read a record whose object was nested ~950
# levels deep, and then the whole load; real objects are nowhere near this.
MAX_NESTING = 256


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether objects and arrays in ``value`` nest more than ``limit`` levels."""
    # Level by level: a flat object (the usual metadata) is one pass over its values.
    level = [value]
    for _ in range(limit):
        below = []
        for item in level:
            for child in item.values() if type(item) is dict else item:
                if type(child) is dict or type(child) is list:
                    below.append(child)
        if not below:
            return False
        level = below
    return True


class FieldReader:
    """Typed readers that report problems to ``problems``; one per shaper, one per run."""

    def __init__(self, problems: ProblemLog) -> None:
        self.problems = problems
        # True while shaping objects from an answer whose JSON cannot hold NUL or a lone
        # surrogate (``client.Listing.clean_text_only``, ``client.Sync.clean_text_only``).
        self.clean_text_only = False

    def string(self, value: Any, field: str, object_id: str) -> str | None:
        """A string, or null."""
        if value is None or isinstance(value, str):
            return value
        self.problems.wrong_type(field, object_id, value, "a string")
        return None

    def integer(self, value: Any, field: str, object_id: str) -> int | None:
        """A 64-bit integer (an integral float counts), or null."""
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        # bool is a subclass of int, and true is not a number of days.
        if not isinstance(value, int) or isinstance(value, bool):
            self.problems.wrong_type(field, object_id, value, "an integer")
            return None
        if not INT64_MIN <= value <= INT64_MAX:
            self.problems.problem(field, "outside the 64-bit integer range", object_id)
            return None
        return value

    def boolean(self, value: Any, field: str, object_id: str) -> bool | None:
        """A boolean, or null."""
        if value is None or isinstance(value, bool):
            return value
        self.problems.wrong_type(field, object_id, value, "a boolean")
        return None

    def objects(self, value: Any, field: str, object_id: str) -> list[dict[str, Any]] | None:
        """An array of objects (other elements dropped), or null."""
        if value is None:
            return None
        if not isinstance(value, list):
            self.problems.wrong_type(field, object_id, value, "an array")
            return None
        if all(isinstance(item, dict) for item in value):
            return value
        self.problems.problem(
            field,
            "an array with elements that are not objects",
            object_id,
            outcome="dropping those elements",
        )
        return [item for item in value if isinstance(item, dict)]

    def object(
        self, value: Any, field: str, object_id: str, *, check_nesting: bool = False
    ) -> dict[str, Any] | None:
        """An object, or null; with ``check_nesting``, one nested at most ``MAX_NESTING``
        levels deep (objects that went through ``redaction.redact`` are capped already)."""
        if value is None:
            return value
        if isinstance(value, dict):
            if check_nesting and _deeper_than(value, MAX_NESTING):
                self.problems.problem(
                    field,
                    f"nested deeper than {MAX_NESTING} levels",
                    object_id,
                    outcome="writing null (Python targets cannot read JSON near 1,000 levels)",
                )
                return None
            return value
        self.problems.wrong_type(field, object_id, value, "an object")
        return None

    def timestamp(
        self, value: Any, field: str, object_id: str, *, show_value: bool = True
    ) -> str | None:
        """An RFC 3339 UTC date-time (see ``tap_sequin.shaping.timestamps``), or null."""
        if value is None:
            return None
        if not isinstance(value, str):
            self.problems.wrong_type(field, object_id, value, "a date-time string")
            return None
        normalised = to_utc_rfc3339(value)
        if normalised is None:
            shown = f" ({quote(value)})" if show_value else ""
            self.problems.problem(field, "not a valid date-time", object_id, shown)
        return normalised

    def strings(self, value: Any, field: str, object_id: str) -> list[str] | None:
        """An array of strings (other elements dropped), or null."""
        if value is None:
            return None
        if not isinstance(value, list):
            self.problems.wrong_type(field, object_id, value, "an array")
            return None
        if all(isinstance(item, str) for item in value):
            return value
        self.problems.problem(
            field,
            "an array with non-string elements",
            object_id,
            outcome="dropping those elements",
        )
        return [item for item in value if isinstance(item, str)]

    def without_nul(self, row: dict[str, Any], object_id: str) -> dict[str, Any]:
        """``row`` with every NUL and lone surrogate replaced by U+FFFD (``nul``),
        each warned."""
        if self.clean_text_only:
            return row
        found: list[str] = []
        clean: dict[str, Any] = replace_nul(row, "", found)
        for field in found:
            self.problems.problem(
                field,
                "a string holding U+0000 (NUL) or a lone surrogate (which PostgreSQL cannot store)",
                object_id,
                outcome="replaced by U+FFFD",
            )
        return clean
