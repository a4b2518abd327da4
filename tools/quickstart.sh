#!/usr/bin/env bash
# The quick start's main job, on CPU: set up the environment if needed,
# generate the built-in shapes dataset, pre-train SIM through mmselfsup's own
# runner (`mim train mmselfsup`; the kNN monitor and the dense probe log the
# encoder's progress), then convert the checkpoint and fine-tune the tiny
# Mask R-CNN on the generated COCO-format set from it and from the
# detector's own random init (at once, one thread each), and print a
# summary table with the phase times. SKIP_DET=1 stops after pre-training;
# DET_INIT=1 also fine-tunes the encoder at its initialisation (a third
# run on the same two cores: a few more minutes). MMSIM_HOST=mmpretrain runs
# the same job through mmpretrain 1.2 (`mim train mmpretrain`, its own
# environment .venv-mmpretrain and configs/mmpretrain/); MMSIM_STACK=current
# runs it through mmpretrain on the current stack (torch 2.11,
# .venv-current, work dirs work_dirs/quickstart_*_current).
set -euo pipefail
cd "$(dirname "$0")/.."
stack="${MMSIM_STACK:-frozen}"
host="${MMSIM_HOST:-mmselfsup}"
[ "$stack" = current ] && host=mmpretrain
if [ "$stack" = current ]; then
  venv=.venv-current; suffix=_current
  cfg=configs/mmpretrain/sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py
elif [ "$host" = mmpretrain ]; then
  venv=.venv-mmpretrain; suffix=_mmpretrain
  cfg=configs/mmpretrain/sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py
else
  venv=.venv; suffix=
  cfg=configs/sim/sim_vit-tiny-p16_1xb32-coslr-8e_shapes.py
fi
t0=$(date +%s)
export MMSIM_STACK=$stack MMSIM_HOST=$host
bash tools/setup_env.sh
t1=$(date +%s)
py=$venv/bin/python
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
$py tools/data/generate_shapes.py data/shapes
t2=$(date +%s)
work=work_dirs/quickstart_sim$suffix
$venv/bin/mim train "$host" "$cfg" --work-dir "$work"
ckpt="$work/epoch_8.pth"
echo "[quickstart] SIM checkpoint: $ckpt"
t3=$(date +%s)
det=work_dirs/quickstart_det$suffix
if [ "${SKIP_DET:-0}" != 1 ]; then
  rm -f "$det/metrics.json"
  init=()
  if [ "${DET_INIT:-0}" = 1 ]; then init=(--init-config "$cfg"); fi
  $py tools/transfer_quickstart.py --task det --checkpoint "$ckpt" \
    --data-root data/shapes/det --work-dir "$det" ${init[@]+"${init[@]}"} \
    --also-random-init --parallel
fi
t4=$(date +%s)
$py tools/quickstart_summary.py --pretrain-work-dir "$work" \
  --det-metrics "$det/metrics.json" \
  --times setup=$((t1 - t0)) data=$((t2 - t1)) pretrain=$((t3 - t2)) \
  detection=$((t4 - t3))
