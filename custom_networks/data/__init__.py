"""Dataset preparation: each supported raw release → converted files + a MONAI decathlon-style ``datalist.json``.

    from custom_networks.data import prepare, synthesize
    synthesize("dsb2018", "raw", count=12, size=64)        # a small synthetic copy of the raw layout
    prepare("dsb2018", "raw", "data", seed=0)              # data/datalist.json, data/images, data/labels

Command line: ``python scripts/prepare_data.py <dataset> --src RAW_DIR --dst DATA_DIR`` (see :mod:`.cli`).
Labels are written as class indices (0 = background, 1 = foreground, … ; BraTS keeps 0/1/2/4).
"""

from custom_networks.data.class_weights import class_weights
from custom_networks.data.errors import DataPreparationError
from custom_networks.data.loading import (
    datalist_split,
    inference_items,
    readable_items,
    require_datalist,
    require_input,
    require_items,
    volume_items,
    volume_name_formatter,
)
from custom_networks.data.pipeline import DATASETS, prepare
from custom_networks.data.summary import Summary
from custom_networks.data.synthetic import GENERATORS, SYNTHETIC_CLASS_NAMES, SYNTHETIC_PALETTE, synthesize

__all__ = [
    "DATASETS",
    "GENERATORS",
    "SYNTHETIC_CLASS_NAMES",
    "SYNTHETIC_PALETTE",
    "DataPreparationError",
    "Summary",
    "class_weights",
    "datalist_split",
    "inference_items",
    "prepare",
    "readable_items",
    "require_datalist",
    "require_input",
    "require_items",
    "synthesize",
    "volume_items",
    "volume_name_formatter",
]
