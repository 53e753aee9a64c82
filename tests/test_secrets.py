"""The API token and credential secrets never appear in output, logs, state or errors."""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from tap_sequin.errors import TapSequinError
from tap_sequin.sandbox import SECRET_MARKER, Faults, Rule, Sandbox, generate_syncs
from tap_sequin.shaping.redaction import REDACTED

from .conftest import TOKEN, config_for, make_sandbox, run_cli, run_in_process

DEBUG = {"TAP_SEQUIN_LOGLEVEL": "DEBUG", "LOGLEVEL": "DEBUG"}


def _secret_values(syncs: list[dict[str, t.Any]]) -> set[str]:
    """Every unmasked secret the sandbox serves, found by its marker."""
    found: set[str] = set()

    def walk(value: t.Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and SECRET_MARKER in value:
            found.add(value)

    walk(syncs)
    return found


def test_the_sandbox_really_serves_unmasked_secrets_of_every_kind() -> None:
    # Guards the test below: it proves nothing if there is nothing to leak.
    syncs = generate_syncs(40, 7)
    kinds = {s["credential"]["properties"]["kind"] for s in syncs if s.get("credential")}
    assert {
        "stripe_key",
        "airtable_oauth2",
        "github_app",
        "checkout_champ_password",
        "hubspot_oauth2",
        "linear_oauth2",
        "stripe_oauth2",
    } <= kinds
    assert len(_secret_values(syncs)) >= 10


SCENARIOS: dict[str, tuple[dict[str, t.Any], Faults]] = {
    "every sync": ({}, Faults()),
    "configured ids": ({"sync_ids": "first-20"}, Faults()),
    "storm of 429 and 5xx": ({"sync_ids": "first-20"}, Faults(rate_429=0.2, rate_5xx=0.2)),
    "html and cut bodies": ({"sync_ids": "first-20"}, Faults(rate_html=0.2, rate_cut=0.2)),
    "token refused": ({}, Faults(revoked=True)),
    "persistent 503": ({"max_retries": 1}, Faults(rules=(Rule("*", "503"),))),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_secret_in_stdout_stderr_at_debug_or_state(scenario: str, tmp_path: Path) -> None:
    overrides, faults = SCENARIOS[scenario]
    with make_sandbox(syncs=40, faults=faults) as sb:
        secrets = _secret_values([sb.sync(i) for i in sb.sync_ids])
        if overrides.get("sync_ids") == "first-20":
            overrides = {**overrides, "sync_ids": sb.sync_ids[:20]}
        run = run_cli(config_for(sb, **overrides), tmp_path, env=DEBUG)

    everything = run.stdout + run.stderr
    assert "DEBUG" in run.stderr  # the logs really were at DEBUG
    assert TOKEN not in everything
    assert SECRET_MARKER not in everything
    for secret in secrets:
        assert secret not in everything
    for state in (m for m in run.messages if m["type"] == "STATE"):
        assert TOKEN not in json.dumps(state)


def test_no_secret_in_exception_messages() -> None:
    with (
        make_sandbox(syncs=5, faults=Faults(revoked=True)) as sb,
        pytest.raises(TapSequinError) as caught,
    ):
        run_in_process(config_for(sb))
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)


@pytest.mark.parametrize(
    "bad_key",
    [f"{TOKEN} extra", 12345, [TOKEN]],
    ids=["token with a space", "a number", "a list"],
)
def test_config_errors_about_the_token_never_echo_it(bad_key: t.Any, tmp_path: Path) -> None:
    run = run_cli({"api_key": bad_key, "base_url": "http://127.0.0.1:9"}, tmp_path, env=DEBUG)

    assert run.status == 1
    assert "api_key" in run.last_stderr_line
    assert TOKEN not in run.stdout + run.stderr
    assert "12345" not in run.stdout + run.stderr


# Secret-named keys the API might put inside a health object, each with a value to look for.
HEALTH_SECRETS = {
    "refresh_token": "LEAK-refresh-9f2c",
    "client_key": "LEAK-client-key-41ab",
    "passcode": "LEAK-passcode-77d0",
    "auth": "Basic LEAK-basic-auth-5e1f",
}


def test_secrets_inside_health_are_redacted_in_every_stream(tmp_path: Path) -> None:
    with make_sandbox(syncs=3) as sb:
        sync_id = sb.sync_ids[1]
        credential_part = {"status": "ok", "notes": [], **HEALTH_SECRETS}
        sb.set_health(sync_id, {"status": "warn", "credential": credential_part})
        credentials = sb.credentials()
        credentials[0]["health"] = {"status": "ok", "notes": [], "access_key": "LEAK-ak-0c3d"}
        sb.set_credentials(credentials)
        run = run_cli(config_for(sb), tmp_path, env=DEBUG)

    assert run.status == 0, run.stderr
    everything = run.stdout + run.stderr
    for value in [*HEALTH_SECRETS.values(), "LEAK-ak-0c3d"]:
        assert value not in everything
    assert "LEAK" not in everything
    # The keys stay, so an analyst sees that a secret was there; the rest of health is kept.
    expected = {"status": "ok", "notes": [], **dict.fromkeys(HEALTH_SECRETS, REDACTED)}
    (row,) = [r for r in run.records if r["id"] == sync_id]
    assert row["health"] == {"status": "warn", "credential": expected}
    assert row["health_credential_status"] == "ok"
    (history,) = [r for r in run.records_of("sync_health_history") if r["sync_id"] == sync_id]
    assert history["health"] == row["health"]
    (credential,) = [r for r in run.records_of("credentials") if r["id"] == credentials[0]["id"]]
    assert credential["health"] == {"status": "ok", "notes": [], "access_key": REDACTED}


def test_urls_with_a_password_and_newly_known_names_are_redacted_through_the_cli(
    tmp_path: Path,
) -> None:
    # Found by a review: secrets under these names, or inside a URL, reached the warehouse.
    leaks = {
        "jwt": "LEAK-jwt-1a",
        "sentry_dsn": "https://LEAK-dsn-2b@o1.ingest.example/1",
        "database_url": "postgres://app:LEAK-pw-3c@db.example/prod",
        "endpoint": "mysql://app:LEAK-pw-4d@db.example/prod",
        "totp_seed": "LEAK-seed-5e",
        "cert_pem": "-----BEGIN PRIVATE KEY----- LEAK-pem-6f",
        "mirrors": ["https://u:LEAK-pw-7a@mirror.example", "https://plain.example"],
        # A second review's finds: a query-string password, a .NET connection string, a
        # token as the URL's user, a *_pass key, libpq's key=value form, a mnemonic.
        "db_uri": "postgresql://db.example/app?user=app&password=LEAK-q1",
        "conn": "Server=db;User Id=u;Password=LEAK-q2;",
        "remote": "https://ghp_LEAK-q3@github.com/o/r.git",
        "db_pass": "LEAK-q4",
        "pg": "host=h user=u password=LEAK-q5",
        "mnemonic": "LEAK-q6 abandon ability",
    }
    with make_sandbox(syncs=2) as sb:
        sync_id = sb.sync_ids[0]
        sync = sb.sync(sync_id)
        sync["credential"]["properties"].update(leaks)
        sb.add_sync({**sync, "id": "with-leaks"})
        run = run_cli(config_for(sb), tmp_path, env=DEBUG)

    assert run.status == 0, run.stderr
    assert "LEAK" not in run.stdout + run.stderr
    (row,) = [r for r in run.records if r["id"] == "with-leaks"]
    properties = row["credential"]["properties"]
    assert properties["mirrors"] == [REDACTED, "https://plain.example"]
    assert all(properties[key] == REDACTED for key in leaks if key != "mirrors")


def test_the_url_check_takes_linear_time_on_a_huge_value() -> None:
    # The first URL rule was a regex that took 87 s on 100,000 characters (a review).
    from tap_sequin.shaping.redaction import redact

    value = "see s3://bucket/key; blob " + "A" * 2_000_000 + "://x"
    assert redact({"note": value}) == {"note": value}


def test_a_secret_named_header_in_a_name_value_list_and_a_signature_are_redacted(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    sync_id = sandbox.sync_ids[0]
    secret = "sandbox-secret-h2"
    sandbox.update_sync(
        sync_id,
        **{
            "credential": {
                "id": "x",
                "properties": {
                    "signature": "sandbox-secret-sig",
                    "headers": [
                        {"name": "Authorization", "value": f"Bearer {secret}"},
                        {"name": "Accept", "value": "application/json"},
                    ],
                },
            }
        },
    )
    run = run_cli(config_for(sandbox, sync_ids=[sync_id]), tmp_path)

    assert run.status == 0, run.last_stderr_line
    assert "sandbox-secret" not in run.stdout + run.stderr
    (row,) = run.records
    headers = row["credential"]["properties"]["headers"]
    assert headers == [
        {"name": "Authorization", "value": "[REDACTED]"},
        {"name": "Accept", "value": "application/json"},
    ]
