"""Per-pixel loss weight maps computed from the label: contour weights (Res-CR-Net), fuzzy boundaries (MS U-Net)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from monai.config import KeysCollection, NdarrayOrTensor
from monai.networks import one_hot
from monai.networks.layers import separable_filtering
from monai.transforms import MapTransform, Transform
from monai.utils import TransformBackends, convert_to_dst_type, convert_to_tensor, ensure_tuple_rep

from custom_networks.transforms.gaussian import opencv_gaussian_sigma

__all__ = ["ContourWeights", "ContourWeightsd", "FuzzyBoundaryWeights", "FuzzyBoundaryWeightsd"]


def _class_channels(label: NdarrayOrTensor, num_classes: int | None = None) -> torch.Tensor:
    """
    Float class channels ``(N, spatial...)`` of a channel-first label: a multi-channel label (one-hot) as it is;
    a one-channel label as one-hot with ``num_classes`` channels when given, else as it is if its values lie in
    [0, 1] (binary mask) and as one-hot of its class indices otherwise.
    """
    label_t = convert_to_tensor(label, dtype=torch.float32, track_meta=False)
    if label_t.ndim not in (3, 4):
        raise ValueError(f"expected a channel-first 2-D or 3-D label, got shape {tuple(label_t.shape)}.")
    if label_t.shape[0] > 1 or (num_classes is None and label_t.max() <= 1):
        return label_t
    return one_hot(label_t, num_classes=num_classes or int(label_t.max()) + 1, dim=0)


class ContourWeights(Transform):
    """
    Res-CR-Net's contour-aware weight map of a channel-first label (2-D or 3-D): A = k×k[×k] mean filter of each
    class channel (padding excluded from the mean); a pixel is on a border where 0.005 < A < 0.995 in any class;
    w = 1 + 2·border, rescaled to mean 1 over the image, then squared. Returns a one-channel float map, or with
    ``per_class=True`` one channel per class, each marking its own class's border and rescaled together (as the
    authors' code does, there over the whole batch).

    The label is one-hot (several channels), a binary mask (one channel, values in [0, 1]) or class indices (one
    channel); a binary mask and its two-class one-hot give the same one-channel map.

    Abdallah et al., "Res-CR-Net, a residual network with a novel architecture optimized for the semantic
    segmentation of microscopy images", Mach. Learn.: Sci. Technol. 1, 045004 (2020),
    https://doi.org/10.1088/2632-2153/aba8e8; weights as in the authors' code.

    Args:
        kernel_size: odd side k of the mean filter; None picks it from the smallest spatial side s of each label:
            11 if s ≤ 150, 21 if s ≤ 300, 31 if s ≤ 600, else 41.
        per_class: whether to return one weight channel per class instead of one shared channel.
        num_classes: number of classes a one-channel label is one-hot encoded to (for ``per_class=True``, so that
            the map has as many channels as the network's output even when a class is absent from the image).
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(self, kernel_size: int | None = None, per_class: bool = False, num_classes: int | None = None) -> None:
        if kernel_size is not None and (kernel_size < 1 or kernel_size % 2 == 0):
            raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}.")
        self.kernel_size = kernel_size
        self.per_class = per_class
        self.num_classes = num_classes

    @staticmethod
    def default_kernel_size(min_side: int) -> int:
        """The authors' mean filter size for an image whose smallest side is ``min_side``."""
        for side, k in ((150, 11), (300, 21), (600, 31)):
            if min_side <= side:
                return k
        return 41

    def __call__(self, label: NdarrayOrTensor) -> NdarrayOrTensor:
        """
        Args:
            label: channel-first label ``(N, H, W[, D])``.
        """
        classes = _class_channels(label, self.num_classes)
        k = self.kernel_size or self.default_kernel_size(min(classes.shape[1:]))
        avg_pool = F.avg_pool2d if classes.ndim == 3 else F.avg_pool3d
        area = avg_pool(classes[None], k, stride=1, padding=k // 2, count_include_pad=False)[0]
        border = (area > 0.005) & (area < 0.995)
        if not self.per_class:
            border = border.any(dim=0, keepdim=True)
        w = 1.0 + 2.0 * border.float()
        w = (w * (w.numel() / w.sum())) ** 2
        return convert_to_dst_type(w, dst=label, dtype=torch.float32)[0]


# distances below this are the blur's float rounding, not a boundary (they would be normalised to 1)
ROUNDING = 1e-4


class FuzzyBoundaryWeights(Transform):
    """
    MS U-Net's fuzzy-boundary confidence map of a channel-first label (2-D or 3-D): d = |t − G_k(t)| with G_k a
    Gaussian blur of kernel size k (reflected borders, as OpenCV's ``GaussianBlur``), "normalized and subtracted from
    a mask of all 1's": w_fb = 1 − d / max(d) (Eq. 1 with the normalisation the text describes; ``normalize=False``
    gives 1 − d, which on a straight edge only falls to about 0.5: 0.52 for k = 61). w_fb is 1 far from label
    boundaries and falls to 0 on the most uncertain boundary pixels of the patch; a label without boundaries weighs 1
    everywhere. A larger k widens the fuzzy band (the paper uses 21 on clean, 61 on noisy annotations). Returns a
    one-channel float map.

    A binary mask (one channel, values in [0, 1]) is blurred as it is; a one-hot label (several channels) or a
    label of class indices (one channel, as one-hot) is blurred channel by channel and a pixel takes its smallest
    confidence over the classes, w_fb = 1 − max_c |t_c − G_k(t_c)|, which for two classes equals the binary map.

    Kurian, Lohan et al., "Deep Multi-Scale U-Net Architecture and Label-Noise Robust Training Strategies for
    Histopathological Image Segmentation", Section III-C, Eq. (1).

    Args:
        kernel_size: odd size k of the Gaussian kernel along each spatial dimension.
        sigma: standard deviation of the Gaussian; None or ≤ 0 derives it from k as OpenCV does
            (:func:`~custom_networks.transforms.gaussian.opencv_gaussian_sigma`: 21 → 3.5, 61 → 9.5).
        normalize: divide d by its maximum over the label (the paper's text); False: Eq. 1 as printed.
    """

    backend = [TransformBackends.TORCH, TransformBackends.NUMPY]

    def __init__(self, kernel_size: int = 21, sigma: float | None = None, normalize: bool = True) -> None:
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd number, got {kernel_size}.")
        if sigma is None or sigma <= 0:
            sigma = opencv_gaussian_sigma(kernel_size)
        x = torch.arange(kernel_size, dtype=torch.float64) - (kernel_size - 1) / 2
        kernel = torch.exp(-(x**2) / (2 * sigma**2))
        self.kernel = (kernel / kernel.sum()).float()
        self.kernel_size = kernel_size
        self.sigma = sigma
        self.normalize = normalize

    def __call__(self, label: NdarrayOrTensor) -> NdarrayOrTensor:
        """
        Args:
            label: channel-first label ``(N, H, W[, D])``; each spatial side must exceed ``kernel_size // 2``
                (reflected padding).
        """
        classes = _class_channels(label)
        if min(classes.shape[1:]) <= self.kernel_size // 2:
            raise ValueError(
                f"spatial shape {tuple(classes.shape[1:])} too small for kernel_size {self.kernel_size} "
                f"(each side must exceed {self.kernel_size // 2})."
            )
        blurred = separable_filtering(classes[None], self.kernel, mode="reflect")[0]
        distance = (classes - blurred).abs().amax(dim=0, keepdim=True)
        if self.normalize:
            distance = distance.where(distance > ROUNDING, 0.0)  # a uniform label blurs to itself, but for rounding
            distance = distance / distance.max() if distance.max() > 0 else distance
        return convert_to_dst_type(1.0 - distance, dst=label, dtype=torch.float32)[0]


class _WeightMapd(MapTransform):
    """Dictionary wrapper writing the weight map of each label key to its output key."""

    def __init__(
        self, keys: KeysCollection, converter: Transform, output_keys: KeysCollection, allow_missing_keys: bool
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.converter = converter
        self.output_keys = ensure_tuple_rep(output_keys, len(self.keys))

    def converter_for(self, data: Mapping[Hashable, Any]) -> Transform:
        """The map of this item (one for every item here)."""
        return self.converter

    def __call__(self, data: Mapping[Hashable, NdarrayOrTensor]) -> dict[Hashable, NdarrayOrTensor]:
        d = dict(data)
        converter = self.converter_for(d)
        for key, output_key in self.key_iterator(d, self.output_keys):
            d[output_key] = converter(d[key])
        return d


class ContourWeightsd(_WeightMapd):
    """
    Dictionary-based wrapper of :py:class:`ContourWeights`: writes the contour weight map of each label key to
    its output key (a MetaTensor label gives a MetaTensor map with the label's metadata).

    Args:
        keys: keys of the labels. See also: :py:class:`monai.transforms.compose.MapTransform`
        kernel_size: odd side of the mean filter; None picks it from the image size.
        per_class: whether to write one weight channel per class instead of one shared channel.
        num_classes: number of classes a one-channel label is one-hot encoded to.
        output_keys: keys to write the weight maps to, one per label key.
        allow_missing_keys: don't raise exception if key is missing.
    """

    backend = ContourWeights.backend

    def __init__(
        self,
        keys: KeysCollection,
        kernel_size: int | None = None,
        per_class: bool = False,
        num_classes: int | None = None,
        output_keys: KeysCollection = "weight",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, ContourWeights(kernel_size, per_class, num_classes), output_keys, allow_missing_keys)


class FuzzyBoundaryWeightsd(_WeightMapd):
    """
    Dictionary-based wrapper of :py:class:`FuzzyBoundaryWeights`: writes the fuzzy-boundary map of each label key
    to its output key (a MetaTensor label gives a MetaTensor map with the label's metadata).

    Args:
        keys: keys of the labels. See also: :py:class:`monai.transforms.compose.MapTransform`
        kernel_size: odd size of the Gaussian kernel (21 for clean, 61 for noisy annotations in the paper).
        sigma: standard deviation of the Gaussian; None or ≤ 0 derives it from ``kernel_size`` as OpenCV does.
        normalize: divide the distance map by its maximum (the paper's text; False: Eq. 1 as printed).
        source_kernel_sizes: kernel size by the item's ``source_key`` value, e.g. ``{"clean": 21, "noisy": 61}`` as
            the paper trains on clean and noisy annotations together; items without that key (or another value)
            get ``kernel_size``.
        source_key: the datalist key naming an item's source.
        output_keys: keys to write the weight maps to, one per label key.
        allow_missing_keys: don't raise exception if key is missing.
    """

    backend = FuzzyBoundaryWeights.backend

    def __init__(
        self,
        keys: KeysCollection,
        kernel_size: int = 21,
        sigma: float | None = None,
        normalize: bool = True,
        source_kernel_sizes: Mapping[str, int] | None = None,
        source_key: str = "source",
        output_keys: KeysCollection = "weight",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, FuzzyBoundaryWeights(kernel_size, sigma, normalize), output_keys, allow_missing_keys)
        self.source_key = source_key
        self.by_source = {
            str(source): FuzzyBoundaryWeights(size, sigma, normalize)
            for source, size in (source_kernel_sizes or {}).items()
        }

    def converter_for(self, data: Mapping[Hashable, Any]) -> Transform:
        """The map of the item's source (its kernel size), else the default one."""
        return self.by_source.get(str(data.get(self.source_key)), self.converter)
