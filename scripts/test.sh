#!/usr/bin/env bash
# Runs the whole test suite (lint included) exactly as CI does: `bash scripts/test.sh [pytest args]`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh test
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
python -m pytest "$@"
