#!/usr/bin/env bash
# Real-data run of mildnet_dsb2018_nuclei on the 100-image DSB-2018 sample in ../shared/data (CPU settings).
# Usage: bash scripts/dsb_sample_run.sh [OUT_DIR]   (EPOCHS, FEATURES, ROI and DSB_SAMPLE may be set in the environment)
# Prepares the sample (70 % training in 5 folds, 30 % test), trains on folds 1-4 with fold 0 validating, evaluates the
# best model on the test split and prints the test metrics. Reduced widths and epochs so that it fits a CPU; the
# bundle's defaults (features 32..512, 100 epochs) are the paper's.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh

OUT="${1:-dsb_sample_run}"
SAMPLE="${DSB_SAMPLE:-../shared/data/dsb2018_stage1_train_subset}"
BUNDLE=bundles/mildnet_dsb2018_nuclei
EPOCHS="${EPOCHS:-30}"
FEATURES="${FEATURES:-[16,32,64,128,256]}"
ROI="${ROI:-[256,256]}"
SETTINGS=(--features "$FEATURES" --roi_size "$ROI" --num_workers 2 --progress False)

[ -d "$SAMPLE" ] || { echo "DSB sample not found at $SAMPLE" >&2; exit 1; }
python scripts/prepare_data.py dsb2018 --src "$SAMPLE" --dst "$OUT/data" --progress False
python -m monai.bundle run training --bundle_root "$OUT/bundle" --config_file "$BUNDLE/configs/train.json" \
  --logging_file "$BUNDLE/configs/logging.conf" --dataset_dir "$OUT/data" --max_epochs "$EPOCHS" "${SETTINGS[@]}"
python -m monai.bundle run --bundle_root "$OUT/bundle" \
  --config_file "['$BUNDLE/configs/train.json','$BUNDLE/configs/evaluate.json']" \
  --logging_file "$BUNDLE/configs/logging.conf" --dataset_dir "$OUT/data" --output_dir "$OUT/eval" "${SETTINGS[@]}"
echo "Test-split metrics (epochs $EPOCHS, features $FEATURES, crops $ROI):"
column -s, -t < "$OUT/eval/metrics.csv"
