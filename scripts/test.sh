#!/usr/bin/env bash
# Runs the whole test suite (lint included) exactly as CI does: `bash scripts/test.sh [pytest args]`.
set -euo pipefail
cd "$(dirname "$0")/.."
SETUP_EXTRA=test,export,tracking source scripts/setup_env.sh
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
# UTF-8 for text files and pipes whatever the locale: a library in the suite switches the process to the C locale,
# after which Python would read the UTF-8 files and subprocess output the tests check as ASCII.
export PYTHONUTF8=1
python -m pytest "$@"
