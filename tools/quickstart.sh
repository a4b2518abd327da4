#!/usr/bin/env bash
# The quick start's main job, on CPU: set up the environment if needed,
# generate the built-in shapes dataset, pre-train SIM through mmselfsup's own
# runner (`mim train mmselfsup`), then convert the checkpoint and fine-tune
# the tiny Mask R-CNN on the generated COCO-format set, printing box/mask AP.
# SKIP_DET=1 stops after pre-training.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup_env.sh
py=.venv/bin/python
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"
$py tools/data/generate_shapes.py data/shapes
cfg=configs/sim/sim_vit-tiny-p16_1xb32-coslr-10e_shapes.py
work=work_dirs/quickstart_sim
.venv/bin/mim train mmselfsup "$cfg" --work-dir "$work"
ckpt="$work/epoch_10.pth"
echo "[quickstart] SIM checkpoint: $ckpt"
if [ "${SKIP_DET:-0}" != 1 ]; then
  $py tools/det_quickstart.py --checkpoint "$ckpt" --data-root data/shapes/det \
    --work-dir work_dirs/quickstart_det --also-random-init --num-threads 1
fi
