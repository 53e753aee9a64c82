"""``tap-sequin --test``: one real request, and a plain answer on whether it worked."""

from __future__ import annotations

import logging
import threading

from tap_sequin.client import NotFound, SequinClient
from tap_sequin.errors import TapSequinError
from tap_sequin.settings import Settings


def run_connection_check(settings: Settings, logger: logging.Logger) -> int:
    """Make one request with the configured token and base URL; print the verdict.

    Returns the exit status: 0 when Sequin accepted the token, 1 otherwise.
    """
    client = SequinClient(settings, logger, threading.Event())
    try:
        if settings.sync_ids:
            first = settings.sync_ids[0]
            found = client.get_sync(first)
            detail = (
                f"sync {first} is not found (check sync_ids)"
                if isinstance(found, NotFound)
                else f"sync {first} is readable"
            )
        else:
            detail = f"{len(client.list_syncs())} syncs are visible"
    except TapSequinError as exc:
        print(f"FAILED: {settings.base_url} - {exc}")
        return 1
    finally:
        client.close()
    print(f"OK: {settings.base_url} accepted the token; {detail}")
    return 0
