"""Keeping U+0000 (NUL) and lone surrogates out of every string the tap emits.

PostgreSQL cannot store NUL in ``text`` or ``jsonb``, and target-postgres'
``sanitize_null_text_characters`` cleans top-level strings only: one NUL nested in a sync's
``metadata`` (a value at any depth, or a key) failed the whole load, clean syncs included,
on every run until the data changed. A lone UTF-16 surrogate (``"\\ud800"``, which
Python's ``json`` accepts) has no UTF-8 at all, and failed the load the same way (jsonb:
"Unicode low surrogate must follow a high surrogate"; text: ``UnicodeEncodeError``). So the
shapers replace both by U+FFFD (the Unicode replacement character) everywhere in a row,
keys included, and say where.
"""

from __future__ import annotations

import re
from typing import Any

NUL = "\x00"
REPLACEMENT = "\ufffd"
# A string can hold a surrogate code point only unpaired: json.loads joins escaped pairs.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def replace_nul(value: Any, path: str, found: list[str]) -> Any:
    """Return ``value`` with NUL and lone surrogates replaced in every string, key and value,
    at any depth.

    ``value`` is never modified: an object or array holding one is copied, anything else is
    returned as it is. The dotted path of each replaced string (``metadata.tags[2]``; a key
    is named by its own path) is appended to ``found``.
    """
    if not has_nul(value):  # the usual case, checked without building paths
        return value
    return _replace(value, path, found)


def has_nul(value: Any) -> bool:
    """Whether any string in ``value`` (keys included, at any depth) holds a NUL."""
    # Iterative, and keys checked in one join: this runs on every row, and almost never finds.
    stack = [value]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        kind = type(item)
        if kind is str:
            if _unstorable(item):
                return True
        elif kind is dict:
            try:
                if _unstorable("".join(item)):
                    return True
            except TypeError:  # a key that is not a string (never from JSON)
                if any(type(key) is str and _unstorable(key) for key in item):
                    return True
            extend(item.values())
        elif kind is list:
            extend(item)
    return False


def _replace(value: Any, path: str, found: list[str]) -> Any:
    kind = type(value)
    if kind is str:
        if _unstorable(value):
            found.append(path)
            return _UNSTORABLE.sub(REPLACEMENT, value)
        return value
    if kind is dict:
        copy: dict[Any, Any] | None = None
        for key, item in value.items():
            new_key = key
            if type(key) is str and _unstorable(key):
                new_key = _UNSTORABLE.sub(REPLACEMENT, key)
                # Never onto a key the object already has: both values are kept.
                while new_key in value or (copy is not None and new_key in copy):
                    new_key += REPLACEMENT
                found.append(_join(path, new_key))
            new_item = _replace(item, _join(path, new_key), found)
            if copy is None and (new_key is not key or new_item is not item):
                copy = {}
                for done_key, done_item in value.items():
                    if done_key is key:
                        break
                    copy[done_key] = done_item
            if copy is not None:
                copy[new_key] = new_item
        return value if copy is None else copy
    if kind is list:
        items = [_replace(item, f"{path}[{n}]", found) for n, item in enumerate(value)]
        if any(new is not old for new, old in zip(items, value, strict=True)):
            return items
        return value
    return value


def _unstorable(text: str) -> bool:
    # An ASCII string (the usual case, known to CPython without a scan) holds no surrogate.
    return NUL in text or (not text.isascii() and _UNSTORABLE.search(text) is not None)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
