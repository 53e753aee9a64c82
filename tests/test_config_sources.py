"""Settings reach the tap the same way from a config file and from ``--config ENV``.

Each test runs the real ``tap-sequin`` command against the sandbox: numbers given as
text (fractions included), variables that are set but not read, misspelt variable
names, values of the wrong type, and a ``base_url`` that already ends in ``/v1``.
"""

from __future__ import annotations

import json
import os
import typing as t
from pathlib import Path

import pytest

from tap_sequin.sandbox import Sandbox

from .conftest import TOKEN, Run, config_for, run_cli

NUMBERS_AS_TEXT = {
    "request_timeout": "2.5",
    "max_retries": "3",
    "retry_backoff_seconds": "0.01",
    "max_concurrent_requests": "2",
    "max_requests_per_second": "500.5",
}


def env_only(**variables: str) -> dict[str, str]:
    """This process' environment without any TAP_SEQUIN_* variable, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_SEQUIN_")}
    return {**env, **variables}


def run_env(tmp_path: Path, variables: dict[str, str], *args: str) -> Run:
    """``tap-sequin --config ENV`` with exactly these TAP_SEQUIN_* variables."""
    return run_cli(None, tmp_path, "--config", "ENV", *args, env=env_only(**variables))


def sandbox_env(sandbox: Sandbox, **extra: str) -> dict[str, str]:
    return {"TAP_SEQUIN_API_KEY": TOKEN, "TAP_SEQUIN_BASE_URL": sandbox.url, **extra}


def test_numbers_as_text_in_a_config_file(sandbox: Sandbox, tmp_path: Path) -> None:
    run = run_cli({**config_for(sandbox), **NUMBERS_AS_TEXT}, tmp_path, env=env_only())
    assert run.status == 0, run.stderr[-2000:]
    assert run.ids == sandbox.sync_ids


@pytest.mark.parametrize("form", ["text", "empty text"])
def test_sync_ids_as_json_text_in_a_config_file(
    form: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    # What Meltano writes for a `kind: string` setting: the variable's text, as given.
    wanted = sandbox.sync_ids[1::-1]
    text = json.dumps(wanted) if form == "text" else "  "
    run = run_cli(config_for(sandbox, sync_ids=text), tmp_path, env=env_only())
    assert run.status == 0, run.stderr[-2000:]
    assert run.ids == (wanted if form == "text" else sandbox.sync_ids)


def test_sync_ids_text_that_is_not_json_is_one_line(sandbox: Sandbox, tmp_path: Path) -> None:
    run = run_cli(config_for(sandbox, sync_ids="abc"), tmp_path, env=env_only())
    assert run.status == 1
    assert run.last_stderr_line.startswith("tap-sequin: error: setting 'sync_ids': ")
    assert "JSON list of sync ids" in run.last_stderr_line
    assert sandbox.requests == []


def test_numbers_as_text_from_the_environment(sandbox: Sandbox, tmp_path: Path) -> None:
    variables = {f"TAP_SEQUIN_{k.upper()}": v for k, v in NUMBERS_AS_TEXT.items()}
    variables["TAP_SEQUIN_FLATTENING_MAX_DEPTH"] = "1"
    run = run_env(tmp_path, sandbox_env(sandbox, **variables))
    assert run.status == 0, run.stderr[-2000:]
    assert run.ids == sandbox.sync_ids


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TAP_SEQUIN_MAX_RETRIES", "3.5"),
        ("TAP_SEQUIN_MAX_RETRIES", "three"),
        ("TAP_SEQUIN_REQUEST_TIMEOUT", "10s"),
        ("TAP_SEQUIN_FLATTENING_MAX_DEPTH", "deep"),
    ],
)
def test_bad_number_from_the_environment_is_one_line(
    variable: str, value: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    run = run_env(tmp_path, sandbox_env(sandbox, **{variable: value}))
    setting = variable.removeprefix("TAP_SEQUIN_").lower()
    assert run.status == 1
    assert run.last_stderr_line.startswith(f"tap-sequin: error: setting '{setting}'")
    assert "Traceback" not in run.stderr
    assert sandbox.requests == []


def test_variable_set_but_not_read_is_pointed_out(sandbox: Sandbox, tmp_path: Path) -> None:
    # The config file lacks api_key; the variable holds it, but without --config ENV.
    config = {k: v for k, v in config_for(sandbox).items() if k != "api_key"}
    run = run_cli(config, tmp_path, env=env_only(TAP_SEQUIN_API_KEY=TOKEN))
    assert run.status == 1
    assert run.last_stderr_line.startswith("tap-sequin: error: setting 'api_key':")
    assert "TAP_SEQUIN_API_KEY is set but not read" in run.last_stderr_line
    assert "--config ENV" in run.last_stderr_line
    assert TOKEN not in run.stderr


def test_unread_variable_of_an_optional_setting_is_a_warning(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    run = run_cli(config_for(sandbox), tmp_path, env=env_only(TAP_SEQUIN_SYNC_IDS='["x"]'))
    assert run.status == 0
    assert "TAP_SEQUIN_SYNC_IDS is set but not read" in run.stderr
    assert run.ids == sandbox.sync_ids


def test_misspelt_variable_gets_the_closest_setting(sandbox: Sandbox, tmp_path: Path) -> None:
    chosen = sandbox.sync_ids[:2]
    run = run_env(
        tmp_path,
        sandbox_env(
            sandbox,
            TAP_SEQUIN_SYNC_ID=f'["{chosen[0]}"]',
            TAP_SEQUIN_SYNC_IDS=f'["{chosen[0]}", "{chosen[1]}"]',
            # Meltano's own extras are not settings and are left alone, and so is the
            # SDK's log level variable.
            TAP_SEQUIN__SELECT='["syncs.*"]',
            TAP_SEQUIN_LOGLEVEL="INFO",
        ),
    )
    assert run.status == 0, run.stderr[-2000:]
    warnings = [line for line in run.stderr.splitlines() if "is not a setting" in line]
    assert len(warnings) == 1, warnings
    assert "TAP_SEQUIN_SYNC_ID is set" in warnings[0]
    assert "did you mean TAP_SEQUIN_SYNC_IDS (setting 'sync_ids')" in warnings[0]
    assert run.ids == chosen


@pytest.mark.parametrize(
    ("override", "setting"),
    [
        ({"stream_maps": '{"syncs": {"metadata": null}}'}, "stream_maps"),
        ({"flattening_enabled": "maybe"}, "flattening_enabled"),
        ({"user_agent": 42}, "user_agent"),
        ({"batch_config": {"encoding": {"format": "csv"}}}, "batch_config.encoding.format"),
    ],
)
def test_wrong_type_ends_with_one_error_line_naming_the_setting(
    override: dict[str, t.Any], setting: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    run = run_cli({**config_for(sandbox), **override}, tmp_path, env=env_only())
    assert run.status == 1
    assert run.last_stderr_line.startswith(f"tap-sequin: error: setting '{setting}'"), run.stderr
    assert "Config validation failed" not in run.stderr
    assert sandbox.requests == []


def test_base_url_ending_in_v1_is_corrected_with_a_line(sandbox: Sandbox, tmp_path: Path) -> None:
    chosen = sandbox.sync_ids[:3]
    config = config_for(sandbox, base_url=f"{sandbox.url}/v1/", sync_ids=chosen)
    run = run_cli(config, tmp_path, env=env_only())
    assert run.status == 0, run.stderr[-2000:]
    assert run.ids == chosen
    # Every request went to the corrected root: /v1/..., never /v1/v1/...
    paths = sorted(r.path for r in sandbox.requests)
    assert [p for p in paths if p.startswith("/v1/syncs")] == sorted(
        f"/v1/syncs/{i}" for i in chosen
    )
    assert all(not p.startswith("/v1/v1") for p in paths), paths
    line = next(line for line in run.stderr.splitlines() if "base_url" in line)
    assert "ends in /v1" in line
    assert f"using '{sandbox.url}'" in line


def test_help_describes_test_as_it_works_here(tmp_path: Path) -> None:
    run = run_cli(None, tmp_path, "--help")
    help_text = " ".join(run.stdout.split())
    assert "sync a single record" not in help_text
    # FULL_TABLE only: no "bookmarks file for incremental replication".
    assert "incremental" not in help_text
    assert "every stream is FULL_TABLE" in help_text
    assert "Check the connection and stop: one request" in help_text
    assert "--config ENV" in help_text


@pytest.mark.parametrize(
    ("option", "content", "expected"),
    [
        ("--config", None, "cannot be read (No such file or directory)"),
        ("--config", "{not json", "is not JSON"),
        ("--catalog", "[1,", "is not JSON"),
        ("--state", "", "is not JSON"),
        # Valid JSON of the wrong shape.
        ("--config", "[1, 2]", "must be a JSON object, got an array"),
        ("--config", '"x"', "must be a JSON object, got text"),
        ("--catalog", "[]", "must be a JSON object, got an array"),
        ("--catalog", "{}", 'must have a "streams" array'),
        ("--catalog", '{"streams": [5]}', "streams[0] must be an object, got a number"),
        ("--catalog", '{"streams": [{"stream": "syncs"}]}', 'streams[0] has no "tap_stream_id"'),
        (
            "--catalog",
            '{"streams": [{"tap_stream_id": "syncs", "metadata": {}}]}',
            'streams[0] "metadata" must be an array',
        ),
        ("--state", "5", "must be a JSON object, got a number"),
        ("--state", '{"bookmarks": 5}', '"bookmarks" must be an object, got a number'),
        (
            "--state",
            '{"bookmarks": {"syncs": 5}}',
            '"bookmarks"."syncs" must be an object, got a number',
        ),
        (
            "--state",
            '{"bookmarks": {"syncs": {"partitions": "x"}}}',
            '"bookmarks"."syncs"."partitions" must be a list of objects',
        ),
    ],
)
def test_unreadable_file_is_one_line_naming_the_option_and_file(
    option: str, content: str | None, expected: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    path = tmp_path / "given.json"
    if content is not None:
        path.write_text(content)
    config = None if option == "--config" else config_for(sandbox)
    run = run_cli(config, tmp_path, option, str(path), env=env_only())
    assert run.status == 1
    assert run.last_stderr_line.startswith(f"tap-sequin: error: {option} {path}: {expected}")
    assert "Traceback" not in run.stderr
    assert sandbox.requests == []


def test_empty_number_variable_means_unset(sandbox: Sandbox, tmp_path: Path) -> None:
    # `TAP_SEQUIN_MAX_REQUESTS_PER_SECOND=` left empty in a .env file.
    run = run_env(
        tmp_path,
        sandbox_env(sandbox, TAP_SEQUIN_MAX_REQUESTS_PER_SECOND="", TAP_SEQUIN_REQUEST_TIMEOUT=" "),
    )
    assert run.status == 0, run.stderr[-2000:]
    assert run.ids == sandbox.sync_ids


def test_dotenv_of_the_working_directory_is_read_and_the_environment_wins(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    work = tmp_path / "project"
    work.mkdir()
    first, second = sandbox.sync_ids[:2]
    (work / ".env").write_text(
        f"TAP_SEQUIN_API_KEY={TOKEN}\n"
        f"TAP_SEQUIN_BASE_URL={sandbox.url}\n"
        f'TAP_SEQUIN_SYNC_IDS=\'["{first}", "{second}"]\'\n'
    )
    only_second = env_only(TAP_SEQUIN_SYNC_IDS=f'["{second}"]')
    run = run_cli(None, tmp_path, "--config", "ENV", env=only_second, cwd=work)
    assert run.status == 0, run.stderr[-2000:]
    assert run.ids == [second]
    # Not from a folder above the working directory (the README says "in the working
    # directory").
    nested = work / "sub"
    nested.mkdir()
    run = run_cli(None, tmp_path, "--config", "ENV", env=env_only(), cwd=nested)
    assert run.status == 1
    assert "setting 'api_key'" in run.last_stderr_line


def test_sync_ids_variable_that_is_not_json_is_refused(sandbox: Sandbox, tmp_path: Path) -> None:
    # The SDK would have taken "abc" as the one id "abc".
    run = run_env(tmp_path, sandbox_env(sandbox, TAP_SEQUIN_SYNC_IDS="abc"))
    assert run.status == 1
    assert run.last_stderr_line.startswith(
        "tap-sequin: error: setting 'sync_ids': TAP_SEQUIN_SYNC_IDS is not JSON; write it as"
    )
    assert sandbox.requests == []


def test_empty_list_variable_means_unset(sandbox: Sandbox, tmp_path: Path) -> None:
    run = run_env(tmp_path, sandbox_env(sandbox, TAP_SEQUIN_SYNC_IDS=""))
    assert run.status == 0, run.stderr[-2000:]
    assert run.ids == sandbox.sync_ids


def test_api_token_in_a_config_file_is_pointed_at_api_key(sandbox: Sandbox, tmp_path: Path) -> None:
    config = {k: v for k, v in config_for(sandbox).items() if k != "api_key"}
    run = run_cli({**config, "api_token": TOKEN}, tmp_path, env=env_only())
    assert run.status == 1
    assert run.last_stderr_line == (
        "tap-sequin: error: setting 'api_token': is not a setting of tap-sequin; "
        "did you mean 'api_key'?"
    )
    assert TOKEN not in run.stderr
    assert sandbox.requests == []


@pytest.mark.parametrize("source", ["file", "ENV", "none", "none --test", "meltano"])
def test_a_missing_api_key_says_where_this_run_reads_it(
    source: str, sandbox: Sandbox, tmp_path: Path
) -> None:
    file_config = {"base_url": sandbox.url}
    variables = {"MELTANO_EXTRACTOR_NAME": "tap-sequin"} if source == "meltano" else {}
    if source == "ENV":
        run = run_env(tmp_path, {"TAP_SEQUIN_BASE_URL": sandbox.url})
    elif source.startswith("none"):
        run = run_cli(None, tmp_path, *source.split()[1:], env=env_only())
    else:
        run = run_cli(file_config, tmp_path, env=env_only(**variables))
    line = run.last_stderr_line
    assert run.status == 1
    assert line.startswith("tap-sequin: error: setting 'api_key': is required: ")
    if source == "file":
        assert 'add "api_key"' in line
        assert "to the --config file" in line
    elif source == "ENV":
        assert "set TAP_SEQUIN_API_KEY (read with --config ENV)" in line
    elif source == "meltano":
        assert "meltano config set tap-sequin api_key" in line
    else:
        # A variable alone is not read: the hint names --config ENV with it.
        assert "set TAP_SEQUIN_API_KEY and run tap-sequin --config ENV" in line
        assert "--config config.json" in line
    assert sandbox.requests == []
