#!/usr/bin/env bash
# MILDNet against U-Net on the 100-image DSB-2018 sample in ../shared/data, by 5-fold cross-validation through the
# mildnet_dsb2018_nuclei bundle (CPU settings).
# Usage: bash scripts/dsb_sample_compare.sh [OUT_DIR]   (EPOCHS, VAL_INTERVAL, FEATURES, ROI, FOLDS, DSB_SAMPLE may be set)
# Prepares the sample (70 % training in 5 folds, 30 % test), trains each network once per validation fold, evaluates
# every run on the 30 test images and writes the report (results.csv, summary.md, box plots, training curves) and
# side-by-side figures of three test images. Reduced widths, crops and epochs so that it fits a CPU.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup_env.sh

OUT="${1:-dsb_sample_compare}"
SAMPLE="${DSB_SAMPLE:-../shared/data/dsb2018_stage1_train_subset}"
EPOCHS="${EPOCHS:-15}"
VAL_INTERVAL="${VAL_INTERVAL:-5}"
FEATURES="${FEATURES:-[16,32,64,128,256]}"
ROI="${ROI:-[128,128]}"
FOLDS="${FOLDS:-0,1,2,3,4}"

[ -d "$SAMPLE" ] || { echo "DSB sample not found at $SAMPLE" >&2; exit 1; }
[ -f "$OUT/data/datalist.json" ] || python scripts/prepare_data.py dsb2018 --src "$SAMPLE" --dst "$OUT/data" --progress False
python scripts/cross_validate.py --bundle mildnet_dsb2018_nuclei --dataset_dir "$OUT/data" --networks mildnet,unet \
  --folds "$FOLDS" --epochs "$EPOCHS" --output_dir "$OUT/report" \
  --features "$FEATURES" --roi_size "$ROI" --val_interval "$VAL_INTERVAL" --num_workers 0 --progress False
python scripts/visualize.py --report_dir "$OUT/report" --num_cases 3
cat "$OUT/report/summary.md"
