#!/usr/bin/env python3
"""Does every locked dependency install from a wheel on a Python that is not installed here?

    .venv/bin/python scripts/check_wheels.py                        # Python 3.14, Linux x86_64
    .venv/bin/python scripts/check_wheels.py --python 3.14 --platform macos-arm64 windows-amd64

Takes the locked set of every dependency group (``uv export --frozen --all-groups``),
keeps the requirements whose environment markers hold on the target (Python version and
platform), and asks pip to download exactly those pins with ``--only-binary=:all:
--python-version X.Y`` and the platform's tags, one at a time, no dependencies (the lock
already lists them). A pin with no wheel for the target fails, and so does the run.

Prints one line per pin: the wheel pip chose and its kind (``pure`` for a ``none-any``
wheel, ``abi3`` for the stable ABI, ``cpXY`` for a version-specific build, ``any-python``
for a binary wheel that carries no Python extension), then a summary. Exit status 0 when
every pin has a wheel. Needs PyPI; pip comes from ``.tools/`` (made by scripts/setup.sh)
unless ``--pip`` says otherwise.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[1]


def _manylinux(arch: str, newest: int = 28) -> list[str]:
    """glibc 2.<newest> and every older manylinux tag (pip does not widen them itself)."""
    tags = [f"manylinux_2_{minor}_{arch}" for minor in range(newest, 4, -1)]
    return [*tags, f"manylinux2014_{arch}", f"manylinux2010_{arch}", f"manylinux1_{arch}"]


def _macos(arch: str, newest: int = 14) -> list[str]:
    return [f"macosx_{major}_0_{kind}" for major in range(newest, 10, -1)
            for kind in (arch, "universal2")]  # fmt: skip


# Environment markers and pip's --platform tags per target (Linux: glibc 2.28, as in
# RHEL 8 / Debian 10 and later; macOS 14 on Apple silicon and older).
PLATFORMS: dict[str, tuple[dict[str, str], list[str]]] = {
    "linux-x86_64": (
        {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
         "os_name": "posix"},
        _manylinux("x86_64"),
    ),
    "linux-aarch64": (
        {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64",
         "os_name": "posix"},
        _manylinux("aarch64"),
    ),
    "macos-arm64": (
        {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64",
         "os_name": "posix"},
        _macos("arm64"),
    ),
    "windows-amd64": (
        {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64",
         "os_name": "nt"},
        ["win_amd64"],
    ),
}  # fmt: skip


@dataclass
class Result:
    pin: str
    wheel: str | None
    error: str = ""

    @property
    def kind(self) -> str:
        if self.wheel is None:
            return "MISSING"
        tags = parse_wheel_filename(self.wheel)[3]
        abis = {tag.abi for tag in tags}
        interpreters = {tag.interpreter for tag in tags}
        if {tag.platform for tag in tags} == {"any"}:
            return "pure"
        if "abi3" in abis:
            return "abi3"
        if abis == {"none"}:
            return "any-python"
        return "/".join(sorted(interpreters))


def locked_requirements(uv: str) -> list[Requirement]:
    """Every pin of the lock, all dependency groups, the project itself excluded."""
    exported = subprocess.run(  # noqa: S603 - our own uv
        [uv, "export", "--frozen", "--all-groups", "--no-emit-project", "--no-hashes",
         "--no-header", "--no-annotate"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    lines = [line.strip() for line in exported.splitlines()]
    return [Requirement(line) for line in lines if line and not line.startswith(("#", "-"))]


def marker_environment(python: str, platform: str) -> dict[str, str]:
    major, minor = python.split(".")[:2]
    return {
        "python_version": f"{major}.{minor}",
        "python_full_version": f"{major}.{minor}.0",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "implementation_version": f"{major}.{minor}.0",
        "platform_release": "",
        "platform_version": "",
        "extra": "",
        **PLATFORMS[platform][0],
    }


def pip_download(
    pip: str, pins: list[str], python: str, platform: str, dest: Path
) -> subprocess.CompletedProcess[str]:
    major, minor = python.split(".")[:2]
    command = [
        pip, "download", "--quiet", "--disable-pip-version-check", "--no-deps",
        "--only-binary=:all:", "--python-version", f"{major}.{minor}",
        "--implementation", "cp", "--abi", f"cp{major}{minor}", "--abi", "abi3",
        "--abi", "none",
        *(arg for tag in PLATFORMS[platform][1] for arg in ("--platform", tag)),
        "--dest", str(dest), *pins,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603


def _name(pin: str) -> str:
    return canonicalize_name(Requirement(pin).name)


def wheels_for(pip: str, pins: list[str], python: str, platform: str) -> list[Result]:
    """One pip run for all pins; on a failure, one per pin to name each one that failed."""
    with tempfile.TemporaryDirectory(prefix="check-wheels-") as tmp:
        if pip_download(pip, pins, python, platform, Path(tmp)).returncode == 0:
            found = {parse_wheel_filename(p.name)[0]: p.name for p in Path(tmp).glob("*.whl")}
            return [Result(pin, found.get(_name(pin))) for pin in pins]
    results = []
    for pin in pins:
        with tempfile.TemporaryDirectory(prefix="check-wheels-") as tmp:
            proc = pip_download(pip, [pin], python, platform, Path(tmp))
            wheels = [p.name for p in Path(tmp).glob("*.whl")]
        if proc.returncode == 0 and len(wheels) == 1:
            results.append(Result(pin, wheels[0]))
        else:
            last = (proc.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            results.append(Result(pin, None, last))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=(__doc__ or "").split("\n\n", 1)[1],
    )
    parser.add_argument("--python", default="3.14", help="target version X.Y (default 3.14)")
    parser.add_argument(
        "--platform", nargs="+", choices=sorted(PLATFORMS), default=["linux-x86_64"]
    )
    parser.add_argument("--uv", default=str(ROOT / ".tools" / "bin" / "uv"))
    parser.add_argument("--pip", default=str(ROOT / ".tools" / "bin" / "pip"))
    args = parser.parse_args(argv)

    requirements = locked_requirements(args.uv)
    failures = 0
    for platform in args.platform:
        env = marker_environment(args.python, platform)
        pins = [
            f"{req.name}{req.specifier}"
            for req in requirements
            if req.marker is None or Marker(str(req.marker)).evaluate(env)
        ]
        print(f"== Python {args.python}, {platform}: {len(pins)} of {len(requirements)} pins apply")
        kinds: dict[str, int] = {}
        for result in wheels_for(args.pip, pins, args.python, platform):
            kinds[result.kind] = kinds.get(result.kind, 0) + 1
            print(f"{result.kind:10} {result.pin:40} {result.wheel or result.error}")
            failures += result.wheel is None
        summary = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        print(f"-- {platform}: {summary}\n")
    if failures:
        print(f"{failures} pin(s) without a wheel for Python {args.python}", file=sys.stderr)
        return 1
    print(f"every locked pin has a wheel for Python {args.python}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
