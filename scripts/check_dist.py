#!/usr/bin/env python3
"""Build the sdist and the wheel, and check them as a user would meet them.

    .venv/bin/python scripts/check_dist.py                  # build into dist/, then check
    .venv/bin/python scripts/check_dist.py --tag v0.1.0     # also: the tag names this version

The release workflow runs exactly this before it publishes. Steps, each fatal:

1. ``uv build`` into an empty ``dist/``: one ``.tar.gz`` and one ``.whl`` of this version;
2. ``twine check --strict`` (the metadata and the README render on PyPI);
3. for the wheel and for the sdist: a new virtualenv, ``pip install <file>`` (its
   dependencies from the index, as for a user), then the installed commands from outside
   the repository: ``tap-sequin --about --format=json`` reports this version, and
   ``tap-sequin --config ENV`` extracts every stream from a ``tap-sequin-sandbox``.

Needs the package index (PyPI). Exit status 0 when every check passed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import venv
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UV = ROOT / ".tools" / "bin" / "uv"
TWINE = "twine==7.0.0"
STREAMS = ("syncs", "sync_health_history", "credentials")
SANDBOX_SYNCS = 6


class CheckFailed(Exception):
    """One check of the distribution failed."""


def say(message: str) -> None:
    print(f"[check_dist] {message}", file=sys.stderr, flush=True)


def run(*args: str | Path, cwd: Path = ROOT, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(  # noqa: S603 - our own tools and the installed package
        [str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise CheckFailed(
            f"{' '.join(map(str, args))} exited {done.returncode}:\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return done.stdout


def project_version() -> str:
    match = re.search(
        r'^__version__ = "([^"]+)"$', (ROOT / "tap_sequin" / "__init__.py").read_text(), re.M
    )
    if match is None:
        raise CheckFailed("no __version__ in tap_sequin/__init__.py")
    return match.group(1)


def check_changelog(version: str, *, released: bool) -> None:
    """CHANGELOG.md has a section for this version, dated once it is released."""
    changelog = (ROOT / "CHANGELOG.md").read_text()
    match = re.search(rf"^## \[{re.escape(version)}\] - (.+)$", changelog, re.M)
    if match is None:
        raise CheckFailed(f"CHANGELOG.md has no '## [{version}] - <date>' section")
    if released and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", match.group(1).strip()):
        raise CheckFailed(
            f"CHANGELOG.md: the section of {version} says {match.group(1)!r}, not a release "
            "date (YYYY-MM-DD)"
        )


def build(dist: Path, version: str) -> tuple[Path, Path]:
    shutil.rmtree(dist, ignore_errors=True)
    run(UV, "build", "--sdist", "--wheel", "--out-dir", dist, ROOT)
    sdists, wheels = sorted(dist.glob("*.tar.gz")), sorted(dist.glob("*.whl"))
    names = [path.name for path in [*sdists, *wheels]]
    expected = [f"tap_sequin-{version}.tar.gz", f"tap_sequin-{version}-py3-none-any.whl"]
    if names != expected:
        raise CheckFailed(f"dist/ holds {names}, expected {expected}")
    return sdists[0], wheels[0]


def clean_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TAP_SEQUIN_", "PYTHON", "VIRTUAL_ENV"))
    }
    return {**env, **extra}


def sandbox_extract(bin_dir: Path, workdir: Path) -> Counter[str]:
    """Records per stream from the installed tap, run against the installed sandbox."""
    token = "check-dist-token"  # noqa: S105 - the throwaway sandbox's own token
    sandbox = subprocess.Popen(  # noqa: S603 - the installed sandbox
        [str(bin_dir / "tap-sequin-sandbox"), "--port", "0", "--syncs", str(SANDBOX_SYNCS),
         "--token", token],
        cwd=workdir, env=clean_env(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        text=True,
    )  # fmt: skip
    try:
        assert sandbox.stdout is not None
        url = sandbox.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise CheckFailed(f"tap-sequin-sandbox printed {url!r}, not its URL")
        out = run(
            bin_dir / "tap-sequin", "--config", "ENV", cwd=workdir,
            env=clean_env(TAP_SEQUIN_API_KEY=token, TAP_SEQUIN_BASE_URL=url),
        )  # fmt: skip
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
    messages = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return Counter(m["stream"] for m in messages if m.get("type") == "RECORD")


def check_install(artifact: Path, version: str, installer: str) -> None:
    with tempfile.TemporaryDirectory(prefix="check-dist-") as tmp:
        workdir = Path(tmp)
        env_dir = workdir / "venv"
        bin_dir = env_dir / ("Scripts" if os.name == "nt" else "bin")
        if installer == "uv":
            run(UV, "venv", "--quiet", "--python", sys.executable, env_dir, cwd=workdir)
            run(UV, "pip", "install", "--quiet", "--python", bin_dir / "python", artifact,
                cwd=workdir)  # fmt: skip
        else:
            venv.create(env_dir, with_pip=True)
            run(bin_dir / "python", "-m", "pip", "install", "--quiet",
                "--disable-pip-version-check", artifact, cwd=workdir)  # fmt: skip
        about = json.loads(
            run(bin_dir / "tap-sequin", "--about", "--format=json", cwd=workdir, env=clean_env())
        )
        if about["version"] != version:
            raise CheckFailed(f"{artifact.name}: --about says {about['version']}, not {version}")
        where = run(bin_dir / "python", "-c", "import tap_sequin; print(tap_sequin.__file__)",
                    cwd=workdir, env=clean_env())  # fmt: skip
        if not Path(where.strip()).is_relative_to(env_dir):
            raise CheckFailed(f"{artifact.name}: imported {where.strip()}, not the install")
        records = sandbox_extract(bin_dir, workdir)
        if records["syncs"] != SANDBOX_SYNCS or any(records[s] == 0 for s in STREAMS):
            raise CheckFailed(f"{artifact.name}: records per stream {dict(records)}")
        say(f"{artifact.name}: installs, --about says {version}, extracts {dict(records)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(__doc__ or "").split("\n\n", 1)[1],
    )
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder")
    parser.add_argument("--tag", help="a release tag (vX.Y.Z) that must name this version")
    parser.add_argument(
        "--installer", choices=["pip", "uv"], default="pip",
        help="what installs the files into the new virtualenvs (default: pip, as a user)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        version = project_version()
        if args.tag is not None and args.tag != f"v{version}":
            raise CheckFailed(f"tag {args.tag} does not name version {version} (v{version})")
        check_changelog(version, released=args.tag is not None)
        sdist, wheel = build(args.dist, version)
        say(f"built {sdist.name} and {wheel.name}")
        run(UV, "tool", "run", "--from", TWINE, "twine", "check", "--strict", sdist, wheel)
        say("twine check --strict: passed")
        for artifact in (wheel, sdist):
            check_install(artifact, version, args.installer)
    except CheckFailed as exc:
        print(f"check_dist: error: {exc}", file=sys.stderr)
        return 1
    say(f"{sdist.name} and {wheel.name} are ready to publish")
    return 0


if __name__ == "__main__":
    sys.exit(main())
