"""Figures of test cases from a finished comparison (scripts/cross_validate.py): per network side by side, the
prediction over the image (true positives green, false positives red, false negatives blue) and the gradient
saliency map averaged over the decoder layers.

    python scripts/visualize.py --report_dir cross_validation/<bundle> [--cases a.png,b.png | --num_cases 3]
        [--networks mildnet,unet] [--fold 0] [--class_idx 0] [--output_dir DIR]

Writes ``<report_dir>/figures/<case>.png`` unless ``--output_dir`` says otherwise.

The logic lives in custom_networks.experiments (custom_networks/experiments/visualization.py).
"""

import logging

import fire

from custom_networks.experiments import visualize

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    fire.Fire(visualize)
