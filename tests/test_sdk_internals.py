"""The SDK behaviours ``tap_sequin.sdk_internals`` relies on, one test each.

When the SDK changes one of them, the test that fails names what to look at; the
behaviour users get is tested at the CLI elsewhere.
"""

from __future__ import annotations

import inspect
import logging

import pytest
from singer_sdk.mapper import CustomStreamMap
from singer_sdk.streams import Stream

from tap_sequin import sdk_internals
from tap_sequin.errors import ConfigError
from tap_sequin.sandbox import Sandbox
from tap_sequin.settings.environment import read_environment
from tap_sequin.tap import TapSequin

from .conftest import catalog_selecting, config_for, run_in_process


def test_parse_environment_config_reads_arrays_from_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAP_SEQUIN_SYNC_IDS", '["a", "b"]')
    monkeypatch.setenv("TAP_SEQUIN_API_KEY", "k")
    monkeypatch.chdir("/")
    schema = TapSequin._full_config_schema()

    assert read_environment(schema) == {"api_key": "k", "sync_ids": ["a", "b"]}


def test_every_record_passes_generate_record_messages(sandbox: Sandbox) -> None:
    # The count of RECORDs per stream name comes from the override of this method; the SDK
    # must still send every record through it (one call per record, messages yielded).
    assert "record" in inspect.signature(Stream._generate_record_messages).parameters
    config = config_for(sandbox, stream_maps={"syncs": {"__alias__": "sequin_syncs"}})
    tap = TapSequin(config=config, catalog=catalog_selecting(config, "syncs"))
    tap.run()

    assert tap.streams["syncs"].delivered == {"sequin_syncs": 12}  # type: ignore[attr-defined]


def test_a_deselected_property_still_goes_through_the_sdks_own_record_path(
    sandbox: Sandbox,
) -> None:
    config = config_for(sandbox)
    catalog = catalog_selecting(config, "syncs")
    (syncs,) = [e for e in catalog["streams"] if e["tap_stream_id"] == "syncs"]
    for entry in syncs["metadata"]:
        if entry["breadcrumb"] == ["properties", "metadata"]:
            entry["metadata"]["selected"] = False

    run = run_in_process(config, catalog)

    assert len(run.records) == 12
    assert all("metadata" not in r for r in run.records)


def test_stream_version_is_the_version_records_and_activate_version_carry(
    sandbox: Sandbox,
) -> None:
    config = config_for(sandbox)
    run = run_in_process(config, catalog_selecting(config, "syncs"))

    (activate,) = run.of_stream("ACTIVATE_VERSION", "syncs")
    versions = {m["version"] for m in run.of_stream("RECORD", "syncs")}
    assert versions == {activate["version"]}
    # ...and it comes after the last RECORD, never before the first.
    kinds = [m["type"] for m in run.messages if m.get("stream") == "syncs"]
    assert kinds.index("ACTIVATE_VERSION") > max(i for i, k in enumerate(kinds) if k == "RECORD")


def test_custom_stream_maps_evaluate_through_eval() -> None:
    assert "_eval" in vars(CustomStreamMap)
    names = set(inspect.signature(CustomStreamMap._eval).parameters)
    assert {"expr", "expr_parsed", "record", "property_name"} <= names


def test_a_failing_expression_names_stream_property_and_sync(sandbox: Sandbox) -> None:
    config = config_for(sandbox, stream_maps={"syncs": {"bad": "int(name)"}})
    with pytest.raises(ConfigError) as caught:
        run_in_process(config, catalog_selecting(config, "syncs"))

    assert "syncs.bad: 'int(name)' failed on sync" in str(caught.value)


def test_the_sdks_unhandled_error_line_is_the_one_filtered() -> None:
    assert sdk_internals.UNHANDLED_ERROR_LINE in inspect.getsource(Stream.sync)


def test_the_filter_drops_that_line_for_tap_errors_only() -> None:
    logger = logging.getLogger("tap-sequin.test-internals")
    sdk_internals.quiet_handled_failures(logging.LoggerAdapter(logger, {}))
    (handled,) = logger.filters

    def record_during(exc: BaseException) -> bool:
        try:
            raise exc
        except BaseException:
            record = logger.makeRecord(
                logger.name,
                logging.ERROR,
                __file__,
                1,
                sdk_internals.UNHANDLED_ERROR_LINE,
                (),
                None,
            )
            return handled.filter(record)

    assert record_during(ConfigError("sync_ids", "bad")) is False
    assert record_during(ValueError("bug")) is True


def test_a_stream_state_marked_changed_is_written_once_more() -> None:
    # The sinks stream keeps its listed ids in STATE without a bookmark moving; the SDK
    # writes a stream's STATE only when its state manager says it is not flushed.
    assert "is_flushed" in inspect.getsource(Stream._write_state_message)
    tap = TapSequin(config={"api_key": "k"}, validate_config=False)
    stream = tap.streams["syncs"]
    stream.state_manager.is_flushed = True
    sdk_internals.mark_state_changed(stream)
    assert stream.state_manager.is_flushed is False
