"""Command line entry point: ``tap-sequin`` / ``python -m tap_sequin``.

Wraps the SDK's command so that every failure ends with one line on stderr that
says why, and an exit status an orchestrator can trust: 0 only for a complete
run, 1 for a failure, 128 + N when stopped by signal N.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import traceback

from singer_sdk.exceptions import ConfigValidationError, MappingError

from tap_sequin.errors import TapSequinError


def _fail(message: str, status: int) -> None:
    with contextlib.suppress(BrokenPipeError, ValueError, OSError):
        sys.stdout.flush()
    print(f"tap-sequin: error: {message}", file=sys.stderr)
    sys.exit(status)


def main() -> None:
    """Run the tap's CLI."""
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
