"""MONAI implementations of MILDNet, MultiResUNet, MS U-Net and Res-CR-Net, with their training components.

The subpackages are imported when first used (``custom_networks.nets``), so that ``import custom_networks`` and the
``custom-networks`` command's help need neither torch nor MONAI.
"""

import importlib
from types import ModuleType

__version__ = "0.11.0"

__all__ = [
    "allocator",
    "blocks",
    "data",
    "engines",
    "errors",
    "handlers",
    "inferers",
    "losses",
    "metrics",
    "nets",
    "overrides",
    "transforms",
]


def __getattr__(name: str) -> ModuleType:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{name}")
    globals()[name] = module
    return module


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
