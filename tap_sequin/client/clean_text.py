"""Whether a JSON body can hold a NUL or a lone surrogate in any of its strings.

Answers flagged clean let the shapers skip the walk through every string that
``tap_sequin.shaping.nul`` does to keep such characters out of rows.
"""

from __future__ import annotations

import re

_ESCAPED = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


def clean_text(body: bytes) -> bool:
    """True when no string decoded from the JSON ``body`` can hold NUL or a lone surrogate.

    In UTF-8 JSON a NUL can only be the escape ``\\u0000`` (a raw one is not valid), and a
    surrogate only an escape ``\\uD800``-``\\uDFFF`` or its raw three bytes (``\\xed\\xa0``
    to ``\\xed\\xbf``: json.loads decodes bytes with ``surrogatepass``). A body with a zero
    byte may be UTF-16 or UTF-32, which json.loads reads too, so it is never called clean.
    False answers may be wrong (an escaped backslash before ``u0000``, Hangul after
    ``\\xed``); they only cost the walk through every string.
    """
    return b"\x00" not in body and b"\xed" not in body and _ESCAPED.search(body) is None
