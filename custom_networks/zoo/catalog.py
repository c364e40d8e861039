"""Where the bundles are: installed with the package (``custom_networks.bundles``, the repository's ``bundles/``), or
a folder the user names."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from custom_networks.errors import MissingFileError

__all__ = ["bundle_names", "bundles_root", "find_bundle", "layers_root", "metadata_schema"]


def bundles_root() -> Path:
    """The folder of the bundles installed with ``custom_networks``."""
    return Path(str(files("custom_networks.bundles")))


def metadata_schema() -> Path:
    """The JSON schema of the bundles' ``metadata.json``, shipped with the package: MONAI's ``verify_metadata`` checks
    against it offline when it is passed as ``--filepath`` (see the file's description)."""
    return Path(str(files("custom_networks.zoo") / "metadata_schema.json"))


def layers_root() -> Path:
    """The folder of the layers the bundles' configs are generated from (``template.json`` and ``recipes/``): the
    repository's ``bundle_layers/``, beside ``bundles/`` (a contributor's checkout; not installed)."""
    return bundles_root().resolve().parent / "bundle_layers"


def bundle_names(root: str | Path | None = None) -> list[str]:
    """Names of the bundles (folders holding ``configs/train.json``) in ``root`` (default: the installed ones)."""
    root = bundles_root() if root is None else Path(root)
    return sorted(path.parents[1].name for path in root.glob("*/configs/train.json"))


def find_bundle(bundle: str | Path, root: str | Path | None = None) -> Path:
    """The bundle folder: ``bundle`` itself if it holds ``configs/train.json``, else the bundle of that name in ``root``
    (default: the installed ones).

    Raises:
        MissingFileError: neither exists; the message lists the bundles there are.
    """
    if (Path(bundle) / "configs" / "train.json").is_file():  # a folder: the installed bundles are not needed
        return Path(bundle).resolve()
    root = bundles_root() if root is None else Path(root)
    if (root / str(bundle) / "configs" / "train.json").is_file():
        return (root / str(bundle)).resolve()
    raise MissingFileError(
        f"{bundle}: no such bundle: not a folder with configs/train.json, nor one of {bundle_names(root)}."
    )
