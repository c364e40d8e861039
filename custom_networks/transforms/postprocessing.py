"""Post-processing of predicted class masks, per class, as chosen on the validation split (nnU-Net's practice):
keep the largest connected component, remove objects of fewer pixels than a size, fill holes (MONAI's transforms
where they are exact).

A plan is a list of steps ``{"step": name, "label": class value, ...}`` applied in order; ``min_size`` goes with
``remove_small_objects``. :func:`load_postprocessing` reads the plan that ``scripts/choose_postprocessing.py`` wrote
beside the model; without that file there is nothing to apply (off until chosen).
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import torch
from monai.config import KeysCollection
from monai.transforms import FillHoles, KeepLargestConnectedComponent, MapTransform, Transform
from skimage.measure import label as connected_components

from custom_networks.errors import BadValueError

__all__ = ["POSTPROCESSING_FILE", "STEPS", "PostprocessMasks", "PostprocessMasksd", "load_postprocessing"]

#: The chosen plan's file, in the bundle's ``models/`` beside ``model.pt``.
POSTPROCESSING_FILE = "postprocessing.json"
STEPS = ("keep_largest_component", "remove_small_objects", "fill_holes")


def _remove_small_objects(mask: torch.Tensor, min_size: int) -> torch.Tensor:
    """``mask`` (1, spatial…) without its connected components (full connectivity) of fewer than ``min_size`` pixels.
    MONAI's ``RemoveSmallObjects`` hands ``min_size`` to scikit-image, whose releases disagree on whether an object of
    exactly that size stays."""
    components = torch.as_tensor(connected_components(mask[0].numpy(), connectivity=mask.ndim - 1))
    sizes = torch.bincount(components.flatten())
    keep = sizes >= min_size
    keep[0] = False
    return keep[components][None]


def _apply(step: Mapping[str, Any], labels: torch.Tensor) -> torch.Tensor:
    """One step on a label map (1, spatial…): pixels the step removes from its class become background (0), pixels
    it adds (filled holes) become the class."""
    label = int(step["label"])
    mask = labels == label
    if step["step"] == "keep_largest_component":
        transform = KeepLargestConnectedComponent(applied_labels=[1], is_onehot=False)
    elif step["step"] == "remove_small_objects":
        transform = partial(_remove_small_objects, min_size=int(step["min_size"]))
    else:
        transform = FillHoles(applied_labels=[1])
    kept = torch.as_tensor(transform(mask.to(torch.uint8))).to(torch.bool)  # (MONAI's may change its input)
    result = labels.clone()
    result[mask & ~kept] = 0
    result[kept] = label
    return result


class PostprocessMasks(Transform):
    """Apply a post-processing plan to a prediction: a label map (1, spatial…; binary 0/1 or class indices) or a
    one-hot mask (C, spatial…), returned in the same form.

    Args:
        steps: the plan, ``[{"step": "keep_largest_component" | "remove_small_objects" | "fill_holes", "label": c,
            "min_size": n (remove_small_objects only)}, ...]``; empty: the prediction is returned as it is.
    """

    def __init__(self, steps: Sequence[Mapping[str, Any]] = ()) -> None:
        for step in steps:
            if step.get("step") not in STEPS or "label" not in step:
                raise BadValueError(f"post-processing step {dict(step)} is not one of {STEPS} with a 'label'.")
            if step["step"] == "remove_small_objects" and int(step.get("min_size", 0)) < 1:
                raise BadValueError(f"post-processing step {dict(step)} needs a 'min_size' of at least 1.")
        self.steps = [dict(step) for step in steps]

    def __call__(self, pred: torch.Tensor) -> torch.Tensor:
        if not self.steps:
            return pred
        plain = pred.as_subclass(torch.Tensor)  # MetaTensor's metadata stays on ``pred``, which is filled in place
        one_hot = plain.shape[0] > 1
        labels = plain.argmax(0, keepdim=True) if one_hot else plain.round().to(torch.int64)
        for step in self.steps:
            labels = _apply(step, labels)
        if one_hot:
            channels = torch.arange(plain.shape[0], device=labels.device).view(-1, *([1] * (plain.ndim - 1)))
            labels = labels == channels
        result = pred.clone()
        result.copy_(labels.to(plain.dtype))
        return result


class PostprocessMasksd(MapTransform):
    """Dictionary version of :class:`PostprocessMasks`.

    Args:
        keys: the prediction keys.
        steps: the plan (see :class:`PostprocessMasks`), e.g. ``load_postprocessing(ckpt_dir)``.
    """

    def __init__(self, keys: KeysCollection, steps: Sequence[Mapping[str, Any]] = ()) -> None:
        super().__init__(keys)
        self.transform = PostprocessMasks(steps)

    def __call__(self, data: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.transform(d[key])
        return d


def load_postprocessing(ckpt_dir: str | Path) -> list[dict[str, Any]]:
    """The plan chosen for the model in ``ckpt_dir`` (``postprocessing.json``), or none while it has not been chosen.

    Raises:
        BadValueError: the file is not a plan.
    """
    path = Path(ckpt_dir) / POSTPROCESSING_FILE
    if not path.is_file():
        return []
    try:
        steps = json.loads(path.read_text(encoding="utf-8"))["steps"]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise BadValueError(f"{path}: not a post-processing plan ({exc}); choose it again or delete it.") from exc
    PostprocessMasks(steps)  # checks every step
    return steps
