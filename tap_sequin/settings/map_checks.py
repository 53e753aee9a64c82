"""Checks of ``stream_maps`` and ``flattening_enabled`` made before the first request.

The SDK compiles a stream-map expression when the tap starts but looks its names up
only when the first record passes: a typo (``"nme.upper()"``) used to fail after the
API had been read, in a 92-line traceback. Flattening, which the SDK offers to every
tap, turns ``collection_ids`` into JSON text and ``credential``/``metadata`` into
new columns; a target that already holds the table then refuses to load.
"""

from __future__ import annotations

import ast
import difflib
import typing as t

import simpleeval  # type: ignore[import-untyped]

from tap_sequin.errors import ConfigError

# What the SDK puts in scope of every expression (singer_sdk.mapper.CustomStreamMap._eval
# and .functions), on top of the record's own properties.
SDK_NAMES = frozenset(
    {"_", "record", "config", "self", "fake", "__stream_name__", "__original_stream_name__"}
    | set(simpleeval.DEFAULT_FUNCTIONS)
    | set(simpleeval.DEFAULT_NAMES)
    | {"md5", "sha256", "datetime", "bool", "json"}
)
# The SDK reads this string like null: remove the property (meltano.yml loses real nulls).
NULL_STRING = "__NULL__"
# Map keys whose values are names or lists, not expressions (singer_sdk.mapper).
NOT_EXPRESSIONS = frozenset({"__source__", "__alias__", "__else__", "__key_properties__"})
# Every key of the form __name__ that the SDK gives a meaning in a stream's map.
SDK_KEYS = NOT_EXPRESSIONS | {"__filter__"}


def _free_names(tree: ast.AST) -> set[str]:
    """Names an expression reads, minus those its comprehensions and lambdas bind."""
    bound = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)
    }
    arguments = [node for node in ast.walk(tree) if isinstance(node, ast.arguments)]
    bound |= {arg.arg for node in arguments for arg in node.args}
    return {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in bound
    } - bound


def check_stream_maps(stream_maps: object, schemas: t.Mapping[str, t.Mapping[str, t.Any]]) -> None:
    """Refuse a stream map whose expression does not parse or names an unknown column.

    ``schemas`` maps each stream name to its JSON schema. Raises ``ConfigError`` for
    ``stream_maps`` naming the stream, the property and the unknown name.
    """
    if not isinstance(stream_maps, t.Mapping):
        return
    for stream, mapping in stream_maps.items():
        if stream == "__else__":
            continue
        is_new_stream = isinstance(mapping, t.Mapping) and "__source__" in mapping
        if stream not in schemas and not is_new_stream:
            # The SDK would ignore the map, and the run would load unmapped records.
            close = difflib.get_close_matches(str(stream), sorted(schemas), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"streams: {', '.join(schemas)}"
            raise ConfigError(
                "stream_maps",
                f"'{stream}' is not a stream of tap-sequin (and has no __source__); {hint}",
            )
        if not isinstance(mapping, t.Mapping):
            continue
        source = mapping.get("__source__") or stream
        if str(source) not in schemas:
            # The SDK would make no stream of it, and say nothing.
            close = difflib.get_close_matches(str(source), sorted(schemas), n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"streams: {', '.join(schemas)}"
            raise ConfigError(
                "stream_maps",
                f"{stream}.__source__: '{source}' is not a stream of tap-sequin; {hint}",
            )
        columns = set(schemas.get(str(source), {}).get("properties", {}))
        if not columns:
            continue  # an alias of another map, or a stream this tap does not have
        for key, expression in mapping.items():
            if key in NOT_EXPRESSIONS:
                continue
            if str(key).startswith("__") and str(key).endswith("__") and key not in SDK_KEYS:
                # The SDK would take "__filtr__" for a new column and filter nothing.
                close = difflib.get_close_matches(str(key), sorted(SDK_KEYS), n=1)
                hint = f"did you mean '{close[0]}'?" if close else ", ".join(sorted(SDK_KEYS))
                raise ConfigError(
                    "stream_maps", f"{stream}.{key}: is no key stream maps know; {hint}"
                )
            if expression is None or expression == NULL_STRING:  # "remove this property"
                if key not in columns:
                    # The SDK removes nothing and says nothing: the column would still load.
                    close = difflib.get_close_matches(str(key), sorted(columns), n=1)
                    hint = f"did you mean '{close[0]}'?" if close else "see its columns: --discover"
                    raise ConfigError(
                        "stream_maps",
                        f"{stream}.{key}: removes a property {source} does not have; {hint}",
                    )
                continue
            if not isinstance(expression, str):
                continue
            where = f"{stream}.{key}"
            try:
                tree = ast.parse(expression, mode="eval")
            except SyntaxError as exc:
                raise ConfigError(
                    "stream_maps", f"{where}: {expression!r} is not an expression ({exc.msg})"
                ) from None
            for name in sorted(_free_names(tree) - columns - SDK_NAMES):
                close = difflib.get_close_matches(name, sorted(columns), n=1)
                hint = f"did you mean '{close[0]}'?" if close else "the stream has no such column"
                raise ConfigError(
                    "stream_maps", f"{where}: {expression!r} uses unknown name '{name}'; {hint}"
                )
            if name_uses_fake(tree) and not _faker_installed():
                raise ConfigError("stream_maps", f"{where}: uses 'fake' but Faker is not installed")
            for method in sorted(_fake_methods(tree)):
                if not _is_faker_method(method):
                    raise ConfigError(
                        "stream_maps",
                        f"{where}: {expression!r} calls fake.{method}, which Faker does not "
                        "have (see https://faker.readthedocs.io/en/master/providers.html)",
                    )


def _fake_methods(tree: ast.AST) -> set[str]:
    """The attributes an expression reads from ``fake`` (``fake.name()`` -> ``name``)."""
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "fake"
    }


def _is_faker_method(name: str) -> bool:
    from faker import Faker

    return hasattr(Faker(), name)


def check_faker_config(faker_config: object) -> None:
    """Refuse a ``faker_config.locale`` Faker does not know, naming ``faker_config``.

    The SDK makes its Faker when it builds the stream maps, so a bad locale would
    otherwise be blamed on ``stream_maps``.
    """
    if not isinstance(faker_config, t.Mapping) or faker_config.get("locale") is None:
        return
    if not _faker_installed():
        return
    from faker import Faker

    locale = faker_config["locale"]
    try:
        Faker(locale=locale)
    except (AttributeError, TypeError, ValueError):
        raise ConfigError(
            "faker_config",
            f'locale {locale!r:.60} is not a Faker locale (e.g. "en_US" or ["en_US", "fr_FR"])',
        ) from None


def name_uses_fake(tree: ast.AST) -> bool:
    """Whether an expression reads ``fake``."""
    return "fake" in _free_names(tree)


def _faker_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("faker") is not None


def _type_of(schema: t.Mapping[str, t.Any]) -> str:
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    kinds = [kind for kind in types if kind != "null"]
    if "anyOf" in schema and not kinds:
        return "any"
    return "/".join(kinds) or "any"


def flattening_changes(
    raw: t.Mapping[str, t.Any], flattened: t.Mapping[str, t.Any], separator: str = "__"
) -> list[str]:
    """What flattening does to the columns of ``raw``: one phrase per column changed."""
    changes = []
    before = raw.get("properties", {})
    after = flattened.get("properties", {})
    for column, schema in before.items():
        if column not in after:
            new = sorted(
                name
                for name in after
                if name.startswith(f"{column}{separator}") and name not in before
            )
            if new:
                shown = f"{', '.join(new[:3])}{', ...' if len(new) > 3 else ''}"
                changes.append(f"'{column}' ({_type_of(schema)}) is replaced by {shown}")
            else:
                # An object with no declared keys (metadata, health): the SDK flattens the
                # records' keys but declares no column for them, so targets drop them.
                changes.append(
                    f"'{column}' ({_type_of(schema)}) is dropped: no column replaces it, so "
                    "its values are lost"
                )
        elif _type_of(schema) != _type_of(after[column]):
            changes.append(
                f"'{column}' changes from {_type_of(schema)} to {_type_of(after[column])}"
                + (" (JSON text)" if _type_of(schema) in {"array", "object"} else "")
            )
    return changes


def flattening_warning(
    stream: str, raw: t.Mapping[str, t.Any] | None, stream_map: object
) -> str | None:
    """The warning for one of the SDK's stream maps, if it flattens columns of ``raw``."""
    if raw is None or not getattr(stream_map, "flattening_enabled", False):
        return None
    options = getattr(stream_map, "flattening_options", None)
    separator = getattr(options, "separator", None) or "__"
    changes = flattening_changes(raw, getattr(stream_map, "transformed_schema", {}), separator)
    if not changes:
        return None
    return (
        f"setting 'flattening_enabled': the {stream} row is already flat; flattening changes "
        f"existing columns: {'; '.join(changes)}. A target that already has the table "
        "(target-postgres: 'Altering columns is not supported') will refuse to load; "
        "leave flattening_enabled off"
    )
