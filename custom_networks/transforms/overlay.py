"""Overlay of a binary prediction on its image: true positives green, false positives red, false negatives blue."""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.transforms import MapTransform, SaveImage

__all__ = ["SaveOverlayd", "overlay_errors"]

TP_COLOUR = (0.0, 1.0, 0.0)
FP_COLOUR = (1.0, 0.0, 0.0)
FN_COLOUR = (0.0, 0.0, 1.0)


def overlay_errors(image: torch.Tensor, pred: torch.Tensor, label: torch.Tensor, alpha: float = 0.5) -> torch.Tensor:
    """RGB uint8 overlay ``(3, *spatial)`` of ``pred`` against ``label`` on ``image``.

    Args:
        image: ``(C, *spatial)``; the first three channels (or the single channel as grey) are min-max scaled.
        pred: ``(1, *spatial)`` binary prediction (values > 0.5 are foreground).
        label: ``(1, *spatial)`` binary ground truth.
        alpha: opacity of the colours.
    """
    rgb = torch.as_tensor(image, dtype=torch.float32).detach().cpu()
    rgb = rgb[:3] if rgb.shape[0] >= 3 else rgb[:1].expand(3, *rgb.shape[1:])
    rgb = (rgb - rgb.min()) / (rgb.max() - rgb.min()).clamp_min(1e-8)
    p = torch.as_tensor(pred).detach().cpu()[0] > 0.5
    t = torch.as_tensor(label).detach().cpu()[0] > 0.5
    for mask, colour in ((p & t, TP_COLOUR), (p & ~t, FP_COLOUR), (~p & t, FN_COLOUR)):
        tint = torch.tensor(colour).view(3, *([1] * mask.dim()))
        rgb = torch.where(mask, (1 - alpha) * rgb + alpha * tint, rgb)
    return (rgb * 255).round().to(torch.uint8)


class SaveOverlayd(MapTransform):
    """Write :func:`overlay_errors` of ``pred_key`` vs ``label_key`` on ``image_key`` as ``<image name>_overlay.png``.

    Placed in an evaluator's post-processing (after thresholding); the data passes through unchanged. The PNG has the
    image's orientation (it is written with the image's metadata by MONAI's ``SaveImage``).

    Args:
        output_dir: folder of the PNG files.
        image_key: key of the input image (a ``MetaTensor`` carrying ``filename_or_obj``).
        pred_key: key of the binary prediction.
        label_key: key of the binary ground truth.
        alpha: opacity of the colours.
    """

    def __init__(
        self,
        output_dir: str,
        image_key: str = "image",
        pred_key: str = "pred",
        label_key: str = "label",
        alpha: float = 0.5,
    ):
        keys: KeysCollection = [image_key, pred_key, label_key]
        super().__init__(keys)
        self.image_key, self.pred_key, self.label_key, self.alpha = image_key, pred_key, label_key, alpha
        self.saver = SaveImage(
            output_dir=output_dir,
            output_postfix="overlay",
            output_ext=".png",
            output_dtype=np.uint8,
            resample=False,
            separate_folder=False,
            print_log=False,
        )

    def __call__(self, data: Mapping[Hashable, torch.Tensor]) -> Mapping[Hashable, torch.Tensor]:
        image = data[self.image_key]
        if image.dim() != 3:
            raise ValueError(f"SaveOverlayd draws 2-D images (C, H, W), got shape {tuple(image.shape)}.")
        overlay = overlay_errors(image, data[self.pred_key], data[self.label_key], self.alpha)
        meta = dict(image.meta) if isinstance(image, MetaTensor) else {}
        self.saver(MetaTensor(overlay, meta=meta))
        return data
