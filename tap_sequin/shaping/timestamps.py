"""Timestamps from the API, normalised to RFC 3339 strings in UTC.

The API writes ``2023-12-15 01:29:29`` (a space, no zone, meaning UTC); that form has a fast,
exact path of its own because it is on every sync several times over. Anything else is parsed
with pendulum (imported on first use: it costs ~100 ms at start-up) and converted to UTC;
fractions of a second are kept, to the microsecond.

What is rejected (the caller writes null and warns): non-calendar dates (month 13, Feb 30),
dates without a time, anything pendulum would read relative to today (``now``, ``12:00``),
durations, text longer than 64 characters, and dates whose UTC year falls outside
``MIN_YEAR``..``MAX_YEAR`` -- no sync predates the Unix epoch, and a year 3000 is a bug.
"""

from __future__ import annotations

import datetime
import re

MIN_YEAR = 1970
MAX_YEAR = 2999

_MAX_LENGTH = 64
_DAYS_IN_MONTH = ("", "31", "29", "31", "30", "31", "30", "31", "31", "30", "31", "30", "31")
# The API's own form, with every range that a regex can check (year MIN_YEAR..MAX_YEAR, month
# 01-12, day 01-31, hour 00-23, minute and second 00-59); only "day exists in that month" is
# left to code. Text that does not match goes the slow way, which applies the same rules.
_API_FORM = re.compile(
    r"(?:19[7-9]\d|2\d\d\d)-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
    r" (?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d",
    re.ASCII,
)


def to_utc_rfc3339(text: str) -> str | None:
    """Return ``text`` as ``YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00``, or None if it is not a
    plausible date-time."""
    if _API_FORM.fullmatch(text) is None:
        return _from_other_form(text)
    day = text[8:10]
    if day > "28":
        month = int(text[5:7])
        if day > _DAYS_IN_MONTH[month] or (month == 2 and not _is_leap(int(text[:4]))):
            return None
    return f"{text[:10]}T{text[11:]}+00:00"


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _from_other_form(text: str) -> str | None:
    # pendulum reads "now", "today" and bare times relative to the clock; insisting on a leading
    # four-digit year keeps every accepted value a fixed point in time.
    head = text[:4]
    if len(text) > _MAX_LENGTH or not (head.isascii() and head.isdigit()):
        return None

    # RFC 3339 (section 5.6) allows "t" and "z" in lower case; pendulum does not.
    if text[10:11] == "t":
        text = f"{text[:10]}T{text[11:]}"
    if text.endswith("z"):
        text = f"{text[:-1]}Z"

    import pendulum  # deferred: costly to import, rarely needed

    try:
        parsed = pendulum.parse(text, exact=True)
    except (ValueError, OverflowError, TypeError):
        return None
    if not isinstance(parsed, datetime.datetime):
        return None
    try:
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        utc = parsed.astimezone(datetime.timezone.utc)
    except (ValueError, OverflowError):
        return None
    if not MIN_YEAR <= utc.year <= MAX_YEAR:
        return None
    return utc.isoformat()
