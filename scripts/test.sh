#!/usr/bin/env bash
# Runs the whole test suite (lint included) exactly as CI does: `bash scripts/test.sh [pytest args]`.
set -euo pipefail
cd "$(dirname "$0")/.."
SETUP_EXTRA=test,export,tracking source scripts/setup_env.sh
# Two pytest-xdist workers, a whole test module each at a time (module-scoped fixtures built once), one torch thread
# each: most tests run subprocesses with one thread anyway, so the two cores work in parallel.
# `bash scripts/test.sh -n 0 ...` runs in this process alone. The 25 slowest setups and tests are listed at the end.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
# UTF-8 for text files and pipes whatever the locale: a library in the suite switches the process to the C locale,
# after which Python would read the UTF-8 files and subprocess output the tests check as ASCII.
export PYTHONUTF8=1
python -m pytest -n 2 --dist loadfile --durations 25 "$@"
