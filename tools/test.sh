#!/usr/bin/env bash
# Run the linters and the test suite (setting the environments up first if
# needed): the whole suite under mmselfsup (.venv), then the tests that run
# under both hosts (tests/conftest.py: BOTH_HOSTS) under mmpretrain
# (.venv-mmpretrain). Extra arguments go to both pytest runs, e.g.
# `bash tools/test.sh -m slow`; MMSIM_HOST=mmselfsup|mmpretrain runs one.
set -euo pipefail
cd "$(dirname "$0")/.."
hosts=(mmselfsup mmpretrain)
if [ -n "${MMSIM_HOST:-}" ]; then hosts=("$MMSIM_HOST"); fi
for host in "${hosts[@]}"; do MMSIM_HOST=$host bash tools/setup_env.sh; done
lint_venv=.venv; [ "${hosts[0]}" = mmpretrain ] && lint_venv=.venv-mmpretrain
MMSIM_LINT_PYTHON=$lint_venv/bin/python bash tools/lint.sh
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
for host in "${hosts[@]}"; do
  venv=.venv; [ "$host" = mmpretrain ] && venv=.venv-mmpretrain
  echo "[test] host $host ($venv)" >&2
  MMSIM_HOST=$host $venv/bin/python -m pytest -q -m "not slow" --timeout 900 "$@"
done
