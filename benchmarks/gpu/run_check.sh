#!/usr/bin/env bash
# The GPU check on a machine with a GPU and no package registry (the lent
# GPU machines: Python 3.12, torch 2.11, numpy 2), from the repository
# root:
#   bash benchmarks/gpu/run_check.sh OUT_DIR [check.py options]
# Needs benchmarks/gpu/wheels/ (bash benchmarks/gpu/prepare_wheels.sh, run
# where PyPI is reachable, then carry that folder). The wheels go into a
# folder of their own put first on PYTHONPATH (no --deps: the machine's
# torch and numpy stay), mmsim runs from the source tree.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:?usage: bash benchmarks/gpu/run_check.sh OUT_DIR [options]}"; shift
py="${PYTHON:-python3}"
site="${MMSIM_GPU_SITE:-/tmp/mmsim-gpu-site}"
if ! ls benchmarks/gpu/wheels/*.whl >/dev/null 2>&1; then
  echo "[gpu-check] no wheels in benchmarks/gpu/wheels: run bash benchmarks/gpu/prepare_wheels.sh where PyPI is reachable and carry that folder" >&2
  exit 2
fi
if [ ! -f "$site/.done" ]; then
  "$py" -m pip install --disable-pip-version-check -q --no-index --no-deps \
    --target "$site" benchmarks/gpu/wheels/*.whl
  touch "$site/.done"
fi
export PYTHONPATH="$site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
export MMSIM_HOST=mmpretrain
"$py" -c "import torch, numpy, mmengine, mmpretrain; print('[gpu-check] torch', torch.__version__, 'numpy', numpy.__version__, 'mmengine', mmengine.__version__, 'mmpretrain', mmpretrain.__version__, 'cuda', torch.cuda.is_available())" >&2
"$py" -W ignore -m benchmarks.gpu.check --out "$out" "$@"
