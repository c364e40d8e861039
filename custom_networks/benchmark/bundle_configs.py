"""The configs of the installed bundles (:mod:`custom_networks.zoo`), read through MONAI's ``ConfigParser`` as
``python -m monai.bundle run`` reads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from monai.bundle import ConfigParser

from custom_networks.zoo import bundle_names, find_bundle

__all__ = ["bundles_of_rank", "config_file", "parse_config"]


def config_file(bundle: str, name: str) -> Path:
    """``configs/<name>.json`` of the installed ``bundle``."""
    return find_bundle(bundle) / "configs" / f"{name}.json"


def parse_config(path: Path, overrides: dict[str, Any] | None = None) -> ConfigParser:
    """The config at ``path`` with ``overrides``, as ``monai.bundle run`` builds it."""
    parser = ConfigParser()
    parser.read_config(str(path))
    parser.update(overrides or {})
    return parser


def bundles_of_rank(spatial_dims: int, config: str) -> list[str]:
    """Names of the installed bundles with a ``config`` config whose ``roi_size`` has ``spatial_dims`` entries."""
    return [
        bundle
        for bundle in bundle_names()
        if config_file(bundle, config).is_file()
        and len(parse_config(config_file(bundle, config)).get_parsed_content("roi_size")) == spatial_dims
    ]
