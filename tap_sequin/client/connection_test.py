"""``tap-sequin --test``: a check, not a run. One request (two for a self-hosted server:
its unauthenticated ``GET /health`` first), one attempt each, a short timeout.

It answers within seconds and names the cause when the request fails: a DNS failure, a
refused connection, TLS, a proxy, a refused token (401/403), or a 404 that says the path
itself is wrong (``base_url``). Retries would only hide the cause, so there are none.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import typing as t

from tap_sequin.client.api import Listing, NotFound, SequinClient
from tap_sequin.client.judging import api_mismatch
from tap_sequin.errors import AuthError, RetriesExhausted, TapSequinError
from tap_sequin.settings.parsing import Settings

# Seconds the check waits for its one answer at most (less if request_timeout is less):
# with the tap's own start, the verdict comes within the 10 s the README promises.
CHECK_TIMEOUT = 8.0


def run_connection_check(settings: Settings, logger: logging.Logger) -> int:
    """Make one request with the configured token and base URL; print the verdict.

    With ``sync_ids`` the request reads the first id, else it lists the syncs. Returns the
    exit status: 0 when Sequin accepted the token (and the sync was found), 1 otherwise.
    """
    limit = min(settings.request_timeout, CHECK_TIMEOUT)
    check = dataclasses.replace(settings, max_retries=0, request_timeout=limit)
    client = SequinClient(check, logger, threading.Event())
    if settings.self_hosted:
        try:
            return _check_self_hosted(settings, limit, client)
        finally:
            client.close()
    try:
        if settings.sync_ids:
            first = settings.sync_ids[0]
            found = client.get_sync(first)
            if isinstance(found, NotFound):
                return _not_found(settings, first, found)
            detail = f"sync {first} is readable"
        else:
            count = len(client.list_syncs())
            detail = f"{count} sync is visible" if count == 1 else f"{count} syncs are visible"
    except RetriesExhausted as exc:
        print(
            f"FAILED: {settings.base_url} - {exc.target}: {_explained(settings, limit, exc.last)}"
        )
        return 1
    except TapSequinError as exc:
        print(f"FAILED: {settings.base_url} - {exc}")
        return 1
    finally:
        client.close()
    print(f"OK: {settings.base_url} accepted the token; {detail}")
    return 0


def _check_self_hosted(settings: Settings, limit: float, client: SequinClient) -> int:
    """The self-hosted server's ``GET /health`` (no token) tells "unreachable" from "up";
    then ``GET /api/sinks`` with the token tells "token refused" from "OK, N sinks"."""
    base = settings.base_url
    try:
        status, body = client.server_health()
    except RetriesExhausted as exc:
        print(f"FAILED: {base} - server unreachable: {_explained(settings, limit, exc.last)}")
        return 1
    except TapSequinError as exc:
        print(f"FAILED: {base} - server unreachable: {exc}")
        return 1
    ok = isinstance(body, dict) and body.get("ok") is True
    summary = body.get("summary") if isinstance(body, dict) else None
    mismatch = api_mismatch(
        settings.api, base, NotFound("/health", summary if isinstance(summary, str) else None)
    )
    if status == 404 and mismatch is not None:
        print(f"FAILED: {base} - HTTP 404 on GET /health; api is '{settings.api}', but {mismatch}")
        return 1
    if not ok and (status == 404 or not isinstance(body, dict) or "ok" not in body):
        print(
            f"FAILED: {base} - HTTP {status} on GET /health without the answer of a "
            'self-hosted Sequin server ({"ok": ...}); check base_url (the server\'s '
            "address, such as http://localhost:7376) and api"
        )
        return 1
    rev = body.get("rev") if isinstance(body, dict) else None
    up = f"the server is up (GET /health: ok{f', rev {rev}' if isinstance(rev, str) else ''})"
    if not ok:
        error = body.get("error") if isinstance(body, dict) else None
        said = f' "{" ".join(str(error).split())[:200]}"' if error else ""
        up = f"the server answers but reports itself unhealthy (GET /health: HTTP {status}{said})"
    try:
        count = len(
            t.cast("Listing", client.list_objects("/api/sinks", what="listing", stream="sinks"))
        )
    except AuthError as exc:
        print(f"FAILED: {base} - {up}, but it refused the token: {exc}")
        return 1
    except RetriesExhausted as exc:
        print(f"FAILED: {base} - {up}, but {exc.target}: {_explained(settings, limit, exc.last)}")
        return 1
    except TapSequinError as exc:
        print(f"FAILED: {base} - {up}, but {exc}")
        return 1
    visible = f"{count} sink is visible" if count == 1 else f"{count} sinks are visible"
    print(f"OK: {base} accepted the token; {visible}; {up}")
    return 0


def _explained(settings: Settings, limit: float, problem: str) -> str:
    """``problem`` with the limit the check itself set named as such, and the likely cause."""
    timed_out = problem.startswith("no complete answer within")
    if timed_out:
        whose = (
            f"request_timeout ({limit:g}s)"
            if settings.request_timeout <= CHECK_TIMEOUT
            else f"{limit:g}s, --test's own limit"
        )
        problem = f"no complete answer within {whose}"
    if settings.base_url.startswith("https://") and (timed_out or "TLS" in problem):
        problem += (
            "; if that port serves plain HTTP (a local sandbox), base_url should start with http://"
        )
    return problem


def _not_found(settings: Settings, sync_id: str, found: NotFound) -> int:
    said = f' "{found.summary}"' if found.summary else ""
    if found.route_level:
        print(
            f"FAILED: {settings.base_url} - HTTP 404{said} on GET {found.path}: the server "
            "knows no such path; check base_url (the API root, such as "
            "https://api.sequin.io)"
        )
    else:
        print(
            f"FAILED: {settings.base_url} accepted the token, but sync {sync_id} is not "
            f"found (HTTP 404{said} on GET {found.path}); check sync_ids"
        )
    return 1
