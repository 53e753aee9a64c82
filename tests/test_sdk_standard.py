"""The Singer SDK's own standard tap tests, against the sandbox API on loopback.

The suites run for each of the three streams: syncs, sync_health_history, credentials.
"""

from __future__ import annotations

import typing as t

import pytest
from singer_sdk.testing import SuiteConfig, get_tap_test_class

from tap_sequin.sandbox import Sandbox
from tap_sequin.tap import TapSequin

from .conftest import TOKEN

# The standard suite is built from a config known at import time, so this module
# runs one sandbox of its own for all of its tests.
_SANDBOX = Sandbox(syncs=25, seed=3, token=TOKEN).start()


@pytest.fixture(scope="module", autouse=True)
def _stop_sandbox() -> t.Iterator[None]:
    yield
    _SANDBOX.stop()


TestTapSequinEverySync = get_tap_test_class(
    tap_class=TapSequin,
    config={"api_key": TOKEN, "base_url": _SANDBOX.url},
    suite_config=SuiteConfig(max_records_limit=None),
)

TestTapSequinConfiguredIds = get_tap_test_class(
    tap_class=TapSequin,
    config={"api_key": TOKEN, "base_url": _SANDBOX.url, "sync_ids": _SANDBOX.sync_ids[:10]},
)
