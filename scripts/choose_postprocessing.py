"""Choose a trained bundle's post-processing on its validation split (keep the largest component, remove small
objects, fill holes; per class, each kept only if it raises the validation Dice) and write it where evaluation and
inference read it (models/postprocessing.json).

    python scripts/choose_postprocessing.py --help

The same as the installed command ``custom-networks postprocess`` (its usage and logic: custom_networks/cli.py).
"""

import sys

from custom_networks.cli import run_command

if __name__ == "__main__":
    run_command("postprocess", sys.argv[1:])
