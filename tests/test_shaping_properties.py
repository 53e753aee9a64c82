"""Property tests: whatever a sync looks like, shaping gives a valid row or MalformedSync."""

from __future__ import annotations

import datetime
import json
import logging
import re
from typing import Any

import jsonschema
import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_sequin.shaping.redaction import REDACTED, SECRET_WORDS, is_secret_key
from tap_sequin.shaping.schemas import SYNC_SCHEMA
from tap_sequin.shaping.syncs import MalformedSync, SyncShaper
from tap_sequin.shaping.timestamps import MAX_YEAR, MIN_YEAR, to_utc_rfc3339

SECRET = "PLANTED-SECRET-7f3a9c"  # only ever placed where it must be redacted or dropped

_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", re.ASCII)
FORMAT_CHECKER = jsonschema.FormatChecker()


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.fullmatch(value):
        return False
    datetime.datetime.fromisoformat(value)
    return True


VALIDATOR = jsonschema.Draft7Validator(SYNC_SCHEMA, format_checker=FORMAT_CHECKER)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _shaper() -> tuple[SyncShaper, _Collect]:
    logger = logging.getLogger("tap_sequin.test_shaping_properties")
    logger.propagate = False
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    collect = _Collect()
    logger.addHandler(collect)
    return SyncShaper(logger), collect


# -- strategies ------------------------------------------------------------------------------

# Long strings are built by repetition: generating thousands of random characters is slow.
texts = st.text(max_size=20) | st.builds(
    lambda chunk, times: chunk * times, st.text(min_size=1, max_size=4), st.integers(500, 3000)
)
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | texts
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)

timestamps = st.one_of(
    st.datetimes(
        min_value=datetime.datetime(1960, 1, 1), max_value=datetime.datetime(3010, 12, 31)
    ).map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    st.datetimes(
        min_value=datetime.datetime(1960, 1, 1),
        max_value=datetime.datetime(3010, 12, 31),
        timezones=st.timezones(),
    ).map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "2023-02-30 00:00:00",
            "2023-13-01 00:00:00",
            "now",
            "12:00",
            "2023-12-15",
            "P1D",
            "",
            "0000-00-00 00:00:00",
            "2023-12-15T01:29:29.999999999+14:00",
            "2023-12-15T01:29:29-23:59",
        ]
    ),
    texts,
    json_values,
)

secret_names = st.sampled_from(
    [
        "secret",
        "password",
        "refresh_token",
        "access_token",
        "api_key",
        "apiKey",
        "client_secret",
        "private_key",
        "Authorization",
        "Cookie",
        "session_token",
        "signing_key",
        "passphrase",
        "passwd",
        "X-Api-Key",
        "key",
    ]
)
secret_values = st.sampled_from(
    [SECRET, "***********", {"value": SECRET}, [SECRET, {"x": SECRET}], f"Bearer {SECRET}"]
)
# Values that may hold a secret deeper down, under secret-named keys only.
secretive: Any = st.recursive(
    st.dictionaries(secret_names, secret_values, min_size=1, max_size=3),
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(st.sampled_from(["kind", "name", "nested", "items"]), inner, max_size=2)
    ),
    max_leaves=4,
)


def _merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for part in parts:
        merged.update(part)
    return merged


properties_objects = st.lists(
    st.dictionaries(secret_names, secret_values, max_size=3)
    | st.dictionaries(st.sampled_from(["nested", "items", "config"]), secretive, max_size=2)
    | st.fixed_dictionaries(
        {
            "kind": st.sampled_from(
                ["stripe_key", "airtable_oauth2", "github_app", "hubspot_oauth2", "new_kind"]
            )
        }
    )
    | st.dictionaries(st.sampled_from(["name", "scope", "login_id", "test"]), json_values),
    max_size=3,
).map(_merge)

credential_objects = st.fixed_dictionaries(
    {"properties": properties_objects | properties_objects | json_values},
    optional={
        "id": texts | json_values,
        "provider": texts,
        "oauth_app_id": st.none() | texts,
        "oauth_app": secretive | json_values,
        "metadata": secretive | json_values,
        "created_at": timestamps,
        "updated_at": timestamps,
        "client_secret": secret_values,
        "extra": secretive,
    },
)
credentials = st.one_of(st.none(), json_values, credential_objects, credential_objects)

healths = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "status": st.sampled_from(["healthy", "warn", "error"]) | json_values,
            "sync_id": texts | json_values,
            "credential": st.just({"status": "ok", "notes": ["token expired"]}),
            "provider": json_values,
        },
    ),
)
integers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.just(365.0),
    json_values,
)
rate_limits = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "allowed_requests": integers,
            "interval": integers,
            "max_concurrent_requests": integers,
            "burst": json_values,
        },
    ),
)

uuids = st.uuids().map(str)
# Mostly usable ids, so most examples get as far as a row; sometimes none at all.
syncs = st.fixed_dictionaries(
    {"id": st.one_of(uuids, uuids, uuids, uuids, texts, json_values)},
    optional={
        "provider": texts | json_values,
        "stream_id": uuids | json_values,
        "name": texts | json_values,
        "status": st.sampled_from(["active", "disabled"]) | json_values,
        "org_id": uuids | json_values,
        "health": healths,
        "collection_ids": st.lists(texts | json_values, max_size=4) | json_values,
        "rate_limit": rate_limits,
        "credential_id": texts | json_values,
        "credential": credentials,
        "max_age_days": integers,
        "sync_frequency": st.sampled_from(["continuous", "4h"]) | json_values,
        "initial_backfill_completed_at": timestamps,
        "metadata": json_values,
        "created_at": timestamps,
        "updated_at": timestamps,
        # Unknown fields, some of which carry secrets: dropped, never logged with their value.
        "webhook_secret": st.just(SECRET),
        "new_field": st.just({"token": SECRET}),
        "ünïcode ключ": json_values,
    },
)


def _without_id(raw: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in raw.items() if key != "id"}


def _secret_values_left(value: Any) -> list[Any]:
    """Values of secret-named keys anywhere in value that are neither null nor REDACTED."""
    found: list[Any] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if is_secret_key(key) and item not in (None, REDACTED):
                found.append(item)
            found.extend(_secret_values_left(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_secret_values_left(item))
    return found


# -- properties ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(syncs, syncs, syncs, syncs, json_values, syncs.map(_without_id)))
def test_any_input_gives_a_valid_row_or_malformed_sync(raw: Any) -> None:
    shaper, collect = _shaper()
    try:
        row = shaper.shape(raw)
    except MalformedSync as error:
        message = str(error)
        assert message
        assert "\n" not in message
        assert SECRET not in message
        return
    VALIDATOR.validate(row)
    assert list(row) == list(SYNC_SCHEMA["properties"])
    assert SECRET not in json.dumps(row)
    # Everywhere but the top-level metadata, which is the user's own data (not redacted).
    assert _secret_values_left({k: v for k, v in row.items() if k != "metadata"}) == []
    for message in collect.messages:
        assert "\n" not in message
        assert SECRET not in message


@settings(max_examples=150, deadline=None)
@given(raw=syncs)
def test_shaping_is_repeatable_and_does_not_modify_the_input(raw: Any) -> None:
    before = json.dumps(raw, sort_keys=True, default=repr)
    first_shaper, _ = _shaper()
    second_shaper, _ = _shaper()
    try:
        first = first_shaper.shape(raw)
    except MalformedSync:
        return
    assert json.dumps(raw, sort_keys=True, default=repr) == before
    assert json.dumps(second_shaper.shape(raw), default=repr) == json.dumps(first, default=repr)


@settings(max_examples=300, deadline=None)
@given(
    year=st.integers(1960, 3010),
    month=st.integers(0, 13),
    day=st.integers(0, 32),
    hour=st.integers(0, 25),
    minute=st.integers(0, 61),
    second=st.integers(0, 61),
)
def test_fast_path_agrees_with_pendulum(
    year: int, month: int, day: int, hour: int, minute: int, second: int
) -> None:
    text = f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}"
    try:
        parsed = pendulum.parse(text, exact=True)
    except ValueError:
        expected = None
    else:
        assert isinstance(parsed, pendulum.DateTime)
        ok = MIN_YEAR <= parsed.year <= MAX_YEAR
        expected = parsed.in_timezone("UTC").isoformat() if ok else None
    assert to_utc_rfc3339(text) == expected


@settings(max_examples=200, deadline=None)
@given(
    moment=st.datetimes(
        min_value=datetime.datetime(1971, 1, 1),
        max_value=datetime.datetime(2998, 12, 31),
        timezones=st.timezones(),
    )
)
def test_zoned_timestamps_convert_to_the_same_instant_in_utc(moment: datetime.datetime) -> None:
    text = moment.isoformat()
    result = to_utc_rfc3339(text)
    assert result is not None
    assert result.endswith("+00:00")
    # The instant the text names (in a DST gap that is not `moment` itself).
    assert datetime.datetime.fromisoformat(result) == datetime.datetime.fromisoformat(text)


@settings(max_examples=200, deadline=None)
@given(
    word=st.sampled_from(SECRET_WORDS),
    prefix=st.text(max_size=5),
    suffix=st.text(max_size=5),
    upper=st.booleans(),
)
def test_any_name_containing_a_secret_word_is_secret(
    word: str, prefix: str, suffix: str, upper: bool
) -> None:
    name = f"{prefix}{word.upper() if upper else word}{suffix}"
    assert is_secret_key(name)
