"""Checks of a ``--catalog`` against the streams the tap really emits.

The SDK takes a catalog's schema as the schema to announce, whatever the tap emits: a
catalog that turns ``syncs.id`` into an integer made a run write RECORDs that break
their own SCHEMA, and exit 0. A catalog stream the tap does not have was ignored
without a word (a renamed stream then extracted nothing).
"""

from __future__ import annotations

import difflib
import typing as t

from tap_sequin.errors import ConfigError

if t.TYPE_CHECKING:
    from singer_sdk.singerlib import Catalog
    from singer_sdk.streams import Stream


def _types(schema: t.Mapping[str, t.Any]) -> frozenset[str]:
    types = schema.get("type", [])
    return frozenset([types] if isinstance(types, str) else types)


def unknown_catalog_streams(catalog_ids: t.Iterable[str], streams: t.Iterable[str]) -> list[str]:
    """One warning per catalog stream that is no stream of the tap, with the closest one."""
    known = sorted(streams)
    lines = []
    for stream_id in catalog_ids:
        if stream_id in known:
            continue
        close = difflib.get_close_matches(stream_id, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"the streams are {', '.join(known)}"
        lines.append(
            f"--catalog: stream '{stream_id}' is not a stream of tap-sequin and is ignored; {hint}"
        )
    return lines


def refuse_changed_types(
    stream: str, emitted: t.Mapping[str, t.Any], declared: t.Mapping[str, t.Any]
) -> None:
    """Raise ``ConfigError`` when the catalog gives a property another type than it has.

    ``emitted`` is the stream's own JSON schema, ``declared`` the catalog's for it.
    """
    own = emitted.get("properties", {})
    for name, schema in declared.get("properties", {}).items():
        if name in own and isinstance(schema, dict) and _types(schema) != _types(own[name]):
            raise ConfigError(
                "catalog",
                f"--catalog declares {stream}.{name} as {'/'.join(sorted(_types(schema)))}, "
                f"but tap-sequin emits {'/'.join(sorted(_types(own[name])))}; a catalog may "
                "select streams and properties, not change their types: rerun --discover",
            )


def refuse_other_api_streams(catalog: Catalog, other_api: t.Mapping[str, str]) -> None:
    """Raise ``ConfigError`` for a selected catalog stream that only the other ``api`` has.

    ``other_api`` maps each such stream to the api that has it.
    """
    for entry in catalog.streams:
        api = other_api.get(entry.tap_stream_id)
        if api is not None and entry.metadata.root.selected:
            raise ConfigError(
                "api",
                f"--catalog selects stream '{entry.tap_stream_id}', which only api '{api}' "
                f"has; set api to '{api}' (and base_url to its server), or rerun --discover "
                "with this config and select its streams",
            )


def check_catalog(
    catalog: Catalog | None,
    streams: t.Mapping[str, Stream],
    warn: t.Callable[[str], None],
    other_api: t.Mapping[str, str] | None = None,
) -> None:
    """Before a run: refuse selected streams of the other ``api`` (``other_api``), warn of
    other catalog streams the tap lacks, refuse changed property types, and refuse any
    replication method but FULL_TABLE (health changes without ``updated_at`` moving, so
    nothing else is safe)."""
    if catalog is not None:
        other_api = other_api or {}
        refuse_other_api_streams(catalog, other_api)
        # The other api's streams, deselected, are no mistake: the tap has them, elsewhere.
        ids = [e.tap_stream_id for e in catalog.streams if e.tap_stream_id not in other_api]
        for line in unknown_catalog_streams(ids, streams):
            warn(line)
        for stream in streams.values():
            if stream.selected:
                refuse_changed_types(stream.name, stream.schema, stream.effective_schema)
    for stream in streams.values():
        if stream.replication_method != "FULL_TABLE":
            raise ConfigError(
                "catalog replication-method",
                f"stream '{stream.name}' supports FULL_TABLE only, not "
                f"{stream.replication_method}: health changes without updated_at moving, "
                "so nothing else is safe",
            )
