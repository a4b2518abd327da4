#!/usr/bin/env bash
# Download the pure-Python wheels the GPU check needs beyond what the lent
# GPU machines hold (Python 3.12, torch 2.11, numpy 2, OpenCV, Pillow,
# matplotlib, rich, einops; no package registry) into
# benchmarks/gpu/wheels/ (git-ignored), to be carried there with the
# working tree: mmengine, mmcv-lite (mmpretrain imports no compiled mmcv
# op), mmpretrain and their small dependencies. Run here, where PyPI is
# reachable; about 5 MB.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p wheels
python3 -m pip download --disable-pip-version-check -q --no-deps \
  --only-binary=:all: --python-version "${GPU_PYTHON_VERSION:-3.12}" -d wheels \
  mmengine==0.10.7 mmcv-lite==2.1.0 mmpretrain==1.2.0 addict==2.4.0 \
  termcolor==3.3.0 yapf==0.43.0 platformdirs==4.14.9 mat4py==0.6.0 \
  model-index==0.1.11 ordered-set==4.1.0 importlib-metadata==8.7.0
ls wheels
