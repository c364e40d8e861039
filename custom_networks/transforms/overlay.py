"""Overlay of a prediction on its image: true positives green, false positives red, false negatives blue.

Binary and multi-class predictions alike: every value is reduced to a class index (0 = background) and a pixel is a
true positive when prediction and ground truth name the same foreground class, a false positive when the prediction
names a foreground class the ground truth does not, and a false negative when the ground truth names a foreground
class and the prediction says background. For two classes this is the usual binary TP / FP / FN.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import numpy as np
import torch
from monai.config import KeysCollection
from monai.data import MetaTensor
from monai.transforms import MapTransform, SaveImage

__all__ = ["SaveOverlayd", "class_indices", "overlay_errors"]

TP_COLOUR = (0.0, 1.0, 0.0)
FP_COLOUR = (1.0, 0.0, 0.0)
FN_COLOUR = (0.0, 0.0, 1.0)


def class_indices(x: torch.Tensor) -> torch.Tensor:
    """Class index map ``(*spatial)`` (int64, 0 = background) of a channel-first prediction or label.

    Several channels (one-hot, probabilities or logits) give the argmax over the channels. One channel holds class
    indices, or a binary mask or probability in [0, 1]: a value v becomes ``ceil(v - 0.5)``, the nearest index with
    halves rounded down, so a binary channel is foreground where v > 0.5 and an index image keeps its indices.

    Args:
        x: ``(C, *spatial)`` tensor or array.
    """
    t = torch.as_tensor(x).detach().cpu()
    if t.shape[0] > 1:
        return t.argmax(dim=0)
    return torch.ceil(t[0].float() - 0.5).clamp_min(0).long()


def overlay_errors(image: torch.Tensor, pred: torch.Tensor, label: torch.Tensor, alpha: float = 0.5) -> torch.Tensor:
    """RGB uint8 overlay ``(3, *spatial)`` of ``pred`` against ``label`` on ``image``.

    With p and t the class indices (:func:`class_indices`) of prediction and ground truth, class 0 the background:
    true positive (green) where p == t != 0, false positive (red) where p != 0 and p != t (a foreground class that
    is wrong, including one foreground class mistaken for another), false negative (blue) where t != 0 and p == 0;
    the image is left as it is elsewhere.

    Args:
        image: ``(C, *spatial)``; the first three channels (or the single channel as grey) are min-max scaled.
        pred: ``(1, *spatial)`` binary mask / probability (> 0.5 is foreground) or class indices, or
            ``(N, *spatial)`` one-hot / per-class scores (argmax).
        label: ground truth in the same forms as ``pred``.
        alpha: opacity of the colours.

    Raises:
        ValueError: When prediction and label do not have the image's spatial shape.
    """
    rgb = torch.as_tensor(image, dtype=torch.float32).detach().cpu()
    rgb = rgb[:3] if rgb.shape[0] >= 3 else rgb[:1].expand(3, *rgb.shape[1:])
    rgb = (rgb - rgb.min()) / (rgb.max() - rgb.min()).clamp_min(1e-8)
    p, t = class_indices(pred), class_indices(label)
    if p.shape != rgb.shape[1:] or t.shape != rgb.shape[1:]:
        raise ValueError(
            f"prediction {tuple(p.shape)} and label {tuple(t.shape)} must have the image's spatial shape "
            f"{tuple(rgb.shape[1:])}."
        )
    tp = (p == t) & (t != 0)
    fp = (p != 0) & (p != t)
    fn = (t != 0) & (p == 0)
    for mask, colour in ((tp, TP_COLOUR), (fp, FP_COLOUR), (fn, FN_COLOUR)):
        tint = torch.tensor(colour).view(3, *([1] * mask.dim()))
        rgb = torch.where(mask, (1 - alpha) * rgb + alpha * tint, rgb)
    return (rgb * 255).round().to(torch.uint8)


class SaveOverlayd(MapTransform):
    """Write :func:`overlay_errors` of ``pred_key`` vs ``label_key`` on ``image_key`` as ``<image name>_overlay.png``.

    Placed in an evaluator's post-processing (after thresholding, or after ``AsDiscreted(argmax=True, to_onehot=N)``
    of a multi-class prediction and label); the data passes through unchanged. The PNG has the image's orientation
    (it is written with the image's metadata by MONAI's ``SaveImage``).

    Args:
        output_dir: folder of the PNG files.
        image_key: key of the input image (a ``MetaTensor`` carrying ``filename_or_obj``).
        pred_key: key of the prediction: one binary / class-index channel, or one channel per class.
        label_key: key of the ground truth, in the same forms.
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
