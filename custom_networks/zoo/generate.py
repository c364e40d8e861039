"""Regenerate the bundles' ``configs/*.json`` from the template, the recipes and each ``bundle.json``.

    python -m custom_networks.zoo.generate [--bundles a,b] [--root bundles] [--check]

``--check`` writes nothing and exits 1 if a committed config differs from its generated form.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import fire

from custom_networks.zoo.template import write_configs


def main(bundles: str | Sequence[str] | None = None, root: str | None = None, check: bool = False) -> None:
    """Generate (or with ``check`` compare) the configs.

    Args:
        bundles: bundle names, ``"a,b"`` or a list (default: every folder with a ``bundle.json``).
        root: the bundles folder (default: the bundles installed with ``custom_networks``).
        check: compare only.
    """
    names = [b.strip() for b in bundles.split(",")] if isinstance(bundles, str) else bundles
    changed = write_configs(list(names) if names else None, None if root is None else Path(root), check=check)
    for name, files in changed.items():
        print(f"{name}: {', '.join(files)} {'differ from the generated configs' if check else 'written'}")
    if check and changed:
        sys.exit(1)


if __name__ == "__main__":
    fire.Fire(main)
