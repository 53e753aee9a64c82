"""What reaches stdout: every character and number of a sync, in valid JSON lines.

The tap encodes messages with msgspec. A lone surrogate, which Python's ``json`` accepts
from the API but no UTF-8 can carry (nor PostgreSQL store), is replaced by U+FFFD first.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest

from tap_sequin.sandbox import generate_syncs

from .conftest import TOKEN, run_cli, run_in_process
from .rawhttp import Answer, RawServer, Request, json_response, response

BASE = generate_syncs(2, 5)
ODD = {
    **BASE[0],
    # Every character str.splitlines() takes for a line end, and more.
    "name": 'Zürich \u2028\u2029\x85\x0b\x0c\x1c\x1d\x1e\r 日本 \U0001f600 "q" back\\slash',
    "metadata": {
        "big": 2**70,
        "negative": -(2**65),
        "float": 0.1,
        "tiny": 5e-324,
        "nested": [{"deep": ["é", None, True, 1.5e300]}],
    },
}
SURROGATE = {**BASE[1], "name": "half a pair: \ud800!"}


def _listing(syncs: list[dict[str, t.Any]]) -> t.Callable[[Request], Answer]:
    return _body(json.dumps({"data": syncs}).encode())


def _body(body: bytes) -> t.Callable[[Request], Answer]:
    def serve(request: Request) -> Answer:
        if request.path.endswith("/v1/syncs"):
            return response(200, body), True
        return json_response(404, {"summary": "Not found"}), True

    return serve


def _config(server: RawServer) -> dict[str, t.Any]:
    return {"api_key": TOKEN, "base_url": server.url, "max_retries": 0}


def test_every_character_and_number_of_a_sync_reaches_stdout_exactly(tmp_path: Path) -> None:
    with RawServer(_listing([ODD, SURROGATE])) as server:
        run = run_cli(_config(server), tmp_path)

    assert run.status == 0, run.stderr[-2000:]
    # Each line is whole JSON, even to a reader that splits on every Unicode line end.
    lines = run.stdout.splitlines()
    assert all(isinstance(json.loads(line), dict) for line in lines)
    by_id = {r["id"]: r for r in run.records}
    assert by_id[ODD["id"]]["name"] == ODD["name"]
    assert by_id[ODD["id"]]["metadata"] == ODD["metadata"]
    assert by_id[SURROGATE["id"]]["name"] == "half a pair: \ufffd!"
    assert "lone surrogate" in run.stderr
    record = next(m for m in run.of_type("RECORD"))
    assert record["time_extracted"].endswith(("Z", "+00:00"))


def test_a_text_only_stdout_gets_the_same_lines() -> None:
    # Tools that swap sys.stdout for a text stream (no .buffer) still get every record.
    with RawServer(_listing([ODD, SURROGATE])) as server:
        run = run_in_process(_config(server))

    by_id = {r["id"]: r for r in run.records}
    assert by_id[ODD["id"]]["metadata"] == ODD["metadata"]
    assert by_id[SURROGATE["id"]]["name"] == "half a pair: \ufffd!"


@pytest.mark.parametrize(
    ("encoded", "served"),
    [
        # UTF-16 JSON (json.loads reads it) holds no "\\u0000" escape, only the character.
        (lambda text: text.encode("utf-16"), "a\x00b"),
        (lambda text: text.encode("utf-32"), "a\x00b"),
        # The three raw bytes of a surrogate: json.loads decodes bytes with surrogatepass.
        (lambda text: text.encode("utf-8", "surrogatepass"), "a\ud800b"),
    ],
    ids=["utf-16 NUL", "utf-32 NUL", "raw surrogate bytes"],
)
def test_unstorable_characters_are_replaced_however_the_body_carries_them(
    encoded: t.Callable[[str], bytes], served: str, tmp_path: Path
) -> None:
    text = json.dumps({"data": [{**BASE[0], "name": served}]}, ensure_ascii=False)
    with RawServer(_body(encoded(text))) as server:
        run = run_cli(_config(server), tmp_path)

    assert run.status == 0, run.stderr[-2000:]
    assert [r["name"] for r in run.records] == ["a\ufffdb"]
    assert f"sync {BASE[0]['id']}" in run.stderr or BASE[0]["id"] in run.stderr


def _with_nested_metadata(depth: int, others: list[dict[str, t.Any]]) -> bytes:
    """A listing whose first sync's metadata nests ``depth`` objects (written as text:
    Python's own json cannot write it)."""
    text = json.dumps({"data": [{**BASE[0], "metadata": "HERE"}, *others]})
    return text.replace('"HERE"', '{"d":' * depth + '"bottom"' + "}" * depth).encode()


def test_metadata_nested_too_deep_for_a_target_is_null_and_the_rest_loads(
    tmp_path: Path,
) -> None:
    # ~950 levels passed the tap but failed target-postgres, and with it the whole load.
    with RawServer(_body(_with_nested_metadata(960, [BASE[1]]))) as server:
        run = run_cli(_config(server), tmp_path)

    assert run.status == 0, run.stderr[-2000:]
    by_id = {r["id"]: r for r in run.records}
    assert by_id[BASE[0]["id"]]["metadata"] is None
    assert by_id[BASE[1]["id"]]["metadata"] == BASE[1]["metadata"]
    assert "nested deeper than 256 levels" in run.stderr


def test_json_nested_beyond_any_reader_is_one_clear_error(tmp_path: Path) -> None:
    # Python's reader stops near 1,000 levels before 3.13 and between 5,000 and 20,000 on it.
    with RawServer(_body(_with_nested_metadata(100_000, []))) as server:
        run = run_cli(_config(server), tmp_path)

    assert run.status == 1
    assert run.last_stderr_line.startswith("tap-sequin: error: listing (GET /v1/syncs)")
    assert "nested too deeply" in run.last_stderr_line
    assert "unexpected" not in run.stderr


def test_an_integer_beyond_pythons_digit_limit_loads_as_text(tmp_path: Path) -> None:
    digits = "9" * 5000
    text = json.dumps({"data": [{**BASE[0], "metadata": {"n": 0}}, BASE[1]]})
    body = text.replace('"n": 0', f'"n": {digits}').encode()
    with RawServer(_body(body)) as server:
        run = run_cli(_config(server), tmp_path)

    assert run.status == 0, run.stderr[-2000:]
    by_id = {r["id"]: r for r in run.records}
    assert by_id[BASE[0]["id"]]["metadata"] == {"n": digits}
    assert by_id[BASE[1]["id"]]["metadata"] == BASE[1]["metadata"]
    assert "more than 4,300 digits" in run.stderr


def test_thousands_of_unusable_listing_items_are_counted_not_each_warned(
    tmp_path: Path,
) -> None:
    broken = [{"name": f"no id {n}"} for n in range(2000)]
    with RawServer(_listing([BASE[0], *broken, BASE[1]])) as server:
        run = run_cli(_config(server), tmp_path)

    assert run.status == 0, run.stderr[-2000:]
    assert [r["id"] for r in run.records] == [BASE[0]["id"], BASE[1]["id"]]
    named = [line for line in run.stderr.splitlines() if "listing item " in line]
    assert len(named) == 10
    assert "2000 listing items in all were skipped" in run.stderr


def test_a_non_blocking_stdout_gets_every_line(tmp_path: Path) -> None:
    # Some parents hand the tap a pipe in non-blocking mode; a full pipe then answers EAGAIN.
    import fcntl
    import os
    import subprocess
    import sys
    import time

    syncs = generate_syncs(300, 7)
    with RawServer(_listing(syncs)) as server:
        (tmp_path / "config.json").write_text(json.dumps(_config(server)))
        read_end, write_end = os.pipe()
        flags = fcntl.fcntl(write_end, fcntl.F_GETFL)
        fcntl.fcntl(write_end, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        command = [sys.executable, "-m", "tap_sequin", "--config", str(tmp_path / "config.json")]
        with (tmp_path / "stderr").open("wb") as stderr:
            tap = subprocess.Popen(command, stdout=write_end, stderr=stderr)
        os.close(write_end)
        chunks = []
        while chunk := os.read(read_end, 8192):
            chunks.append(chunk)
            time.sleep(0.005)  # slower than the tap writes: the pipe fills
        os.close(read_end)
        status = tap.wait(timeout=60)

    assert status == 0, (tmp_path / "stderr").read_text()[-2000:]
    lines = b"".join(chunks).decode().split("\n")
    assert lines[-1] == ""
    messages = [json.loads(line) for line in lines[:-1]]
    assert [
        m["record"]["id"] for m in messages if m.get("stream") == "syncs" and m["type"] == "RECORD"
    ] == [s["id"] for s in syncs]
