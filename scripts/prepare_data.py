"""Turn a dataset as downloaded into what the bundles read (DATA_DIR/datalist.json + converted files).

    python scripts/prepare_data.py <dataset> --src RAW_DIR --dst DATA_DIR [--seed 0] [--test_fraction 0.3]
        [--num_folds 5] [--<dataset option> VALUE ...]
    python scripts/prepare_data.py synthesize <dataset> --dst RAW_DIR [--count 12] [--size 64]
    python scripts/prepare_data.py datasets
    python scripts/prepare_data.py <dataset> --help

The logic lives in custom_networks.data (custom_networks/data/cli.py).
"""

from custom_networks.data.cli import main

if __name__ == "__main__":
    main()
