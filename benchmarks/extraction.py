"""tap-sequin's extraction against the stock SDK pattern and against the floor.

The floor is what no tap can beat with the same settings: the ids' latency spread over
`max_concurrent_requests` requests in flight, plus tap-sequin's own start-up (the wall
time of extracting 1 id at 0 latency):  floor = ids x latency / concurrency + start-up.

Scenarios (`--size quick|smoke` shrinks them; targets are then only indicative):
- A: 300 ids at 20 ms, default settings: stock / tap-sequin wall >= 5x; tap-sequin
  within 1.2x of the floor.
- D: 1,000 ids at 50 ms, `max_concurrent_requests: 16`: within 1.15x of the floor.
- E: 1,000 and 10,000 ids at 0 ms (CPU cost, no waiting): CPU per id at 10,000 within
  1.25x of that at 1,000; peak RSS at 10,000 within 1.5x of that at 1,000.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness import (
    BIN,
    ROOT,
    TOKEN,
    Run,
    Sandbox,
    describe,
    log,
    measure,
    median_run,
    sync_ids,
    syncs_only_catalog,
)
from report import Row, Target


def tap_command(workdir: Path) -> list[str]:
    """`tap-sequin` extracting the `syncs` stream only, as the stock tap and dlt do."""
    return [str(BIN / "tap-sequin"), "--catalog", syncs_only_catalog(workdir)]


STOCK = [str(BIN / "python"), str(ROOT / "benchmarks" / "stock_tap.py")]
DEFAULT_CONCURRENCY = 8  # tap-sequin's default max_concurrent_requests


def tap_config(workdir: Path, label: str, url: str, ids: list[str] | None, **extra: Any) -> str:
    """Write a tap config (tap-sequin's keys; the stock tap reads the same) and return its path."""
    cfg: dict[str, Any] = {"api_key": TOKEN, "base_url": url, **extra}
    if ids is not None:
        cfg["sync_ids"] = ids
    path = workdir / f"{label}.config.json"
    path.write_text(json.dumps(cfg))
    return str(path)


def run_against(
    sb: Sandbox, args: list[str], workdir: Path, label: str, stdout: Path | None = None
) -> Run:
    """One measured run with the sandbox's request count and peak concurrency attached."""
    sb.clear()
    run = measure(args, workdir, label, stdout=stdout)
    stats = sb.stats()
    run.requests, run.peak_in_flight = stats["requests"], stats["peak_in_flight"]
    log(describe(label, run))
    return run


def startup(workdir: Path, repeat: int) -> Run:
    """tap-sequin extracting 1 id at 0 latency: the start-up part of the floor."""
    with Sandbox(1, 0, workdir) as sb:
        cfg = tap_config(workdir, "startup", sb.url, sync_ids(1))
        measure([*tap_command(workdir), "--config", cfg], workdir, "warmup")  # not measured
        tap = tap_command(workdir)
        runs = [run_against(sb, [*tap, "--config", cfg], workdir, "startup") for _ in range(repeat)]
    return median_run(runs)


def _side_by_side(
    key: str,
    ids: int,
    latency_ms: float,
    programs: dict[str, tuple[list[str], dict[str, Any]]],
    repeat: int,
    workdir: Path,
    start_s: float,
) -> list[Row]:
    """Run each program `repeat` times, alternating, against one sandbox; one Row each."""
    runs: dict[str, list[Run]] = {name: [] for name in programs}
    with Sandbox(ids, latency_ms, workdir) as sb:
        wanted = sync_ids(ids)
        for _ in range(repeat):
            for name, (cmd, extra) in programs.items():
                cfg = tap_config(workdir, f"{key}-{name}", sb.url, wanted, **extra)
                runs[name].append(
                    run_against(sb, [*cmd, "--config", cfg], workdir, f"{key} {name}")
                )
    rows = []
    for name, (_, extra) in programs.items():
        conc = 1 if name == "stock" else extra.get("max_concurrent_requests", DEFAULT_CONCURRENCY)
        floor = (
            ids * latency_ms / 1000 / conc + start_s
            if name == "tap-sequin" and latency_ms
            else None
        )
        rows.append(
            Row(
                key,
                name,
                f"{ids:,} ids",
                latency_ms,
                str(conc),
                median_run(runs[name]),
                runs[name],
                floor,
            )
        )
    return rows


def run(repeat: int, size: str, workdir: Path) -> tuple[list[Row], list[Target], Run]:
    """Scenarios A, D, E; returns their rows, targets and the start-up run."""
    start = startup(workdir, 1 if size == "smoke" else max(repeat, 3))
    log(describe("start-up (1 id, 0 ms)", start))
    tap: tuple[list[str], dict[str, Any]] = (tap_command(workdir), {})
    n_a, n_d, n_e = {
        "full": (300, 1000, (1000, 10000)),
        "quick": (60, 200, (200, 2000)),
        "smoke": (8, 16, (4, 20)),
    }[size]
    rows = _side_by_side(
        "A", n_a, 20, {"stock": (STOCK, {}), "tap-sequin": tap}, repeat, workdir, start.wall_s
    )
    rows += _side_by_side(
        "D",
        n_d,
        50,
        {"tap-sequin": (tap_command(workdir), {"max_concurrent_requests": 16})},
        repeat,
        workdir,
        start.wall_s,
    )
    for n in n_e:
        rows += _side_by_side("E", n, 0, {"tap-sequin": tap}, repeat, workdir, start.wall_s)
    return rows, targets(rows), start


def targets(rows: list[Row]) -> list[Target]:
    def row(scenario: str, program: str, index: int = 0) -> Row:
        return [r for r in rows if r.scenario == scenario and r.program == program][index]

    a_stock, a_tap, d_tap = row("A", "stock"), row("A", "tap-sequin"), row("D", "tap-sequin")
    e_small, e_big = row("E", "tap-sequin", 0), row("E", "tap-sequin", 1)
    n_small, n_big = (int(r.what.split()[0].replace(",", "")) for r in (e_small, e_big))
    per_small, per_big = e_small.run.cpu_s / n_small, e_big.run.cpu_s / n_big
    marginal = (e_big.run.cpu_s - e_small.run.cpu_s) / (n_big - n_small)
    assert a_tap.floor_s
    assert d_tap.floor_s
    return [
        Target(
            f"A ({a_tap.what}, 20 ms): stock SDK pattern wall / tap-sequin wall",
            a_stock.run.wall_s / a_tap.run.wall_s,
            5,
            at_least=True,
            detail=f"{a_stock.run.wall_s:.2f} s vs {a_tap.run.wall_s:.2f} s",
        ),
        Target(
            f"A ({a_tap.what}, 20 ms, 8 in flight): tap-sequin wall / floor",
            a_tap.run.wall_s / a_tap.floor_s,
            1.2,
            at_least=False,
            detail=f"{a_tap.run.wall_s:.2f} s vs floor {a_tap.floor_s:.2f} s",
        ),
        Target(
            f"D ({d_tap.what}, 50 ms, 16 in flight): tap-sequin wall / floor",
            d_tap.run.wall_s / d_tap.floor_s,
            1.15,
            at_least=False,
            detail=f"{d_tap.run.wall_s:.2f} s vs floor {d_tap.floor_s:.2f} s",
        ),
        Target(
            f"E: CPU per id at {n_big:,} ids / at {n_small:,} ids",
            per_big / per_small,
            1.25,
            at_least=False,
            detail=f"{per_big * 1e3:.3f} ms vs {per_small * 1e3:.3f} ms per id; marginal "
            f"{marginal * 1e3:.3f} ms per id between the two",
        ),
        Target(
            f"E: peak RSS at {n_big:,} ids / at {n_small:,} ids",
            e_big.run.rss_mb / e_small.run.rss_mb,
            1.5,
            at_least=False,
            detail=f"{e_big.run.rss_mb:.1f} MB vs {e_small.run.rss_mb:.1f} MB",
        ),
    ]
