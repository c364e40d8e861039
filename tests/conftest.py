"""Test order: the modules with slow tests first.

``scripts/test.sh`` runs the suite on two pytest-xdist workers, each taking whole modules in collection order
(``--dist loadfile``); when the long modules start first, the short ones fill the end and neither worker waits
alone for a long module at the end. Each module keeps its tests together and in order, so its module-scoped fixtures
are built once.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    slow_modules = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_modules)  # stable: modules and tests keep their order
