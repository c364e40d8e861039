"""Mixed precision on any device: an inferer run under ``torch.autocast``, for the CPU where MONAI's ``amp`` is off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from monai.inferers import Inferer

__all__ = ["AutocastInferer"]


class AutocastInferer(Inferer):
    """Wraps an inferer (``SimpleInferer``, ``SlidingWindowInferer`` …) and runs it under ``torch.autocast`` on
    the device of its input, returning float32 outputs so that losses and postprocessing see full precision.

    MONAI's engines autocast only on CUDA (their ``amp`` argument); this wrapper gives the bundles' ``amp`` switch
    the same effect on the CPU, where bf16 autocast roughly halves the training-step time of the encoder–decoder
    networks on a CPU with AVX-512 BF16 (``docs/performance.md``). In training, autograd records the casts, so the
    backward pass runs in the same precisions. On CUDA it may be nested in MONAI's own autocast with the same
    dtype. With ``enabled=False`` it is the wrapped inferer unchanged.

    Args:
        inferer: the inferer to run.
        enabled: whether to autocast.
        dtype: autocast precision, ``"bfloat16"`` or ``"float16"`` (a name of a ``torch`` dtype or the dtype).

    Raises:
        ValueError: ``dtype`` is not a 16-bit floating-point type.
    """

    def __init__(self, inferer: Inferer, enabled: bool = True, dtype: str | torch.dtype = "bfloat16") -> None:
        super().__init__()
        self.inferer = inferer
        self.enabled = bool(enabled)
        self.dtype = getattr(torch, dtype, None) if isinstance(dtype, str) else dtype
        if self.dtype not in (torch.bfloat16, torch.float16):
            raise ValueError(f"autocast dtype must be 'bfloat16' or 'float16', got {dtype!r}.")

    def __call__(
        self, inputs: torch.Tensor, network: Callable[..., torch.Tensor], *args: Any, **kwargs: Any
    ) -> torch.Tensor:
        """
        Args:
            inputs: input batch (N, C, spatial...).
            network: model run by the wrapped inferer.
            args, kwargs: passed to the wrapped inferer.
        """
        if not self.enabled:
            return self.inferer(inputs, network, *args, **kwargs)
        with torch.autocast(inputs.device.type, dtype=self.dtype):
            outputs = self.inferer(inputs, network, *args, **kwargs)
        return outputs.float() if outputs.is_floating_point() else outputs
