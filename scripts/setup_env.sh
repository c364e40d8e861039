#!/usr/bin/env bash
# Creates .venv at the repository root (if absent) and installs the project into it.
# Source it: `[SETUP_EXTRA=test] source scripts/setup_env.sh` (SETUP_EXTRA selects optional dependencies). The extra
# comes from a variable, not an argument: a bare `source` hands the calling script's own arguments on.
#
# torch is installed first and deliberately: TORCH_SPEC (default "torch==2.13.0") is what pip is asked for,
# so that the range in requirements.txt is already satisfied and nothing pulls another torch build.
# GPU users pick their CUDA build with TORCH_SPEC and, if needed, PIP_EXTRA_INDEX_URL (see README "Set-up").
# Re-running is cheap: installation is skipped while the dependency files are unchanged.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
EXTRA="${SETUP_EXTRA:-}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"

if [ ! -x "$ROOT/.venv/bin/python" ]; then
  echo "[setup] creating $ROOT/.venv"
  "$PYTHON" -m venv "$ROOT/.venv" || return 1 2>/dev/null || exit 1
fi
# shellcheck disable=SC1091
source "$ROOT/.venv/bin/activate"

stamp="$ROOT/.venv/.custom_networks-installed${EXTRA:+-$EXTRA}"
want="$(cat "$ROOT/pyproject.toml" "$ROOT"/requirements*.txt | sha256sum | cut -c1-16) $TORCH_SPEC"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "[setup] installing $TORCH_SPEC and custom_networks${EXTRA:+[$EXTRA]} into .venv"
  python -m pip install --quiet --upgrade pip \
    && python -m pip install --quiet "$TORCH_SPEC" \
    && python -m pip install --quiet -e "$ROOT${EXTRA:+[$EXTRA]}" \
    && echo "$want" > "$stamp" \
    || { echo "[setup] installation failed" >&2; return 1 2>/dev/null || exit 1; }
fi
python -c "import custom_networks, torch; print(f'[setup] custom_networks {custom_networks.__version__}, torch {torch.__version__}')"
