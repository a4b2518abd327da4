#!/usr/bin/env bash
# Create (or reuse) the project-local virtual environment of one host
# toolbox, holding the stack measured in ../shared/docs/environment.md, then
# install mmsim in editable mode:
#   MMSIM_HOST=mmselfsup (default): `.venv`, mmselfsup 1.0.0 + mmcls 1.0.0rc6
#   MMSIM_HOST=mmpretrain:          `.venv-mmpretrain`, mmpretrain 1.2.0
# both on the frozen stack (torch 2.0.1, mmcv 2.0.1), or, with
#   MMSIM_STACK=current:            `.venv-current`, mmpretrain 1.2.0 on
#                                   torch 2.11.0, mmcv 2.1.0 (tools/
#                                   constraints-current.txt)
# mmselfsup 1.0.0 refuses mmcv >= 2.1, and mmcv 2.0 compiles against no torch
# past 2.0: the current stack has the mmpretrain host only.
# Two environments because the hosts cannot share one: with mmdet installed,
# `import mmdet.models` imports mmpretrain's models when mmpretrain is
# installed, and mmselfsup's models then fail to register (`KeyError:
# 'ResLayerExtraNorm is already registered'`). Both get the same torch, mmcv,
# mmengine, mmdet and mmseg (torch's files are hard-linked from the first, see
# below; pip builds mmcv once: the second environment
# takes the wheel from pip's cache, built against the same torch).
# Idempotent: a finished environment is detected by a stamp file that records
# the hash of this script, the constraints and setup.cfg, so re-running is
# instant.
#
# Order matters: torch first (mmcv is built against it without build
# isolation), then mmcv 2.0.1 from source with its CPU ops, then the rest.
# Every pip call gets the constraints file, so nothing upgrades numpy to 2.x.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
stack="${MMSIM_STACK:-frozen}"
case "$stack" in
  frozen) torch_pkgs=(torch==2.0.1 torchvision==0.15.2); mmcv_version=2.0.1
          constraints="$root/tools/constraints.txt"; host="${MMSIM_HOST:-mmselfsup}" ;;
  current) torch_pkgs=(torch==2.11.0 torchvision==0.26.0); mmcv_version=2.1.0
           constraints="$root/tools/constraints-current.txt"; host="${MMSIM_HOST:-mmpretrain}"
           if [ "$host" != mmpretrain ]; then
             echo "[setup_env] MMSIM_STACK=current has the mmpretrain host only (mmselfsup 1.0.0 refuses mmcv >= 2.1), got MMSIM_HOST=$host" >&2; exit 2
           fi ;;
  *) echo "[setup_env] MMSIM_STACK must be frozen or current, got '$stack'" >&2; exit 2 ;;
esac
case "$host" in
  mmselfsup) host_pkgs=(mmcls==1.0.0rc6 mmselfsup==1.0.0); default_venv="$root/.venv" ;;
  mmpretrain) host_pkgs=(mmpretrain==1.2.0); default_venv="$root/.venv-mmpretrain" ;;
  *) echo "[setup_env] MMSIM_HOST must be mmselfsup or mmpretrain, got '$host'" >&2; exit 2 ;;
esac
[ "$stack" = current ] && default_venv="$root/.venv-current"
venv="${MMSIM_VENV:-$default_venv}"
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null 2>&1 || py=python3
stamp="$venv/.mmsim-stamp"
want="$( (echo "$stack $host"; cat "$root/tools/setup_env.sh" "$constraints" "$root/setup.cfg") | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
mkdir -p "$(dirname "$venv")"
free_gb=$(df -Pk "$(dirname "$venv")" | awk 'NR==2 {printf "%.1f", $4 / 1048576}')
echo "[setup_env] creating $venv for $host on the $stack stack (first run on a machine takes ~10-15 min: mmcv compiles; ${free_gb} GiB free on its disk, an environment takes 5-6 GB, ~1 GB on the frozen stack when torch is linked from the other host's)" >&2
t0=$(date +%s)
[ -x "$venv/bin/python" ] || "$py" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --disable-pip-version-check -q -c "$constraints")
"${pip[@]}" "pip<24.1" "setuptools<70" wheel
# Both frozen environments hold the same torch build: hard-link its files
# (4.5 GB) from the other one when it has them, so disk and download are paid
# once; pip then finds them installed (tools/link_packages.py).
if [ "$stack" = frozen ] && ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
  for sibling in "$root/.venv" "$root/.venv-mmpretrain"; do
    if [ -x "$sibling/bin/python" ] && ! [ "$sibling" -ef "$venv" ]; then
      "$venv/bin/python" "$root/tools/link_packages.py" "$sibling" "$venv" "${torch_pkgs[@]}" && break
    fi
  done
fi
"${pip[@]}" "${torch_pkgs[@]}" "numpy<2"
if ! "$venv/bin/python" -c "import mmcv, mmcv.ops" 2>/dev/null; then
  if [ "$stack" = frozen ]; then
    MAX_JOBS="${MAX_JOBS:-2}" "${pip[@]}" --no-build-isolation mmcv==$mmcv_version
  else
    # pip's wheel cache keys a built mmcv on mmcv's version, not on the torch
    # it was compiled against (a wheel built for another torch then fails at
    # `import mmcv.ops`: undefined symbol), so build once per torch into a
    # folder of its own inside pip's cache directory and install from there.
    torch_version="$("$venv/bin/python" -c 'import torch; print(torch.__version__)')"
    wheels="$("$venv/bin/python" -m pip cache dir)/mmsim-wheels/torch-$torch_version"
    if ! ls "$wheels"/mmcv-$mmcv_version-*.whl >/dev/null 2>&1; then
      mkdir -p "$wheels"
      MAX_JOBS="${MAX_JOBS:-2}" "$venv/bin/python" -m pip wheel --disable-pip-version-check -q \
        -c "$constraints" --no-build-isolation --no-deps --no-cache-dir -w "$wheels" mmcv==$mmcv_version
    fi
    "${pip[@]}" "$wheels"/mmcv-$mmcv_version-*.whl
  fi
  "$venv/bin/python" -c "import mmcv.ops" || { echo "[setup_env] mmcv.ops does not import in $venv" >&2; exit 1; }
fi
"${pip[@]}" mmengine==0.10.7 "${host_pkgs[@]}" mmdet==3.3.0 openmim==0.3.9 \
  "pycocotools>=2.0,<2.1" pytest pytest-timeout matplotlib \
  tensorboard==2.21.0 scikit-learn==1.9.1  # mmselfsup brings both; mmpretrain neither
# ADE20k transfer (configs/benchmarks/mmsegmentation): mmseg and its pure-Python deps
"${pip[@]}" mmsegmentation==1.2.2 ftfy regex prettytable
# Linters of tools/lint.sh (settings in setup.cfg), run by tools/test.sh
"${pip[@]}" flake8==7.5.0 isort==9.0.2 yapf==0.43.0
"${pip[@]}" --no-build-isolation --no-deps -e "$root"
"$venv/bin/python" -c "import torch, mmcv.ops, mmengine, $host, $host.models, mmdet.models, mmseg, mmsim; print('[setup_env] ok: torch', torch.__version__, 'mmcv', mmcv.__version__, '$host', $host.__version__, 'mmdet', mmdet.__version__, 'mmseg', mmseg.__version__)" >&2
echo "$want" > "$stamp"
echo "[setup_env] done in $(( $(date +%s) - t0 )) s" >&2
