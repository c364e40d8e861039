"""Joint albumentations augmentation of an image and its masks, and MILDNet's training augmentation.

Gudhe et al., "Multi-level dilated residual network for biomedical image segmentation", Scientific Reports 11,
14105 (2021), Section "Training protocol" (affine, elastic and pixel-level augmentation with Albumentations).
"""

import random
from collections.abc import Hashable, Mapping, Sequence

import albumentations as A
import cv2
import numpy as np
import torch
from monai.config import KeysCollection, NdarrayOrTensor
from monai.transforms import MapTransform, Randomizable
from monai.utils import MAX_SEED, convert_to_dst_type, convert_to_numpy

from custom_networks.transforms.gaussian import opencv_gaussian_sigma

__all__ = ["Albumentationsd", "mildnet_augmentation"]

AlbumentationsTransform = A.BaseCompose | A.BasicTransform


class Albumentationsd(Randomizable, MapTransform):
    """Apply an albumentations pipeline jointly to a 2-D channel-first image and its masks.

    The image goes through the whole pipeline; every other key is an albumentations ``mask`` target, so it only
    follows the spatial transforms (with the transforms' ``mask_interpolation``, nearest by default) and keeps its
    values. Data are converted to the channel-last numpy arrays albumentations expects and back to the input type
    (numpy, tensor or ``MetaTensor`` with its metadata), dtype and device. The affine is not updated:
    albumentations does not expose the geometry it applied, so this is a training augmentation, not invertible.

    Images must be ``uint8`` (range 0–255) or floating point in [0, 1] (albumentations' float convention; its
    pixel-level transforms clip to it): scale float images first, e.g. with ``ScaleIntensityd``. Floating images are
    processed as float32, masks as float32 (exact for integer labels below 2**24); integer masks are rounded back.

    Randomness is drawn from the MONAI random state (``set_random_state``, ``monai.utils.set_determinism`` with
    ``monai.transforms.Compose``, the data loader's worker seeding): every call seeds albumentations from it.

    Args:
        keys: keys of the image and the masks to transform.
        transform: an ``albumentations.Compose``, or one albumentations transform or a sequence of them (wrapped
            into a ``Compose``). Mask targets are registered on it with ``add_targets``.
        image_key: the key of the image; defaults to the first key. All other keys are masks.
        prob: probability of applying the pipeline at all (the albumentations transforms keep their own ``p``).
        allow_missing_keys: don't raise an exception if a key is missing.

    Raises:
        ValueError: when ``image_key`` is not one of ``keys``.
    """

    def __init__(
        self,
        keys: KeysCollection,
        transform: AlbumentationsTransform | Sequence[AlbumentationsTransform],
        image_key: str | None = None,
        prob: float = 1.0,
        allow_missing_keys: bool = False,
    ) -> None:
        MapTransform.__init__(self, keys, allow_missing_keys)
        self.prob = prob
        self.image_key = self.keys[0] if image_key is None else image_key
        if self.image_key not in self.keys:
            raise ValueError(f"image_key '{self.image_key}' must be one of keys {self.keys}.")
        if not isinstance(transform, A.Compose):
            transform = A.Compose([transform] if isinstance(transform, AlbumentationsTransform) else list(transform))
        self.transform = transform
        # albumentations target names: the image, then generated names so that no key clashes with its own targets
        masks = [key for key in self.keys if key != self.image_key]
        self.targets = {self.image_key: "image"} | {key: f"mask_{i}" for i, key in enumerate(masks)}
        self.transform.add_targets({self.targets[key]: "mask" for key in masks})

    def randomize(self, data: None = None) -> None:
        """Draw whether this call applies the pipeline (with ``prob``) and seed albumentations for it."""
        self._apply_pipeline = self.R.rand() < self.prob
        seed = self.R.randint(MAX_SEED)
        # one shared stream for all children (``set_random_seed`` would give every child the same seed)
        self.transform.set_random_state(np.random.default_rng(seed), random.Random(seed))

    def __call__(self, data: Mapping[Hashable, NdarrayOrTensor]) -> dict[Hashable, NdarrayOrTensor]:
        d = dict(data)
        self.randomize()
        if not self._apply_pipeline:
            return d
        keys = list(self.key_iterator(d))
        out = self.transform(**{self.targets[key]: self._to_channel_last(key, d[key]) for key in keys})
        for key in keys:
            d[key] = self._to_channel_first(out[self.targets[key]], d[key])
        return d

    def _to_channel_last(self, key: Hashable, data: NdarrayOrTensor) -> np.ndarray:
        """(C, H, W) data to the (H, W, C) uint8/float32 array albumentations expects."""
        if data.ndim != 3:
            raise ValueError(
                f"Albumentationsd supports 2-D channel-first data (C, H, W) only, got '{key}' of shape "
                f"{tuple(data.shape)}; 3-D volumes are not supported."
            )
        array = convert_to_numpy(data)
        if key != self.image_key:
            array = array.astype(np.float32)
        elif np.issubdtype(array.dtype, np.floating):
            if array.size and (array.min() < 0 or array.max() > 1):
                raise ValueError(
                    f"floating-point image '{key}' must be in [0, 1] (got [{array.min()}, {array.max()}]): "
                    "scale it first (e.g. ScaleIntensityd) or use uint8."
                )
            array = array.astype(np.float32)
        elif array.dtype != np.uint8:
            raise TypeError(f"image '{key}' must be uint8 or floating point, got {array.dtype}.")
        return np.ascontiguousarray(np.moveaxis(array, 0, -1))

    @staticmethod
    def _to_channel_first(array: np.ndarray, like: NdarrayOrTensor) -> NdarrayOrTensor:
        """(H, W, C) albumentations output back to the type, dtype and device (and metadata) of ``like``."""
        array = np.moveaxis(array, -1, 0)
        like_is_float = like.is_floating_point() if isinstance(like, torch.Tensor) else like.dtype.kind == "f"
        if array.dtype.kind == "f" and not like_is_float:
            array = np.rint(array)
        return convert_to_dst_type(np.ascontiguousarray(array), like)[0]


def mildnet_augmentation(
    rotation_angles: Sequence[float] = (0, 60, 120, 180, 270),
    scale_limit: float = 0.1,
    shear_limit: float = 45.0,
    elastic_alpha: float = 1.0,
    elastic_sigma: float = 50.0,
    color_jitter: float = 0.2,
    blur_limit: tuple[int, int] = (3, 7),
    noise_var_limit: tuple[float, float] = (10.0, 50.0),
    border_mode: int = cv2.BORDER_REFLECT_101,
    p: float = 0.5,
) -> A.Compose:
    """MILDNet's training augmentation (Gudhe et al. 2021, "Training protocol"), in albumentations 2 terms.

    Spatial: one of the rotation angles, horizontal and vertical flips, random scaling, random shear, elastic
    deformation; pixel-level: ColorJitter, GaussianBlur, GaussNoise. The paper gives no probabilities: each
    transform is applied with ``p`` (albumentations' default 0.5). Translations from the albumentations 1 API the
    paper used:

    - ``RandomScale(scale_limit, interpolation=1)`` becomes an isotropic, bilinear ``Affine(scale=1 ± scale_limit)``,
      which keeps the patch size;
    - ``GaussianBlur(sigma_limit=0)`` (sigma derived from the kernel size, which albumentations 2 no longer does)
      samples sigma between OpenCV's sigmas of the smallest and the largest kernel;
    - ``GaussNoise(var_limit)`` (variance on the 0–255 scale) becomes ``std_range = sqrt(var_limit) / 255``, a
      fraction of the maximum value, for uint8 and [0, 1] float images alike.

    Args:
        rotation_angles: rotation angles in degrees, one chosen uniformly (the paper's list).
        scale_limit: random scaling by a factor in [1 - scale_limit, 1 + scale_limit].
        shear_limit: random shear in [-shear_limit, shear_limit] degrees.
        elastic_alpha: displacement scale of the elastic deformation (not in the paper: albumentations' default).
        elastic_sigma: smoothing of the elastic displacement field (not in the paper: albumentations' default).
        color_jitter: brightness, contrast, saturation and hue jitter of ColorJitter.
        blur_limit: smallest and largest (odd) Gaussian blur kernel size.
        noise_var_limit: range of the Gaussian noise variance, on the 0–255 intensity scale.
        border_mode: OpenCV border mode of the spatial transforms; reflection by default (our choice: no artificial
            background, as albumentations 1 did for rotations and elastic deformation).
        p: probability of each transform.
    """
    spatial = {"border_mode": border_mode}
    blur_sigma = tuple(opencv_gaussian_sigma(k) for k in blur_limit)
    return A.Compose(
        [
            A.OneOf([A.Rotate(limit=(angle, angle), p=1.0, **spatial) for angle in rotation_angles], p=p),
            A.HorizontalFlip(p=p),
            A.VerticalFlip(p=p),
            A.Affine(scale=(1 - scale_limit, 1 + scale_limit), keep_ratio=True, p=p, **spatial),
            A.Affine(shear=(-shear_limit, shear_limit), p=p, **spatial),
            A.ElasticTransform(alpha=elastic_alpha, sigma=elastic_sigma, p=p, **spatial),
            A.ColorJitter(
                brightness=color_jitter, contrast=color_jitter, saturation=color_jitter, hue=color_jitter, p=p
            ),
            A.GaussianBlur(blur_limit=blur_limit, sigma_limit=blur_sigma, p=p),
            A.GaussNoise(std_range=tuple(var**0.5 / 255 for var in noise_var_limit), p=p),
        ]
    )
