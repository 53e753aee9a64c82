"""Run the benchmarks side by side and report ratios against their targets.

    .venv/bin/python benchmarks/run.py [--only extraction,self-hosted,peer,pipeline] [--repeat 3]
        [--size full|quick|smoke] [--json FILE] [--markdown FILE]

- extraction (benchmarks/extraction.py): tap-sequin vs the stock SDK pattern and vs the
  floor; cost linear in the ids.
- self-hosted (benchmarks/self_hosted.py): tap-sequin with `api: self-hosted` (the sinks
  listing, then each sink's backfills) vs its floor.
- peer (benchmarks/peer.py): tap-sequin vs a dlt `rest_api` pipeline, extraction only.
- pipeline (benchmarks/pipeline.py): `tap-sequin | target-postgres`, `meltano run` and
  dlt, end to end into PostgreSQL, with the target-postgres settings compared.

peer and pipeline need the `bench` dependency group (dlt):
`.tools/bin/uv sync --frozen --all-groups`. Progress goes to stderr; the markdown
report to stdout (and --markdown FILE). Exit 0 only if every target checked passed.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import extraction
import peer
import self_hosted
from harness import log, stop_all
from report import Row, Target, machine, machine_line, summary, table

SUITES = ("extraction", "self-hosted", "peer", "pipeline")


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _compile_the_tap() -> None:
    """Byte-compile tap_sequin, as installing its wheel does (pip and uv compile on install).

    An editable checkout is never compiled ahead, and with PYTHONDONTWRITEBYTECODE=1 (set
    on the machine of RESULTS.md) every run would compile the tap's modules from source,
    which no installed tap does. Its dependencies are compiled by `uv sync` already
    (UV_COMPILE_BYTECODE=1 in scripts/setup.sh).
    """
    import compileall

    import tap_sequin

    compileall.compile_dir(Path(tap_sequin.__file__).parent, quiet=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--only", default=",".join(SUITES), help="comma-separated suites")
    parser.add_argument("--repeat", type=int, default=1, help="runs per program (median)")
    parser.add_argument(
        "--size",
        choices=("full", "quick", "smoke"),
        default="full",
        help="full: the stated scenarios; quick: ~1/5 (minutes); smoke: tiny (seconds)",
    )
    parser.add_argument("--json", metavar="FILE", help="save every run as JSON")
    parser.add_argument("--markdown", metavar="FILE", help="also write the report here")
    args = parser.parse_args(argv)
    suites = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(suites) - set(SUITES)
    if unknown:
        parser.error(f"unknown suite(s): {', '.join(sorted(unknown))}")
    if ("peer" in suites or "pipeline" in suites) and not peer.available():
        parser.error("peer and pipeline need dlt: .tools/bin/uv sync --frozen --all-groups")

    signal.signal(signal.SIGTERM, _on_sigterm)
    _compile_the_tap()
    info = machine()
    log(machine_line(info))
    sections: list[tuple[str, list[Row], list[Target], list[str]]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tap-sequin-bench-") as tmp:
            workdir = Path(tmp)
            if "extraction" in suites:
                rows, targets, start = extraction.run(args.repeat, args.size, workdir)
                notes = [
                    f"Start-up (tap-sequin, 1 id, 0 ms, median of {max(args.repeat, 3)}): "
                    f"{start.wall_s:.2f} s wall, {start.cpu_s:.2f} s CPU, {start.rss_mb:.0f} MB."
                ]
                sections.append(("Extraction", rows, targets, notes))
            if "self-hosted" in suites:
                rows, targets, start = self_hosted.run(args.repeat, args.size, workdir)
                notes = [
                    f"Start-up (tap-sequin, api self-hosted, 1 sink, 0 ms, median of "
                    f"{max(args.repeat, 3)}): {start.wall_s:.2f} s wall, {start.cpu_s:.2f} s "
                    f"CPU, {start.rss_mb:.0f} MB."
                ]
                sections.append(("Self-hosted: sinks and their backfills", rows, targets, notes))
            if "peer" in suites:
                rows, targets = peer.run(args.repeat, args.size, workdir)
                sections.append(("The peer: dlt rest_api, extraction only", rows, targets, []))
            if "pipeline" in suites:
                import pipeline

                rows, targets, notes = pipeline.run(args.repeat, args.size, workdir)
                sections.append(("The whole pipeline into PostgreSQL", rows, targets, notes))
    except KeyboardInterrupt:
        log("interrupted; stopping child processes")
        return 130
    finally:
        stop_all()

    out = [
        f"{machine_line(info)}",
        f"Median of {args.repeat} run(s)"
        + ("." if args.size == "full" else f" ({args.size} sizes: targets only indicative)."),
    ]
    out += ["", "### Targets", "", summary([t for s in sections for t in s[2]])]
    for title, rows, targets, notes in sections:
        out += ["", f"### {title}", "", table(rows), ""]
        out += [*notes, *(t.line() for t in targets)]
    text = "\n".join(out)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "machine": info,
                    "repeat": args.repeat,
                    "size": args.size,
                    "sections": [
                        {
                            "title": title,
                            "rows": [asdict(r) for r in rows],
                            "targets": [{**asdict(t), "ok": t.ok} for t in targets],
                            "notes": notes,
                        }
                        for title, rows, targets, notes in sections
                    ],
                },
                indent=2,
            )
        )
    return 0 if all(t.ok for _, _, targets, _ in sections for t in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
