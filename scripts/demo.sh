#!/usr/bin/env bash
# Quick start: set up .venv, generate a small sample in the DSB-2018 raw layout, prepare it, train the default 2-D
# bundle (mildnet_dsb2018_nuclei) for a few epochs, evaluate it on the test split and run inference.
# Everything is written under demo_output/ (override with DEMO_OUTPUT=...). CPU only: about 5 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh

OUT="${DEMO_OUTPUT:-demo_output}"
BUNDLE=bundles/mildnet_dsb2018_nuclei
EPOCHS="${DEMO_EPOCHS:-25}"
rm -rf "$OUT"
mkdir -p "$OUT"
# Small settings so that the demo runs on a laptop CPU; the bundle's defaults are the paper's (see its docs/README.md).
SMALL=(--features "[16,32,64,128,256]" --roi_size "[128,128]" --num_workers 2 --progress False)

echo "== 1/5 sample data: 40 synthetic images in the DSB-2018 stage1_train layout"
python scripts/prepare_data.py synthesize dsb2018 --dst "$OUT/raw" --count 40 --size 128

echo "== 2/5 prepare: datalist.json with 5 folds and a 30 % test split"
python scripts/prepare_data.py dsb2018 --src "$OUT/raw" --dst "$OUT/data"

echo "== 3/5 train $BUNDLE for $EPOCHS epochs (fold 0 validates)"
python -m monai.bundle run training --bundle_root "$OUT/bundle" --config_file "$BUNDLE/configs/train.json" \
  --meta_file "$BUNDLE/configs/metadata.json" --logging_file "$BUNDLE/configs/logging.conf" \
  --dataset_dir "$OUT/data" --max_epochs "$EPOCHS" "${SMALL[@]}"

echo "== 4/5 evaluate on the test split (metrics CSV and TP/FP/FN overlays)"
python -m monai.bundle run --bundle_root "$OUT/bundle" \
  --config_file "['$BUNDLE/configs/train.json','$BUNDLE/configs/evaluate.json']" \
  --meta_file "$BUNDLE/configs/metadata.json" --logging_file "$BUNDLE/configs/logging.conf" \
  --dataset_dir "$OUT/data" --output_dir "$OUT/eval" "${SMALL[@]}"

echo "== 5/5 infer: masks for the test images"
python -m monai.bundle run --bundle_root "$OUT/bundle" --config_file "$BUNDLE/configs/inference.json" \
  --meta_file "$BUNDLE/configs/metadata.json" --logging_file "$BUNDLE/configs/logging.conf" \
  --dataset_dir "$OUT/data" --output_dir "$OUT/predictions" \
  --features "[16,32,64,128,256]" --roi_size "[128,128]" --num_workers 2

echo
echo "Test-split metrics (mean over cases; Hausdorff distances in pixels):"
column -s, -t < "$OUT/eval/metrics.csv"
echo
echo "Per-case metrics: $OUT/eval/*_raw.csv"
echo "Overlays (green TP, red FP, blue FN): $OUT/eval/overlays/"
echo "Predicted masks: $OUT/predictions/"
echo "Model: $OUT/bundle/models/model.pt; TensorBoard: tensorboard --logdir $OUT/bundle/logs"
