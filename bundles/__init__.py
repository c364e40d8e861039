"""The bundles, installed as package data of ``custom_networks`` (``custom_networks.bundles``): one folder per bundle
(``configs/``, ``docs/``, ``LICENSE``), the shared template and the paper recipes they are generated from.
Find them with :mod:`custom_networks.zoo`."""
