"""Output transforms that hand one channel of a multi-label prediction to a metric handler."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from monai.handlers import from_engine

__all__ = ["from_engine_channel"]


def from_engine_channel(keys: Sequence[str], channel: int) -> Callable[[Any], tuple[list[Any], ...]]:
    """``monai.handlers.from_engine(keys)`` with every item cut to channel ``channel`` (kept as a 1-channel item).

    Per-region metrics of multi-label outputs, e.g. BraTS tumour core / whole tumour / enhancing tumour Dice as
    three named metrics: ``"output_transform": "$custom_networks.handlers.from_engine_channel(['pred', 'label'], 0)"``.
    """
    select = from_engine(keys)

    def transform(data: Any) -> tuple[list[Any], ...]:
        return tuple([item[channel : channel + 1] for item in items] for items in select(data))

    return transform
