"""BraTS label volumes from the three multi-label region channels a network predicts (the inverse of MONAI's
``ConvertToMultiChannelBasedOnBratsClasses``).

Menze et al., "The Multimodal Brain Tumor Image Segmentation Benchmark (BRATS)", IEEE TMI 34(10), 2015: tumour core
TC = NCR/NET ∪ ET, whole tumour WT = NCR/NET ∪ ED ∪ ET, enhancing tumour ET; labels 1 = NCR/NET, 2 = ED, 4 = ET.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping

import torch
from monai.config import KeysCollection, NdarrayOrTensor
from monai.transforms import MapTransform, Transform
from monai.utils import convert_to_tensor

__all__ = ["BratsRegionsToLabels", "BratsRegionsToLabelsd"]


class BratsRegionsToLabels(Transform):
    """Binary region channels (TC, WT, ET), channel first, → one channel of BraTS labels 0, 1, 2, 4.

    ET → 4; TC outside ET → 1 (necrotic / non-enhancing core); WT outside TC and ET → 2 (edema). Predicted regions
    need not nest: a voxel in ET or TC but not WT is still labelled 4 or 1, so every voxel of any region is tumour.
    Metadata of a ``MetaTensor`` input is kept.

    Raises:
        ValueError: the input does not have exactly three channels.
    """

    def __call__(self, img: NdarrayOrTensor) -> torch.Tensor:
        regions = convert_to_tensor(img, track_meta=True)
        if regions.shape[0] != 3:
            raise ValueError(f"expected 3 region channels (TC, WT, ET), got shape {tuple(regions.shape)}.")
        tc, wt, et = (regions[i : i + 1] > 0.5 for i in range(3))
        labels = torch.zeros_like(regions[:1], dtype=torch.uint8)
        labels[wt] = 2
        labels[tc] = 1
        labels[et] = 4
        return labels


class BratsRegionsToLabelsd(MapTransform):
    """Dictionary version of :class:`BratsRegionsToLabels`."""

    def __init__(self, keys: KeysCollection, allow_missing_keys: bool = False) -> None:
        super().__init__(keys, allow_missing_keys)
        self.converter = BratsRegionsToLabels()

    def __call__(self, data: Mapping[Hashable, NdarrayOrTensor]) -> dict[Hashable, NdarrayOrTensor]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.converter(d[key])
        return d
