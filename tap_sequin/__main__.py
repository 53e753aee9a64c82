"""Command line entry point: ``tap-sequin`` / ``python -m tap_sequin``.

Wraps the SDK's command so that every failure ends with one line on stderr that
says why, and an exit status an orchestrator can trust: 0 only for a complete
run, 1 for a failure, 128 + N when stopped by signal N.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import sys
import traceback
import typing as t

from tap_sequin.errors import TapSequinError


def _fail(message: str, status: int) -> None:
    with contextlib.suppress(BrokenPipeError, ValueError, OSError):
        sys.stdout.flush()
    print(f"tap-sequin: error: {message}", file=sys.stderr)
    sys.exit(status)


FILE_OPTIONS = ("--config", "--catalog", "--state")


def _file_arguments(argv: list[str]) -> list[tuple[str, str]]:
    """``(option, path)`` for every file given to --config, --catalog or --state."""
    found = []
    for i, arg in enumerate(argv):
        option, sep, value = arg.partition("=")
        if option in FILE_OPTIONS:
            path = value if sep else (argv[i + 1] if i + 1 < len(argv) else "")
            if path and not (option == "--config" and path == "ENV"):
                found.append((option, path))
    return found


def _check_files(argv: list[str]) -> None:
    # The SDK would end with a bare FileNotFoundError or JSONDecodeError, naming no file.
    for option, path in _file_arguments(argv):
        try:
            with open(path, encoding="utf-8") as file:
                content = json.load(file)
        except OSError as exc:
            _fail(f"{option} {path}: cannot be read ({exc.strerror or exc})", 1)
        except ValueError as exc:
            _fail(f"{option} {path}: is not JSON ({exc})", 1)
        problem = _shape_problem(option, content)
        if problem:
            _fail(f"{option} {path}: {problem}", 1)


_JSON_NAMES = {dict: "an object", list: "an array", str: "text", bool: "a boolean"}


def _json_name(value: object) -> str:
    if value is None:
        return "null"
    return _JSON_NAMES.get(type(value), "a number")


def _shape_problem(option: str, content: object) -> str | None:
    """What is wrong with the shape of a --config, --catalog or --state file, if anything.

    Valid JSON of the wrong shape would otherwise end in an unexplained TypeError
    somewhere inside the SDK.
    """
    if not isinstance(content, dict):
        return f"must be a JSON object, got {_json_name(content)}"
    if option == "--catalog":
        streams = content.get("streams")
        if not isinstance(streams, list):
            got = _json_name(streams)
            return f'must have a "streams" array (the output of --discover), got {got}'
        for position, stream in enumerate(streams):
            where = f"streams[{position}]"
            if not isinstance(stream, dict):
                return f"{where} must be an object, got {_json_name(stream)}"
            if not isinstance(stream.get("tap_stream_id"), str):
                return f'{where} has no "tap_stream_id" text'
            for key, kind in (("schema", dict), ("metadata", list)):
                if key in stream and not isinstance(stream[key], kind):
                    got = _json_name(stream[key])
                    return f'{where} "{key}" must be {_JSON_NAMES[kind]}, got {got}'
            metadata = stream.get("metadata") or []
            if any(not isinstance(entry, dict) for entry in metadata):
                return f'{where} "metadata" must hold objects only'
    if option == "--state":
        bookmarks = content.get("bookmarks", {})
        if not isinstance(bookmarks, dict):
            return f'"bookmarks" must be an object, got {_json_name(bookmarks)}'
        for stream, bookmark in bookmarks.items():
            if not isinstance(bookmark, dict):
                return f'"bookmarks"."{stream}" must be an object, got {_json_name(bookmark)}'
            partitions = bookmark.get("partitions", [])
            if not isinstance(partitions, list) or not all(isinstance(p, dict) for p in partitions):
                return f'"bookmarks"."{stream}"."partitions" must be a list of objects'
    return None


@contextlib.contextmanager
def _outside_the_collector() -> t.Iterator[None]:
    """Import with the cyclic garbage collector paused, then freeze what was imported.

    The SDK's imports (requests, jsonschema, fsspec, joblib and more) leave about 50,000
    objects that live as long as the process. CPython's collector walks them while the
    imports run, in every later full collection, and once more at exit; ``gc.freeze()``
    moves them to the permanent generation, where no collection looks (the start-up it
    saves is in benchmarks/RESULTS.md). Collection stays on for everything the run creates.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def main() -> None:
    """Run the tap's CLI."""
    _check_files(sys.argv[1:])
    with _outside_the_collector():
        from singer_sdk.exceptions import ConfigValidationError, MappingError

        from tap_sequin.tap import TapSequin

    try:
        TapSequin.cli()
    except TapSequinError as exc:
        _fail(str(exc), exc.exit_code)
    except ConfigValidationError as exc:
        _fail(f"invalid config: {'; '.join(exc.errors) or exc}", 1)
    except MappingError as exc:
        # Raised by the SDK's mapper while records flow (a map that fails on a value).
        _fail(f"setting 'stream_maps': {exc}{_cause(exc)}", 1)
    except Exception as exc:  # the last line must still say why
        logging.getLogger("tap-sequin").debug("unexpected failure", exc_info=True)
        if _raised_in_stream_map(exc):
            _fail(f"setting 'stream_maps': an expression failed: {type(exc).__name__}: {exc}", 1)
        _fail(f"unexpected {type(exc).__name__}: {exc}", 1)


def _raised_in_stream_map(exc: BaseException) -> bool:
    # The SDK lets any exception of an expression (int("abc")) out of its mapper unwrapped.
    return any(
        frame.filename.replace("\\", "/").endswith("singer_sdk/mapper.py")
        for frame in traceback.extract_tb(exc.__traceback__)
    )


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__
    return f" ({type(cause).__name__}: {cause})" if cause is not None else ""


if __name__ == "__main__":
    main()
