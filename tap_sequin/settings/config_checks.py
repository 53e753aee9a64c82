"""Checks of the whole config (the SDK's own settings included), each a one-line error.

``settings`` checks what the tap itself reads; these cover the rest: names that are no
setting, values the SDK's JSON schema refuses, and ``TAP_SEQUIN_*`` variables that were
set for nothing. The SDK would log each schema problem and end with a bare "Config
validation failed", quoting values (a mistyped token is still a token).
"""

from __future__ import annotations

import contextlib
import difflib
import importlib
import importlib.util
import os
import typing as t

from singer_sdk.plugin_base import JSONSchemaValidator

from tap_sequin.errors import ConfigError
from tap_sequin.settings import environment
from tap_sequin.settings.parsing import Settings, normalised_config, parse_settings


def checked_config(
    config: dict[str, t.Any],
    schema: t.Mapping[str, t.Any],
    *,
    strict: bool,
    reads_environment: bool,
    from_files: bool = True,
    warn: t.Callable[[str], None],
) -> tuple[dict[str, t.Any], Settings | None]:
    """``config`` checked against ``schema`` and normalised (numbers given as text become
    numbers), with the ``Settings`` it gives; the first problem raises ``ConfigError``.

    ``from_files``: the config came from ``--config`` files (or the caller), which says
    where a missing setting should go. Not ``strict`` (``--discover``): nothing is
    refused, quietly, and no ``Settings`` made.
    """
    if not strict:
        with contextlib.suppress(ConfigError):
            config = normalised_config(config, parse_settings(config), schema)
        return config, None
    # Before the settings' own checks: "api_token" is a typo of api_key, not its absence.
    refuse_unknown_settings(schema, config)
    try:
        settings = parse_settings(config)
    except ConfigError as exc:
        unread = environment.unread_variables([exc.setting], config)
        if unread and not reads_environment:
            raise ConfigError(exc.setting, environment.unread_hint(unread)) from None
        if exc.setting == "api_key" and config.get("api_key") is None:
            raise ConfigError(
                "api_key",
                missing_api_key(reads_environment=reads_environment, from_files=from_files),
            ) from None
        raise
    for line in environment_warnings(schema, config, reads_environment=reads_environment):
        warn(line)
    config = normalised_config(config, settings, schema)
    for line in settings.corrections:
        warn(line)
    refuse_schema_errors(schema, config)
    refuse_bad_batch_config(config)
    refuse_bad_flattening(config)
    return config, settings


def missing_api_key(*, reads_environment: bool, from_files: bool) -> str:
    """Where the token should go, for the way this run reads its settings."""
    if os.environ.get("MELTANO_EXTRACTOR_NAME"):
        # Meltano sets this in its plugins' environment; it writes the config file itself.
        return (
            "is required: set it with `meltano config set tap-sequin api_key`, or "
            "TAP_SEQUIN_API_KEY in the environment or .env"
        )
    if reads_environment:
        return (
            "is required: set TAP_SEQUIN_API_KEY (read with --config ENV) to a Sequin API "
            'token, or add "api_key" to a --config file'
        )
    if from_files:
        return (
            'is required: add "api_key": "<your Sequin API token>" to the --config file, '
            "or set TAP_SEQUIN_API_KEY and add --config ENV"
        )
    return (
        'is required: give a config file holding "api_key" (tap-sequin --config '
        "config.json), or set TAP_SEQUIN_API_KEY and run tap-sequin --config ENV"
    )


def refuse_unknown_settings(schema: t.Mapping[str, t.Any], config: t.Mapping[str, t.Any]) -> None:
    """Raise ``ConfigError`` for a config key that names no setting, with the closest one.

    A typo such as ``sync_id`` would otherwise silently extract every sync.
    """
    known = sorted(schema.get("properties", {}))
    for key in config:
        if key not in known and not key.startswith("_"):
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean '{close[0]}'?" if close else "see tap-sequin --about"
            raise ConfigError(key, f"is not a setting of tap-sequin; {hint}")


def refuse_schema_errors(schema: t.Mapping[str, t.Any], config: t.Mapping[str, t.Any]) -> None:
    """Raise ``ConfigError`` for the first value the JSON schema refuses, naming its path."""
    for error in JSONSchemaValidator(schema).iter_errors(dict(config)):
        path = [str(part) for part in error.absolute_path]
        top = schema.get("properties", {}).get(path[0] if path else "", {})
        secret = top.get("secret") or top.get("writeOnly")
        problem = "has the wrong type" if secret else f"{error.message:.200}"
        expected = f" (expected {top['type']})" if top.get("type") else ""
        raise ConfigError(".".join(path) or "config", f"{problem}{expected}")


def refuse_bad_flattening(config: t.Mapping[str, t.Any]) -> None:
    """Raise ``ConfigError`` for a negative ``flattening_max_depth`` or a key length below 1.

    The SDK's schema says only "integer", and takes ``-3`` without a word.
    """
    for name, least in (("flattening_max_depth", 0), ("flattening_max_key_length", 1)):
        value = config.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value < least:
            raise ConfigError(name, f"must be {least} or more, got {value}")
    if config.get("flattening_enabled") is True and config.get("flattening_max_depth") is None:
        # The SDK would log two bare ERROR lines ("... is required", "Config validation
        # failed") with no 'tap-sequin: error:' line.
        raise ConfigError(
            "flattening_max_depth",
            "is required when flattening_enabled is true (e.g. 1); the rows are already "
            "flat, so consider leaving flattening_enabled off",
        )


def environment_warnings(
    schema: t.Mapping[str, t.Any], config: t.Mapping[str, t.Any], *, reads_environment: bool
) -> list[str]:
    """Misspelt ``TAP_SEQUIN_*`` names, whatever the config source, and unread ones.

    Misspelt names are worth a word even without ``--config ENV``: under Meltano the
    variable reaches the tap's environment but not the config Meltano writes.
    """
    names = list(schema.get("properties", {}))
    lines = environment.unknown_variables(names)
    if not reads_environment:
        unread = environment.unread_variables(names, config)
        lines += [environment.unread_hint(unread)] if unread else []
    return lines


BATCH_EXAMPLE = (
    '{"encoding": {"format": "jsonl", "compression": "gzip"}, '
    '"storage": {"root": "file:///tmp/batches"}}'
)


def refuse_bad_batch_config(config: t.Mapping[str, t.Any]) -> None:
    """Raise ``ConfigError`` for a ``batch_config`` the SDK would fail on mid-run.

    The SDK reads it only once records flow (after the API was called) and then fails
    with a TypeError or an ImportError; here a missing part, a format without its
    library or a storage root without its file-system package is one line, up front.
    """
    batch = config.get("batch_config")
    if batch is None:
        return
    if not isinstance(batch, dict):
        raise ConfigError("batch_config", f"must be an object such as {BATCH_EXAMPLE}")
    encoding = batch.get("encoding")
    if not isinstance(encoding, dict):
        raise ConfigError("batch_config", f'needs "encoding", e.g. {BATCH_EXAMPLE}')
    fmt = encoding.get("format")
    if fmt not in ("jsonl", "parquet"):
        raise ConfigError(
            "batch_config.encoding.format", f'must be "jsonl" or "parquet", not {fmt!r}'
        )
    storage = batch.get("storage")
    if not isinstance(storage, dict):
        raise ConfigError("batch_config", f'needs "storage", e.g. {BATCH_EXAMPLE}')
    if fmt == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise ConfigError(
            "batch_config",
            'encoding.format "parquet" needs pyarrow, which is not installed: install '
            '"singer-sdk[parquet]" beside tap-sequin, or use "jsonl"',
        )
    root = storage.get("root")
    if not isinstance(root, str) or not root.strip():
        raise ConfigError(
            "batch_config", f"storage.root must be a path or URL, e.g. {BATCH_EXAMPLE}"
        )
    protocol = root.split("://", 1)[0].lower() if "://" in root else "file"
    known = importlib.import_module("fsspec.registry").known_implementations
    implementation = known.get(protocol)
    if implementation is None:
        raise ConfigError("batch_config", f"storage.root: unknown file system {protocol}://")
    package = str(implementation["class"]).split(".", 1)[0]
    if importlib.util.find_spec(package) is None:
        raise ConfigError(
            "batch_config",
            f"storage.root {protocol}:// needs the {package} package, which is not installed: "
            f"install it beside tap-sequin (pip install {package})",
        )
