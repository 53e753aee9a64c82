"""Command line entry point: ``tap-sequin`` / ``python -m tap_sequin``.

Wraps the SDK's command so that every failure ends with one line on stderr that
says why, and an exit status an orchestrator can trust: 0 only for a complete
run, 1 for a failure, 128 + N when stopped by signal N.
"""

from __future__ import annotations

import contextlib
import sys

from singer_sdk.exceptions import ConfigValidationError

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


if __name__ == "__main__":
    main()
