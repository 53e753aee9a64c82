# Sourced by scripts/run and scripts/test: make .venv match uv.lock, from nothing but
# Python 3.10+ and pip. uv itself is bootstrapped into .tools/ (pinned).
UV_VERSION="0.13.9"
PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || { echo "error: $PYTHON not found (Python 3.10+ is needed)" >&2; exit 1; }
if [[ ! -x .tools/bin/uv ]] || [[ "$(.tools/bin/uv --version 2>/dev/null)" != "uv $UV_VERSION"* ]]; then
  echo "[setup] installing uv $UV_VERSION into .tools/" >&2
  "$PYTHON" -m venv .tools
  .tools/bin/pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi
export UV_PYTHON_DOWNLOADS=never
# Compile .pyc at install time (uv does not by default): with PYTHONDONTWRITEBYTECODE set,
# as in many containers, every start would otherwise re-compile the SDK (+0.5 s).
# Exported, so the uv that Meltano uses for plugin venvs does the same.
export UV_COMPILE_BYTECODE=1
echo "[setup] .venv from uv.lock (uv sync --frozen --all-groups --no-group bench)" >&2
# The interpreter itself, not a launcher in front of it (a pyenv shim): uv takes a shim for
# another Python than the one .venv was made from and rebuilds .venv on every sync.
PYTHON_EXE="$("$PYTHON" -c 'import sys; print(sys.executable)')"
.tools/bin/uv sync --frozen --all-groups --no-group bench --quiet --python "$PYTHON_EXE"
