#!/usr/bin/env bash
# Run the linters and the test suite (setting the environment up first if
# needed). Extra arguments go to pytest, e.g. `bash tools/test.sh -m slow`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
bash tools/lint.sh
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
exec .venv/bin/python -m pytest -q -m "not slow" --timeout 900 "$@"
