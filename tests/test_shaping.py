"""Shaping one raw sync into one row: tap_sequin.shaping.syncs and what it uses."""

from __future__ import annotations

import copy
import datetime
import json
import logging
import re
import subprocess
import sys
from typing import Any

import jsonschema
import pytest

from tap_sequin.shaping.redaction import (
    PUBLIC_SUFFIXES,
    REDACTED,
    SECRET_KEY_NAMES,
    SECRET_SUFFIXES,
    SECRET_WORDS,
    is_secret_key,
    redact,
)
from tap_sequin.shaping.schemas import CREDENTIAL_SCHEMA, SYNC_HEALTH_HISTORY_SCHEMA, SYNC_SCHEMA
from tap_sequin.shaping.syncs import MalformedSync, SyncShaper
from tap_sequin.shaping.timestamps import MAX_YEAR, MIN_YEAR, to_utc_rfc3339

from .conftest import manual

SYNC_ID = "c906b4a4-0cda-4f46-bd80-255f570c195d"

# The example of GET /v1/syncs/{id}, as Sequin documents it ("Get a sync").
DOCUMENTED_SYNC: dict[str, Any] = {
    "id": "c906b4a4-0cda-4f46-bd80-255f570c195d",
    "provider": "stripe",
    "stream_id": "f0f70b52-5243-489c-879b-a1ae3f02abfd",
    "name": "Choam Corp - HubSpot Production",
    "status": "active",
    "org_id": "75958cea-c981-4116-9a0d-c1e99e826688",
    "health": {"status": "healthy", "sync_id": "c906b4a4-0cda-4f46-bd80-255f570c195d"},
    "collection_ids": ["hubspot:contact", "hubspot:company"],
    "rate_limit": {"allowed_requests": 1000, "interval": 60, "max_concurrent_requests": 0},
    "credential_id": "27879937-bd5d-490b-a943-edf486b04300",
    "credential": {
        "id": "27879937-bd5d-490b-a943-edf486b04300",
        "provider": "stripe",
        "properties": {
            "kind": "stripe_key",
            "name": "TEST ACCOUNT",
            "secret": "***********",
            "test": True,
        },
        "oauth_app_id": None,
        "oauth_app": {"kind": "sequin"},
        "metadata": {"custom_credential_property": 42},
        "created_at": "2023-12-15 01:29:29",
        "updated_at": "2023-12-15 01:29:29",
    },
    "max_age_days": 365,
    "sync_frequency": "continuous",
    "initial_backfill_completed_at": "2023-12-15 01:29:29",
    "metadata": {"custom_property": 42},
    "created_at": "2023-12-15 01:29:29",
    "updated_at": "2023-12-15 01:29:29",
}

# Written out by hand from the reference: what the documented example must become.
EXPECTED_ROW: dict[str, Any] = {
    "id": "c906b4a4-0cda-4f46-bd80-255f570c195d",
    "provider": "stripe",
    "stream_id": "f0f70b52-5243-489c-879b-a1ae3f02abfd",
    "name": "Choam Corp - HubSpot Production",
    "status": "active",
    "org_id": "75958cea-c981-4116-9a0d-c1e99e826688",
    "external_id": None,
    "collection_ids": ["hubspot:contact", "hubspot:company"],
    "credential_id": "27879937-bd5d-490b-a943-edf486b04300",
    "credential": {
        "id": "27879937-bd5d-490b-a943-edf486b04300",
        "provider": "stripe",
        "properties": {
            "kind": "stripe_key",
            "name": "TEST ACCOUNT",
            "secret": "[REDACTED]",
            "test": True,
        },
        "oauth_app_id": None,
        "oauth_app": {"kind": "sequin"},
        "metadata": {"custom_credential_property": 42},
        "created_at": "2023-12-15T01:29:29+00:00",
        "updated_at": "2023-12-15T01:29:29+00:00",
    },
    "max_age_days": 365,
    "sync_frequency": "continuous",
    "initial_backfill_completed_at": "2023-12-15T01:29:29+00:00",
    "created_at": "2023-12-15T01:29:29+00:00",
    "updated_at": "2023-12-15T01:29:29+00:00",
    "metadata": {"custom_property": 42},
    "health_status": "healthy",
    "health_sync_id": "c906b4a4-0cda-4f46-bd80-255f570c195d",
    "health_credential_status": None,
    "health_provider_status": None,
    "health_notes": None,
    "health": {"status": "healthy", "sync_id": "c906b4a4-0cda-4f46-bd80-255f570c195d"},
    "rate_limit_allowed_requests": 1000,
    "rate_limit_interval": 60,
    "rate_limit_max_concurrent_requests": 0,
}

# jsonschema only checks "date-time" when rfc3339-validator is installed, and it is not a
# dependency here; without this the format would silently pass anything.
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", re.ASCII)
FORMAT_CHECKER = jsonschema.FormatChecker()


@FORMAT_CHECKER.checks("date-time", raises=ValueError)
def _is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True  # formats only constrain strings; "type" judges the rest
    if not _RFC3339.fullmatch(value):
        return False
    datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))  # raises if not a real date
    return True


VALIDATOR = jsonschema.Draft7Validator(SYNC_SCHEMA, format_checker=FORMAT_CHECKER)


def assert_valid_row(row: dict[str, Any]) -> None:
    VALIDATOR.validate(row)
    assert list(row) == list(SYNC_SCHEMA["properties"])
    for column in ("initial_backfill_completed_at", "created_at", "updated_at"):
        assert row[column] is None or row[column].endswith("+00:00")


def sync(**changes: Any) -> dict[str, Any]:
    """The documented sync with top-level fields changed (a value of ... removes the field)."""
    raw = copy.deepcopy(DOCUMENTED_SYNC)
    for key, value in changes.items():
        if value is ...:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


@pytest.fixture
def shaper() -> SyncShaper:
    return SyncShaper(logging.getLogger("tap_sequin.test_shaping"))


def shape(shaper: SyncShaper, raw: Any) -> dict[str, Any]:
    row = shaper.shape(raw)
    assert_valid_row(row)
    return row


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# -- the schema ------------------------------------------------------------------------------


def test_schema_every_column_nullable_except_id() -> None:
    for column, schema in SYNC_SCHEMA["properties"].items():
        types = schema["type"]
        if column == "id":
            assert types == ["string"]
        else:
            assert "null" in types, column


def test_schema_object_columns_allow_any_key() -> None:
    # The SDK drops undeclared keys of nested objects unless additionalProperties is true.
    properties = SYNC_SCHEMA["properties"]
    for column in ("credential", "metadata"):
        assert properties[column]["additionalProperties"] is True
    for sub in ("properties", "oauth_app", "metadata"):
        assert properties["credential"]["properties"][sub]["additionalProperties"] is True


def test_shaping_imports_no_http_code_and_not_pendulum() -> None:
    code = (
        "import sys, tap_sequin.shaping.schemas, tap_sequin.shaping.syncs,"
        " tap_sequin.shaping.credentials;"
        "assert 'tap_sequin.client.api' not in sys.modules and 'pendulum' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize(
    "schema", [SYNC_SCHEMA, SYNC_HEALTH_HISTORY_SCHEMA, CREDENTIAL_SCHEMA], ids=lambda s: ""
)
def test_schema_is_valid_draft7(schema: dict[str, Any]) -> None:
    jsonschema.Draft7Validator.check_schema(schema)


def _integer_columns(schema: dict[str, Any], path: str = "") -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for name, column in schema.get("properties", {}).items():
        if "integer" in column["type"]:
            found[path + name] = column
        found |= _integer_columns(column, f"{path}{name}.")
    return found


def test_every_integer_column_of_every_stream_declares_the_64_bit_range() -> None:
    columns = {}
    for schema in (SYNC_SCHEMA, SYNC_HEALTH_HISTORY_SCHEMA, CREDENTIAL_SCHEMA):
        columns |= _integer_columns(schema)
    assert "rate_limit_interval" in columns
    assert "max_age_days" in columns
    for name, column in columns.items():
        assert (column["minimum"], column["maximum"]) == (-(2**63), 2**63 - 1), name


@pytest.mark.parametrize(
    "bad", ["2023-12-15 01:29:29", "2023-02-30T00:00:00+00:00", "2023-12-15T01:29:29", "x"]
)
def test_the_date_time_check_used_here_is_not_vacuous(bad: str) -> None:
    assert not VALIDATOR.is_valid({"id": "x", "created_at": bad})


# -- the documented example ------------------------------------------------------------------


def test_documented_example_becomes_expected_row(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    raw = copy.deepcopy(DOCUMENTED_SYNC)
    assert shape(shaper, raw) == EXPECTED_ROW
    assert raw == DOCUMENTED_SYNC, "the input must not be modified"
    assert warnings_in(caplog) == []


def test_row_is_json_serialisable(shaper: SyncShaper) -> None:
    assert json.loads(json.dumps(shaper.shape(sync()))) == EXPECTED_ROW


# -- timestamps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2023-12-15 01:29:29", "2023-12-15T01:29:29+00:00"),
        ("2023-12-15T01:29:29", "2023-12-15T01:29:29+00:00"),
        ("2023-12-15T01:29:29Z", "2023-12-15T01:29:29+00:00"),
        ("2023-12-15t01:29:29z", "2023-12-15T01:29:29+00:00"),  # RFC 3339 5.6: either case
        ("2023-12-15t02:29:29.5+01:00", "2023-12-15T01:29:29.500000+00:00"),
        ("2023-12-15T03:29:29+02:00", "2023-12-15T01:29:29+00:00"),
        ("2023-12-14T20:29:29-05:00", "2023-12-15T01:29:29+00:00"),
        ("2023-12-15T01:29:29.123Z", "2023-12-15T01:29:29.123000+00:00"),
        ("2023-12-15T03:29:29.5+02:00", "2023-12-15T01:29:29.500000+00:00"),
        ("2023-12-15T01:29:29.123456789Z", "2023-12-15T01:29:29.123456+00:00"),
        ("2024-01-01T00:30:00+01:00", "2023-12-31T23:30:00+00:00"),
        ("2024-02-29 12:00:00", "2024-02-29T12:00:00+00:00"),
        ("2000-02-29 12:00:00", "2000-02-29T12:00:00+00:00"),
        ("1970-01-01 00:00:00", "1970-01-01T00:00:00+00:00"),
        ("2999-12-31 23:59:59", "2999-12-31T23:59:59+00:00"),
        ("2023-12-31 23:59:59", "2023-12-31T23:59:59+00:00"),
        ("2023-04-30 00:00:00", "2023-04-30T00:00:00+00:00"),
    ],
)
def test_timestamps_become_rfc3339_utc(shaper: SyncShaper, given: str, expected: str) -> None:
    assert to_utc_rfc3339(given) == expected
    row = shape(shaper, sync(created_at=given, updated_at=given))
    assert row["created_at"] == row["updated_at"] == expected


@pytest.mark.parametrize(
    "given",
    [
        "2023-13-01 00:00:00",  # month 13
        "2023-00-10 00:00:00",
        "2023-02-30 00:00:00",  # Feb 30
        "2023-02-29 00:00:00",  # not a leap year
        "2100-02-29 00:00:00",  # centuries are not leap years...
        "2023-04-31 00:00:00",
        "2023-12-32 00:00:00",
        "2023-12-00 00:00:00",
        "2023-12-15 24:00:00",
        "2023-12-15 01:60:00",
        "2023-12-15 01:29:60",
        "2023-12-15T01:29:29+25:00",
        "0001-01-01 00:00:00",  # absurd years
        "1969-12-31 23:59:59",
        "9999-12-31 23:59:59",
        "3000-01-01 00:00:00",
        "2999-12-31T23:00:00-05:00",  # year 3000 in UTC
        "1970-01-01T00:30:00+01:00",  # 1969 in UTC
        "now",  # pendulum would read these relative to the clock
        "today",
        "12:00:00",
        "P1D",
        "2023-12-15",  # a date is not a date-time
        "2023",
        "",
        " 2023-12-15 01:29:29",
        "2023-12-15 01:29:29 UTC",
        "garbage",
        "\uff12\uff10\uff12\uff13-12-15 01:29:29",  # fullwidth digits
        "2023-12-15 01:29:29" + "0" * 100,
    ],
)
def test_invalid_timestamps_become_null_with_a_warning(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture, given: str
) -> None:
    assert to_utc_rfc3339(given) is None
    row = shape(shaper, sync(initial_backfill_completed_at=given))
    assert row["initial_backfill_completed_at"] is None
    [message] = warnings_in(caplog)
    assert "'initial_backfill_completed_at'" in message
    assert SYNC_ID in message
    assert "not a valid date-time" in message


def test_year_bounds_are_what_the_fast_path_encodes() -> None:
    assert (MIN_YEAR, MAX_YEAR) == (1970, 2999)


def test_null_timestamp_stays_null_without_warning(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    row = shape(shaper, sync(initial_backfill_completed_at=None, created_at=...))
    assert row["initial_backfill_completed_at"] is None
    assert row["created_at"] is None
    assert warnings_in(caplog) == []


@pytest.mark.parametrize("given", [1702603769, 1702603769.5, True, ["2023-12-15 01:29:29"], {}])
def test_non_string_timestamp_becomes_null_with_a_warning(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture, given: Any
) -> None:
    row = shape(shaper, sync(updated_at=given))
    assert row["updated_at"] is None
    [message] = warnings_in(caplog)
    assert "'updated_at'" in message
    assert SYNC_ID in message


def test_credential_timestamps_are_normalised(shaper: SyncShaper) -> None:
    raw = sync()
    raw["credential"]["created_at"] = "2023-12-15T03:29:29+02:00"
    raw["credential"]["updated_at"] = None
    row = shape(shaper, raw)
    assert row["credential"]["created_at"] == "2023-12-15T01:29:29+00:00"
    assert row["credential"]["updated_at"] is None


def test_bad_credential_timestamp_is_warned_without_its_value(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    raw = sync()
    raw["credential"]["updated_at"] = "not-a-date-sk_live_abc"
    row = shape(shaper, raw)
    assert row["credential"]["updated_at"] is None
    [message] = warnings_in(caplog)
    assert "credential.updated_at" in message
    assert "sk_live_abc" not in message


# -- flattening ------------------------------------------------------------------------------


def test_older_health_shape_is_flattened_whole_without_a_warning(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    old_health = {
        "status": "warn",
        "credential": {"status": "ok", "notes": ["token refreshed"], "time": "2023-12-15 01:29:29"},
        "provider": {"status": "error", "notes": ["We're seeing elevated error rates", "429s"]},
    }
    row = shape(shaper, sync(health=copy.deepcopy(old_health)))
    assert row["health_status"] == "warn"
    assert row["health_sync_id"] is None
    assert row["health_credential_status"] == "ok"
    assert row["health_provider_status"] == "error"
    assert row["health_notes"] == ["token refreshed", "We're seeing elevated error rates", "429s"]
    assert row["health"] == old_health
    assert warnings_in(caplog) == []


def test_older_health_shape_without_notes_gives_an_empty_list(shaper: SyncShaper) -> None:
    health = {"status": "ok", "credential": {"status": "ok", "notes": []}, "provider": {}}
    row = shape(shaper, sync(health=health))
    assert row["health_notes"] == []
    assert row["health_provider_status"] is None


def test_undocumented_health_key_is_kept_in_health_and_warned_once(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(3):
        health = {"status": "error", "sync_id": SYNC_ID, "since": "2024-01-01"}
        health["provider"] = {"status": "error", "notes": [], "code": n}
        row = shape(shaper, sync(health=health))
        assert row["health"] == health
        assert row["health_status"] == "error"
    messages = warnings_in(caplog)
    assert len(messages) == 2
    assert any("'health.since'" in m for m in messages)
    assert any("'health.provider.code'" in m for m in messages)
    assert all("health column" in m for m in messages)


def test_bad_health_notes_drop_their_bad_elements_with_a_warning(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    health = {"status": "warn", "provider": {"status": "warn", "notes": ["slow", 3, None]}}
    row = shape(shaper, sync(health=health))
    assert row["health_notes"] == ["slow"]
    [message] = warnings_in(caplog)
    assert "'health.provider.notes'" in message


def test_external_id_is_loaded_when_present(shaper: SyncShaper) -> None:
    assert shape(shaper, sync(external_id="cust-42"))["external_id"] == "cust-42"


def test_nul_is_replaced_everywhere_keys_included_with_one_warning_per_field(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    raw = sync(
        name="Choam\x00Corp",
        metadata={"team": {"lead": "a\x00b"}, "ta\x00gs": ["x", "\x00"]},
    )
    raw["credential"]["metadata"] = {"note": "\x00"}
    for _ in range(2):
        row = shape(shaper, copy.deepcopy(raw))
    assert "\x00" not in json.dumps(row, ensure_ascii=False)
    assert "\\u0000" not in json.dumps(row)
    assert row["name"] == "Choam\ufffdCorp"
    assert row["metadata"] == {"team": {"lead": "a\ufffdb"}, "ta\ufffdgs": ["x", "\ufffd"]}
    assert row["credential"]["metadata"] == {"note": "\ufffd"}
    messages = warnings_in(caplog)
    assert len(messages) == 5  # name, metadata.team.lead, the key, its element, credential's
    assert all(SYNC_ID in m and "U+0000" in m and "U+FFFD" in m for m in messages)
    assert any("'metadata.team.lead'" in m for m in messages)
    assert any("'name'" in m for m in messages)
    assert all("\x00" not in m for m in messages)


def test_unknown_rate_limit_subfield_is_dropped_with_a_warning(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    limit = {"allowed_requests": 5, "interval": 1, "max_concurrent_requests": 2, "burst": 9}
    row = shape(shaper, sync(rate_limit=limit))
    assert row["rate_limit_allowed_requests"] == 5
    assert row["rate_limit_interval"] == 1
    assert row["rate_limit_max_concurrent_requests"] == 2
    [message] = warnings_in(caplog)
    assert "'rate_limit.burst'" in message
    assert "not in the schema" in message


@pytest.mark.parametrize("field", ["health", "rate_limit"])
@pytest.mark.parametrize("value", [..., None])
def test_missing_health_or_rate_limit_warns_once(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture, field: str, value: Any
) -> None:
    for _ in range(3):
        row = shape(shaper, sync(**{field: value}))
        assert all(row[column] is None for column in row if column.startswith(field))
    [message] = warnings_in(caplog)
    assert f"'{field}'" in message
    assert "missing" in message
    assert shaper.problem_counts[(field, "missing or null")] == 3


def test_empty_rate_limit_gives_null_columns_without_warning(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    row = shape(shaper, sync(rate_limit={}, health={}))
    assert row["rate_limit_interval"] is None
    assert row["health_status"] is None
    assert warnings_in(caplog) == []


# -- redaction -------------------------------------------------------------------------------

SECRET = "sk_live_TOPSECRET_51H"  # planted in every secret position; must never surface


def _credential(properties: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {
        "id": "27879937-bd5d-490b-a943-edf486b04300",
        "provider": "x",
        "properties": properties,
        "oauth_app_id": None,
        "oauth_app": {"kind": "sequin"},
        "metadata": {},
        "created_at": "2023-12-15 01:29:29",
        "updated_at": "2023-12-15 01:29:29",
        **more,
    }


# Each kind from the reference, unmasked (secrets in clear) and masked, with nested secrets.
CREDENTIAL_CASES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "stripe_key unmasked": (
        {"kind": "stripe_key", "name": "LIVE", "secret": SECRET, "test": False},
        {"kind": "stripe_key", "name": "LIVE", "secret": REDACTED, "test": False},
    ),
    "stripe_key masked": (
        {"kind": "stripe_key", "name": "TEST", "secret": "***********", "test": True},
        {"kind": "stripe_key", "name": "TEST", "secret": REDACTED, "test": True},
    ),
    "airtable_oauth2": (
        {
            "kind": "airtable_oauth2",
            "airtable_uid": "usr123",
            "refresh_token": SECRET,
            "access_token": SECRET,
            "scope": "data.records:read",
        },
        {
            "kind": "airtable_oauth2",
            "airtable_uid": "usr123",
            "refresh_token": REDACTED,
            "access_token": REDACTED,
            "scope": "data.records:read",
        },
    ),
    "github_app": (
        {
            "kind": "github_app",
            "account_type": "Organization",
            "account_login": "choam",
            "installation_id": 123,
            "private_key": SECRET,
            "app": {"webhookSecret": SECRET, "clientId": "Iv1.abc"},
        },
        {
            "kind": "github_app",
            "account_type": "Organization",
            "account_login": "choam",
            "installation_id": 123,
            "private_key": REDACTED,
            "app": {"webhookSecret": REDACTED, "clientId": "Iv1.abc"},
        },
    ),
    "checkout_champ_password": (
        {"kind": "checkout_champ_password", "login_id": "ops", "password": SECRET},
        {"kind": "checkout_champ_password", "login_id": "ops", "password": REDACTED},
    ),
    "hubspot_oauth2": (
        {
            "kind": "hubspot_oauth2",
            "refresh_token": SECRET,
            "access_token": "********",
            "tokens": {"access": SECRET, "expires_in": 1800},
            "scopes": ["crm.objects.contacts.read"],
        },
        {
            "kind": "hubspot_oauth2",
            "refresh_token": REDACTED,
            "access_token": REDACTED,
            "tokens": REDACTED,
            "scopes": ["crm.objects.contacts.read"],
        },
    ),
    "linear_oauth2": (
        {"kind": "linear_oauth2", "access_token": SECRET, "refresh_token": None, "scope": "read"},
        {"kind": "linear_oauth2", "access_token": REDACTED, "refresh_token": None, "scope": "read"},
    ),
    "stripe_oauth2": (
        {
            "kind": "stripe_oauth2",
            "stripe_user_id": "acct_1",
            "livemode": True,
            "accessToken": SECRET,
            "stripe_publishable_key": "pk_live_public",
        },
        {
            "kind": "stripe_oauth2",
            "stripe_user_id": "acct_1",
            "livemode": True,
            "accessToken": REDACTED,
            "stripe_publishable_key": "pk_live_public",
        },
    ),
    "unknown future kind, secrets nested in lists": (
        {
            "kind": "acme_magic",
            "name": "x",
            "endpoints": [
                {"url": "https://a", "headers": {"Authorization": SECRET, "X-Api-Key": SECRET}},
                {"url": "https://b", "Cookie": SECRET, "session_id": SECRET},
            ],
            "signing": {"signing_key": SECRET, "passphrase": SECRET, "PASSWD": SECRET},
            "key": SECRET,
            "apiKey": SECRET,
            "clientSecret": SECRET,
            "Private-Key": SECRET,
        },
        {
            "kind": "acme_magic",
            "name": "x",
            "endpoints": [
                {"url": "https://a", "headers": {"Authorization": REDACTED, "X-Api-Key": REDACTED}},
                {"url": "https://b", "Cookie": REDACTED, "session_id": REDACTED},
            ],
            "signing": {"signing_key": REDACTED, "passphrase": REDACTED, "PASSWD": REDACTED},
            "key": REDACTED,
            "apiKey": REDACTED,
            "clientSecret": REDACTED,
            "Private-Key": REDACTED,
        },
    ),
}


@pytest.mark.parametrize("case", list(CREDENTIAL_CASES))
def test_credential_secrets_are_redacted(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    properties, expected_properties = CREDENTIAL_CASES[case]
    raw = sync(credential=_credential(copy.deepcopy(properties)))
    row = shape(shaper, raw)
    assert row["credential"]["properties"] == expected_properties
    assert SECRET not in json.dumps(row)
    assert SECRET not in caplog.text
    assert raw["credential"]["properties"] == properties, "the input must not be modified"


def test_secrets_in_oauth_app_and_credential_metadata_and_top_of_credential(
    shaper: SyncShaper,
) -> None:
    credential = _credential(
        {"kind": "hubspot_oauth2"},
        oauth_app={"kind": "custom", "client_id": "abc", "client_secret": SECRET},
        metadata={"note": "ok", "deploy": {"token": SECRET}, "list": [{"password": SECRET}]},
        api_key=SECRET,
        authorization=None,
    )
    row = shape(shaper, sync(credential=credential))
    assert row["credential"]["oauth_app"] == {
        "kind": "custom",
        "client_id": "abc",
        "client_secret": REDACTED,
    }
    assert row["credential"]["metadata"] == {
        "note": "ok",
        "deploy": {"token": REDACTED},
        "list": [{"password": REDACTED}],
    }
    assert row["credential"]["api_key"] == REDACTED
    assert row["credential"]["authorization"] is None
    assert SECRET not in json.dumps(row)


def test_top_level_metadata_is_the_users_and_is_not_redacted(shaper: SyncShaper) -> None:
    row = shape(shaper, sync(metadata={"owner_token_hint": "abc", "n": 1}))
    assert row["metadata"] == {"owner_token_hint": "abc", "n": 1}


def test_unknown_top_level_field_holding_a_secret_is_dropped_and_not_logged(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    row = shape(shaper, sync(webhook_secret=SECRET))
    assert "webhook_secret" not in row
    assert SECRET not in caplog.text


def test_deeply_nested_credential_is_cut_off() -> None:
    nested: dict[str, Any] = {"leaf": SECRET}
    for _ in range(100):
        nested = {"n": nested}
    assert SECRET not in json.dumps(redact(nested))


@pytest.mark.parametrize(
    "name",
    [
        "kind",
        "name",
        "test",
        "scope",
        "airtable_uid",
        "account_login",
        "account_type",
        "installation_id",
        "login_id",
        "provider",
        "oauth_app_id",
        "oauth_app",
        "oauth",
        "client_id",
        "key_id",
        "hub_id",
        "author",
        "credential",  # a health object's credential part: a status and notes
        "credentials_count",
        "stripe_publishable_key",  # published by design
        "public_key",
    ],
)
def test_non_secret_names_are_kept(name: str) -> None:
    assert not is_secret_key(name)


@pytest.mark.parametrize(
    "name",
    ["key", "Key", "pass", "PIN", "pwd", "bearer_value", "auth", "Auth", "credentials"],
)
def test_short_secret_names_are_secret_when_whole(name: str) -> None:
    assert is_secret_key(name)


@pytest.mark.parametrize(
    "name",
    [
        "client_key",
        "access_key",
        "encryption_key",
        "ssh_key",
        "sshKeys",
        "Stripe-Key",
        "passcode",
        "user_passcode",
    ],
)
def test_names_ending_in_key_and_passcodes_are_secret(name: str) -> None:
    assert is_secret_key(name)


@pytest.mark.parametrize(
    "name",
    ["jwt", "sentry_dsn", "DSN", "cert_pem", "pem", "totp_seed", "creds", "dbUrl", "connStr"],
)
def test_names_reviewers_found_missing_are_secret(name: str) -> None:
    assert is_secret_key(name)


@pytest.mark.parametrize("name", ["keyword_count", "passenger", "pinned", "spin", "oauth_scope"])
def test_short_secret_names_do_not_match_inside_other_names(name: str) -> None:
    assert not is_secret_key(name)


@pytest.mark.parametrize("word", SECRET_WORDS)
def test_every_secret_word_is_caught_in_any_casing_and_separator(word: str) -> None:
    assert is_secret_key(word)
    assert is_secret_key(f"my_{word.upper()}_v2")
    assert is_secret_key(word.replace("_", "-"))


# -- unknown fields --------------------------------------------------------------------------


def test_unknown_field_is_dropped_and_warned_once_per_run(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tap_sequin.test_shaping")
    shaper = SyncShaper(logger)
    for n in range(5):
        row = shape(shaper, sync(id=f"sync-{n}", paused_until="2024-01-01", tags=["a"]))
        assert "paused_until" not in row
        assert "tags" not in row
    messages = warnings_in(caplog)
    assert len(messages) == 2
    assert "'paused_until'" in messages[0]
    assert "not in the schema" in messages[0]
    assert "'sync-0'" in messages[0]
    assert shaper.problem_counts[("paused_until", "not in the schema")] == 5

    caplog.clear()
    shape(SyncShaper(logger), sync(paused_until="x"))  # a new run warns again
    assert len(warnings_in(caplog)) == 1


# -- malformed known fields ------------------------------------------------------------------

MALFORMED: list[tuple[str, Any, dict[str, Any], str]] = [
    # (field, bad value, columns expected in the row, field name expected in the warning)
    ("max_age_days", "abc", {"max_age_days": None}, "max_age_days"),
    ("max_age_days", True, {"max_age_days": None}, "max_age_days"),
    ("max_age_days", 365.5, {"max_age_days": None}, "max_age_days"),
    ("max_age_days", float("nan"), {"max_age_days": None}, "max_age_days"),
    ("max_age_days", float("inf"), {"max_age_days": None}, "max_age_days"),
    ("max_age_days", 2**70, {"max_age_days": None}, "max_age_days"),
    ("max_age_days", [365], {"max_age_days": None}, "max_age_days"),
    ("collection_ids", "hubspot:contact", {"collection_ids": None}, "collection_ids"),
    ("collection_ids", {"a": 1}, {"collection_ids": None}, "collection_ids"),
    (
        "collection_ids",
        ["hubspot:contact", 3, None, {"x": 1}, "hubspot:deal"],
        {"collection_ids": ["hubspot:contact", "hubspot:deal"]},
        "collection_ids",
    ),
    ("metadata", ["a"], {"metadata": None}, "metadata"),
    ("metadata", "{}", {"metadata": None}, "metadata"),
    ("name", 42, {"name": None}, "name"),
    ("provider", {"name": "stripe"}, {"provider": None}, "provider"),
    ("status", False, {"status": None}, "status"),
    ("sync_frequency", 4, {"sync_frequency": None}, "sync_frequency"),
    ("credential", "sk_live_in_a_string", {"credential": None}, "credential"),
    ("credential", ["x"], {"credential": None}, "credential"),
    (
        "health",
        "healthy",
        {"health_status": None, "health_sync_id": None},
        "health",
    ),
    ("health", {"status": 1, "sync_id": SYNC_ID}, {"health_status": None}, "health.status"),
    (
        "rate_limit",
        [1000, 60, 0],
        {
            "rate_limit_allowed_requests": None,
            "rate_limit_interval": None,
            "rate_limit_max_concurrent_requests": None,
        },
        "rate_limit",
    ),
    (
        "rate_limit",
        {"allowed_requests": "1000", "interval": 60.5, "max_concurrent_requests": False},
        {
            "rate_limit_allowed_requests": None,
            "rate_limit_interval": None,
            "rate_limit_max_concurrent_requests": None,
        },
        "rate_limit.allowed_requests",
    ),
]


@pytest.mark.parametrize(
    ("field", "value", "expected", "warned_field"),
    MALFORMED,
    ids=[f"{m[0]}={m[1]!r}"[:50] for m in MALFORMED],
)
def test_malformed_field_becomes_null_with_a_warning(
    shaper: SyncShaper,
    caplog: pytest.LogCaptureFixture,
    field: str,
    value: Any,
    expected: dict[str, Any],
    warned_field: str,
) -> None:
    row = shape(shaper, sync(**{field: value}))
    for column, expected_value in expected.items():
        assert row[column] == expected_value, column
    messages = warnings_in(caplog)
    assert messages
    assert any(f"'{warned_field}'" in m and SYNC_ID in m for m in messages)
    assert "sk_live_in_a_string" not in caplog.text
    for column, good in EXPECTED_ROW.items():
        if column not in expected and not column.startswith(field):
            assert row[column] == good, f"{column} should be untouched"


@pytest.mark.parametrize(
    ("field", "sub"),
    [("properties", ["x"]), ("oauth_app", "sequin"), ("metadata", 5), ("id", 7), ("provider", [])],
)
def test_malformed_credential_subfield_becomes_null(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture, field: str, sub: Any
) -> None:
    raw = sync()
    raw["credential"][field] = sub
    row = shape(shaper, raw)
    assert row["credential"][field] is None
    assert f"'credential.{field}'" in caplog.text


def test_integral_float_is_an_integer(shaper: SyncShaper, caplog: pytest.LogCaptureFixture) -> None:
    row = shape(shaper, sync(max_age_days=365.0, rate_limit={"interval": 60.0}))
    assert row["max_age_days"] == 365
    assert type(row["max_age_days"]) is int
    assert row["rate_limit_interval"] == 60
    assert type(row["rate_limit_interval"]) is int
    assert warnings_in(caplog) == []


def test_null_max_age_days_is_null_without_warning(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    assert shape(shaper, sync(max_age_days=None))["max_age_days"] is None
    assert warnings_in(caplog) == []


def test_same_problem_is_warned_once_and_counted(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(10):
        shape(shaper, sync(id=f"s{n}", max_age_days="abc"))
    shape(shaper, sync(id="s-bool", max_age_days=True))  # same problem: not an integer
    shape(shaper, sync(id="s-big", max_age_days=2**64))  # another problem
    messages = warnings_in(caplog)
    assert len(messages) == 2
    assert shaper.problem_counts[("max_age_days", "not an integer")] == 11
    caplog.clear()
    shaper.log_summary()
    [summary] = warnings_in(caplog)
    assert summary.startswith("11 syncs in this run: field ")
    assert "'max_age_days'" in summary


def test_missing_fields_become_null_without_warnings(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    row = shape(shaper, {"id": SYNC_ID, "health": {}, "rate_limit": {}})
    expected = {column: None for column in SYNC_SCHEMA["properties"]}
    assert row == expected | {"id": SYNC_ID, "health": {}}
    assert warnings_in(caplog) == []


def test_long_and_unicode_strings_pass_through_unchanged(shaper: SyncShaper) -> None:
    name = "Ωμέγα 🚀 Zürich — 東京 " * 5000
    raw = sync(name=name, collection_ids=["ключ:значение", "x" * 10_000])
    row = shape(shaper, raw)
    assert row["name"] == name
    assert row["collection_ids"] == ["ключ:значение", "x" * 10_000]


def test_warnings_are_one_line_even_for_hostile_ids(
    shaper: SyncShaper, caplog: pytest.LogCaptureFixture
) -> None:
    shape(shaper, sync(id="evil\nINFO fake log line" + "x" * 500, name=5, **{"new\nfield": 1}))
    messages = warnings_in(caplog)
    assert len(messages) == 2
    for message in messages:
        assert "\n" not in message
        assert len(message) < 400


# -- syncs that cannot be keyed --------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "a sync",
        42,
        [DOCUMENTED_SYNC],
        {},
        sync(id=...),
        sync(id=None),
        sync(id=42),
        sync(id=""),
        sync(id="  \n"),
        sync(id=["c906b4a4"]),
    ],
    ids=repr,
)
def test_unkeyable_sync_raises_malformed_sync(shaper: SyncShaper, raw: Any) -> None:
    with pytest.raises(MalformedSync) as caught:
        shaper.shape(raw)
    message = str(caught.value)
    assert message
    assert "\n" not in message
    assert isinstance(caught.value, Exception)


def test_the_readme_lists_every_name_the_rule_redacts() -> None:
    readme = manual()
    start = readme.index("**Credential secrets never reach a record**")
    bullet = readme[start : readme.index("\n- **", start)]
    folded = {re.sub(r"[\W_]+", "", word) for word in SECRET_WORDS}
    for name in sorted(folded | {*SECRET_KEY_NAMES, *SECRET_SUFFIXES, *PUBLIC_SUFFIXES}):
        assert f"`{name}`" in bullet, name


def test_a_problem_met_twice_in_one_sync_counts_that_sync_once(shaper: SyncShaper) -> None:
    # A NUL in a key and in its value is one field with one problem, in one sync: the
    # run's "N syncs in this run" line must count syncs, not occurrences.
    shape(shaper, sync(id="s1", metadata={"k\u0000": "v\u0000"}))
    counts = [n for (field, _), n in shaper.problem_counts.items() if field.startswith("metadata")]
    assert counts == [1]
    shape(shaper, sync(id="s2", metadata={"k\u0000": "v\u0000"}))
    counts = [n for (field, _), n in shaper.problem_counts.items() if field.startswith("metadata")]
    assert counts == [2]


def test_a_key_cleaned_of_nul_never_overwrites_another_key(shaper: SyncShaper) -> None:
    row = shape(shaper, sync(metadata={"a\u0000": 1, "a\ufffd": 2}))
    assert sorted(row["metadata"].values()) == [1, 2]
    assert all("\u0000" not in key for key in row["metadata"])
