"""Compare networks through a bundle by cross-validation, as the MILDNet paper does, and write a report.

    python scripts/cross_validate.py --bundle <name or folder> --dataset_dir DATA_DIR [--networks mildnet,unet,...]
        [--folds 0,1,2,3,4] [--epochs N] [--output_dir DIR] [--baseline unet] [--<bundle key> VALUE ...]

Each network is trained once per validation fold (``python -m monai.bundle run`` with the bundle's configs and
overrides) and evaluated on the test split; the report folder (default ``cross_validation/<bundle>``) gets
``results.csv``, ``summary.md``, ``summary.csv``, box plots and training curves. Extra ``--key value`` pairs
override the bundle's config in every run (``--features "[16,32,64,128,256]" --num_workers 0 --progress False``).
Run the same command again to resume an interrupted comparison. Networks: mildnet, unet, residualunet,
multiresunet, unetplusplus, msunet, rescrnet.

The logic lives in custom_networks.experiments (custom_networks/experiments/cross_validation.py).
"""

import logging

import fire

from custom_networks.experiments import cross_validate

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    fire.Fire(cross_validate)
