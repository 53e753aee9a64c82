"""The last line of a successful run: what was extracted, and what the tap sent.

It says what the tap did ("ACTIVATE_VERSION sent"), never what a target may do with it:
target-jsonl, pipelinewise-target-postgres and target-duckdb ignore ACTIVATE_VERSION, so
"marked deleted" would be untrue there.
"""

from __future__ import annotations

import typing as t

from tap_sequin.sequin_stream import plural

if t.TYPE_CHECKING:
    from tap_sequin.credential_stream import CredentialsStream
    from tap_sequin.streams import SyncHealthHistoryStream, SyncsStream
    from tap_sequin.sync_reading import SyncReading


def run_summary(
    reading: SyncReading,
    syncs: SyncsStream,
    history: SyncHealthHistoryStream,
    credentials: CredentialsStream,
) -> str:
    """E.g. ``extracted 25 syncs (ACTIVATE_VERSION sent); 25 rows of sync_health_history;
    32 credentials (ACTIVATE_VERSION sent)``."""
    line = f"extracted {plural(reading.extracted, 'sync')}"
    if syncs.selected and syncs.activation:
        line += f" ({syncs.activation})"
    if reading.not_found:
        shown = ", ".join(reading.not_found[:10])
        line += f"; {len(reading.not_found)} not found: {shown}"
    if history.selected:
        line += f"; {plural(reading.extracted, 'row')} of sync_health_history"
    if credentials.selected:
        if not credentials.served:
            line += "; credentials not served (404)"
        else:
            line += f"; {plural(credentials.extracted, 'credential')}"
            if credentials.activation:
                line += f" ({credentials.activation})"
    return line
