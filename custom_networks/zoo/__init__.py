"""The bundles of this project as a collection: where they are installed, and their configs generated from one shared
template, the paper recipes and each bundle's own file (``bundle.json``).

    from custom_networks.zoo import bundle_names, find_bundle
    find_bundle("mildnet_dsb2018_nuclei")  # the bundle folder, from the installed package or a given path

Regenerate the configs after editing a template, recipe or ``bundle.json``: ``python -m custom_networks.zoo.generate``.
"""

from custom_networks.zoo.catalog import bundle_names, bundles_root, find_bundle, metadata_schema
from custom_networks.zoo.template import BundleSource, generate_configs, write_configs

__all__ = [
    "BundleSource",
    "bundle_names",
    "bundles_root",
    "find_bundle",
    "generate_configs",
    "metadata_schema",
    "write_configs",
]
