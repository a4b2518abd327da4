#!/usr/bin/env bash
# Lint the tree with the settings in setup.cfg: flake8, isort and yapf.
# `bash tools/lint.sh` checks (exit 1 and the findings on any); `--fix`
# rewrites imports (isort) and formatting (yapf) in place, then checks.
# The linters come from .venv (tools/setup_env.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
py="${MMSIM_LINT_PYTHON:-.venv/bin/python}"
paths=(mmsim tools tests benchmarks configs setup.py)
if [ "${1:-}" = "--fix" ]; then
  "$py" -m isort -q "${paths[@]}"
  "$py" -m yapf -i -r -p "${paths[@]}"
fi
status=0
"$py" -m flake8 "${paths[@]}" || status=1
"$py" -m isort --check-only -q --diff "${paths[@]}" || status=1
"$py" -m yapf -d -r -p "${paths[@]}" || status=1
if [ "$status" -ne 0 ]; then
  echo "[lint] findings above: fix them, or run 'bash tools/lint.sh --fix' for imports and formatting" >&2
  exit 1
fi
echo "[lint] flake8, isort, yapf: clean" >&2
