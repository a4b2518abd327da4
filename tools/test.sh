#!/usr/bin/env bash
# Run the linters and the test suite (setting the environments up first if
# needed). Stacks (tools/setup_env.sh):
#   (default) MMSIM_STACK=frozen: torch 2.0.1; the whole suite under
#     mmselfsup (.venv), then the tests that run under both hosts
#     (tests/conftest.py: BOTH_HOSTS) under mmpretrain (.venv-mmpretrain);
#     MMSIM_HOST=mmselfsup|mmpretrain runs one of the two;
#   MMSIM_STACK=current: torch 2.11; the BOTH_HOSTS tests under mmpretrain
#     (.venv-current);
#   MMSIM_STACK=all: both stacks, one after the other (what CI runs).
# Extra arguments go to every pytest run, e.g. `bash tools/test.sh -m slow`.
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${MMSIM_STACK:-frozen}"
case "$stack" in
  frozen) runs=(frozen:mmselfsup frozen:mmpretrain) ;;
  current) runs=(current:mmpretrain) ;;
  all) runs=(frozen:mmselfsup frozen:mmpretrain current:mmpretrain) ;;
  *) echo "[test] MMSIM_STACK must be frozen, current or all, got '$stack'" >&2; exit 2 ;;
esac
if [ -n "${MMSIM_HOST:-}" ] && [ "$stack" = frozen ]; then runs=("frozen:$MMSIM_HOST"); fi
venv_of() {
  case "$1" in
    frozen:mmselfsup) echo .venv ;;
    frozen:mmpretrain) echo .venv-mmpretrain ;;
    current:mmpretrain) echo .venv-current ;;
    *) echo "[test] no environment for $1" >&2; exit 2 ;;
  esac
}
for run in "${runs[@]}"; do
  MMSIM_STACK=${run%%:*} MMSIM_HOST=${run##*:} bash tools/setup_env.sh
done
MMSIM_LINT_PYTHON=$(venv_of "${runs[0]}")/bin/python bash tools/lint.sh
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
for run in "${runs[@]}"; do
  venv=$(venv_of "$run")
  echo "[test] $run ($venv)" >&2
  MMSIM_STACK=${run%%:*} MMSIM_HOST=${run##*:} $venv/bin/python -m pytest -q -m "not slow" --timeout 900 "$@"
done
