"""ContourWeights(d) and FuzzyBoundaryWeights(d) against direct numpy / OpenCV computations, 2-D and 3-D."""

import math

import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from custom_networks.transforms import ContourWeightsd, FuzzyBoundaryWeightsd
from custom_networks.transforms.gaussian import opencv_gaussian_sigma
from custom_networks.transforms.weight_maps import ContourWeights, FuzzyBoundaryWeights


def _blobs(shape: tuple[int, ...], num_classes: int, seed: int = 0) -> np.ndarray:
    """A channel-first index label of axis-aligned boxes of random classes."""
    rng = np.random.default_rng(seed)
    label = np.zeros((1, *shape), dtype=np.int64)
    for _ in range(4):
        lo = [rng.integers(0, s - 2) for s in shape]
        hi = [rng.integers(low + 2, s + 1) for low, s in zip(lo, shape, strict=True)]
        label[(0, *(slice(low, high) for low, high in zip(lo, hi, strict=True)))] = rng.integers(1, num_classes)
    return label


def _contour_weights_numpy(label: np.ndarray, k: int, num_classes: int | None = None) -> np.ndarray:
    """
    The Res-CR-Net recipe written out: windowed means of the one-hot label over the pixels inside the image;
    returns the per-class map, the shared one-channel map is the same recipe on the border of any class.
    """
    onehot = np.stack([label[0] == c for c in range(num_classes or label.max() + 1)]).astype(np.float64)
    border = np.zeros(onehot.shape, dtype=bool)
    for idx in np.ndindex(*label.shape[1:]):
        window = tuple(slice(max(i - k // 2, 0), i + k // 2 + 1) for i in idx)
        area = onehot[(slice(None), *window)].reshape(onehot.shape[0], -1).mean(axis=1)
        border[(slice(None), *idx)] = (area > 0.005) & (area < 0.995)
    return border


def _rescale_square(border: np.ndarray) -> np.ndarray:
    w = 1.0 + 2.0 * border
    return (w * w.size / w.sum()) ** 2


@pytest.mark.parametrize("shape, num_classes, k", [((20, 24), 2, 5), ((20, 24), 4, 7), ((8, 9, 10), 3, 3)])
def test_contour_weights_match_numpy(shape, num_classes, k):
    label = _blobs(shape, num_classes)
    border = _contour_weights_numpy(label, k)
    expected = _rescale_square(border.any(axis=0, keepdims=True))
    result = ContourWeights(kernel_size=k)(label)
    assert isinstance(result, np.ndarray) and result.dtype == np.float32 and result.shape == (1, *shape)
    np.testing.assert_allclose(result, expected, rtol=1e-5)
    assert np.sqrt(result).mean() == pytest.approx(1.0)  # rescaled to mean 1 before squaring
    # the same map from the one-hot label
    onehot = np.concatenate([label == c for c in range(label.max() + 1)]).astype(np.float32)
    np.testing.assert_allclose(ContourWeights(kernel_size=k)(onehot), expected, rtol=1e-5)
    # one channel per class, rescaled together (the authors' code)
    np.testing.assert_allclose(ContourWeights(k, per_class=True)(onehot), _rescale_square(border), rtol=1e-5)


def test_contour_weights_per_class_with_absent_classes():
    label = _blobs((12, 10), 2, seed=6)  # classes 0 and 1 of 4
    expected = _rescale_square(_contour_weights_numpy(label, 5, num_classes=4))
    result = ContourWeights(5, per_class=True, num_classes=4)(label)
    assert result.shape == (4, 12, 10)
    np.testing.assert_allclose(result, expected, rtol=1e-5)
    np.testing.assert_allclose(result[2], result[3])  # absent classes: no border, the base weight


def test_contour_weights_binary_mask_and_uniform_label():
    label = _blobs((16, 16), 2, seed=1)
    onehot = np.concatenate([1 - label, label]).astype(np.float32)
    np.testing.assert_allclose(ContourWeights(5)(label.astype(np.float32)), ContourWeights(5)(onehot))
    np.testing.assert_array_equal(ContourWeights(5)(np.ones((1, 6, 7, 8))), np.ones((1, 6, 7, 8)))


def test_contour_kernel_size_from_image_size():
    sizes = {100: 11, 150: 11, 151: 21, 300: 21, 301: 31, 600: 31, 601: 41, 1024: 41}
    assert {s: ContourWeights.default_kernel_size(s) for s in sizes} == sizes
    label = _blobs((40, 30, 20), 3, seed=2)  # smallest side 20: k = 11
    np.testing.assert_array_equal(ContourWeights()(label), ContourWeights(kernel_size=11)(label))
    with pytest.raises(ValueError):
        ContourWeights(kernel_size=4)


def _blur_1d_reflect101(signal: np.ndarray, k: int) -> np.ndarray:
    """1-D Gaussian blur with OpenCV's default kernel and border (reflect-101)."""
    sigma = opencv_gaussian_sigma(k)
    x = np.arange(k) - (k - 1) / 2
    kernel = np.exp(-(x**2) / (2 * sigma**2))
    padded = np.pad(signal, k // 2, mode="reflect")
    return np.convolve(padded, kernel / kernel.sum(), mode="valid")


def test_fuzzy_weights_straight_edge_by_hand():
    # a vertical edge: the blur along the edge changes nothing, across it is the 1-D blur
    profile = np.r_[np.zeros(20), np.ones(20)]
    label = np.tile(profile, (1, 30, 1))
    distance = np.abs(profile - _blur_1d_reflect101(profile, 11))
    as_printed = FuzzyBoundaryWeights(kernel_size=11, normalize=False)(label)  # Eq. (1): 1 - d
    np.testing.assert_allclose(as_printed[0], np.tile(1 - distance, (30, 1)), atol=1e-6)
    assert 0.5 < as_printed.min() < 0.65  # on the edge: 0.5 + half the kernel's centre weight, about 0.6 for k = 11
    result = FuzzyBoundaryWeights(kernel_size=11)(label)  # the paper's text: d normalised, then 1 - d
    np.testing.assert_allclose(result[0], np.tile(1 - distance / distance.max(), (30, 1)), atol=1e-6)
    assert result[0, :, 19:21].min() == pytest.approx(0.0, abs=1e-6)  # the two edge columns, one each side
    assert np.all(result[0, :, :10] > 1 - 1e-6) and np.all(result[0, :, 30:] > 1 - 1e-6)  # far: 1
    right = result[0, 0, 20:26]  # at the edge < 1, rising to 1 beyond the kernel radius
    assert right[0] < 0.1 and np.all(np.diff(right) > 0)
    assert (FuzzyBoundaryWeights(kernel_size=11)(np.ones((1, 30, 40))) == 1).all(), "no boundary: weight 1"


def test_fuzzy_weights_of_a_three_pixel_kernel_by_hand():
    """k = 3, sigma 0.8 as OpenCV derives it: kernel (a, b, a) with a = e^(-1/1.28) / (1 + 2 e^(-1/1.28)); at a step
    d is a on both edge pixels and 0 elsewhere, so w_fb = 1 - a as printed and 0 normalised."""
    a = math.exp(-1 / 1.28) / (1 + 2 * math.exp(-1 / 1.28))
    label = np.tile(np.r_[np.zeros(4), np.ones(4)], (1, 5, 1))
    expected = np.r_[np.ones(3), 1 - a, 1 - a, np.ones(3)]
    np.testing.assert_allclose(FuzzyBoundaryWeights(3, normalize=False)(label)[0, 2], expected, atol=1e-6)
    np.testing.assert_allclose(FuzzyBoundaryWeights(3)(label)[0, 2], [1, 1, 1, 0, 0, 1, 1, 1], atol=1e-6)


@pytest.mark.parametrize("k", [5, 21])
def test_fuzzy_weights_match_opencv(k):
    cv2 = pytest.importorskip("cv2")
    mask = (_blobs((48, 40), 2, seed=3)[0] > 0).astype(np.float32)
    sigma = 0 if k > 7 else FuzzyBoundaryWeights(kernel_size=k).sigma  # OpenCV has fixed tables for k <= 7
    distance = np.abs(mask - cv2.GaussianBlur(mask, (k, k), sigma))
    np.testing.assert_allclose(FuzzyBoundaryWeights(k, normalize=False)(mask[None])[0], 1 - distance, atol=1e-5)
    np.testing.assert_allclose(FuzzyBoundaryWeights(k)(mask[None])[0], 1 - distance / distance.max(), atol=1e-5)


def test_fuzzy_sigma_from_kernel_size():
    assert FuzzyBoundaryWeights(21).sigma == pytest.approx(3.5)
    assert FuzzyBoundaryWeights(61).sigma == pytest.approx(9.5)
    assert FuzzyBoundaryWeights(21, sigma=2.0).sigma == 2.0
    assert FuzzyBoundaryWeights(21).kernel.sum().item() == pytest.approx(1.0)
    with pytest.raises(ValueError):
        FuzzyBoundaryWeights(kernel_size=20)
    with pytest.raises(ValueError, match="too small"):
        FuzzyBoundaryWeights(kernel_size=21)(np.zeros((1, 10, 40)))


def test_fuzzy_weights_multiclass_and_3d():
    label = _blobs((12, 14, 16), 4, seed=4)
    onehot = np.concatenate([label == c for c in range(4)]).astype(np.float32)
    per_class = np.stack([FuzzyBoundaryWeights(5, normalize=False)(onehot[c : c + 1])[0] for c in range(4)])
    result = FuzzyBoundaryWeights(5, normalize=False)(label)
    assert result.shape == (1, 12, 14, 16)
    np.testing.assert_allclose(result[0], per_class.min(axis=0), atol=1e-6)  # the least confident class
    np.testing.assert_allclose(FuzzyBoundaryWeights(5, normalize=False)(onehot), result)
    np.testing.assert_allclose(FuzzyBoundaryWeights(5)(label), 1 - (1 - result) / (1 - result).max(), atol=1e-6)
    # a uniform region away from every boundary keeps weight 1; boundaries get less
    assert np.all(np.isclose(result, 1, atol=1e-6) | (result < 1))
    binary = (label > 0).astype(np.float32)
    two_class = np.concatenate([1 - binary, binary])
    np.testing.assert_allclose(FuzzyBoundaryWeights(5)(two_class), FuzzyBoundaryWeights(5)(binary), atol=1e-6)
    assert FuzzyBoundaryWeights(5)(binary).min() < 0.9


@pytest.mark.parametrize("transform", [ContourWeightsd, FuzzyBoundaryWeightsd])
def test_dictionary_wrappers(transform):
    label = MetaTensor(torch.from_numpy(_blobs((24, 20), 3, seed=5)), meta={"filename_or_obj": "case_0.png"})
    data = {"label": label, "label2": label.clone(), "image": torch.rand(1, 24, 20)}
    out = transform(keys=["label", "label2"], kernel_size=5, output_keys=["w", "w2"])(data)
    assert isinstance(out["w"], MetaTensor) and out["w"].meta["filename_or_obj"] == "case_0.png"
    assert out["w"].dtype == torch.float32 and out["w"].shape == (1, 24, 20)
    torch.testing.assert_close(out["w"], out["w2"])
    assert out["label"] is label and out["image"] is data["image"]
    assert "weight" in transform(keys="label", kernel_size=5)(data)
    assert transform(keys="missing", kernel_size=5, allow_missing_keys=True)(data).keys() == data.keys()
    with pytest.raises(KeyError):
        transform(keys="missing", kernel_size=5)(data)


def test_fuzzy_kernel_by_the_items_source():
    """Clean and noisy annotations trained together, each blurred with its own kernel (the paper: 21 and 61)."""
    label = torch.from_numpy(_blobs((32, 30), 3, seed=6))
    transform = FuzzyBoundaryWeightsd("label", kernel_size=5, source_kernel_sizes={"clean": 3, "noisy": 9})
    for source, size in (("clean", 3), ("noisy", 9), ("other", 5), (None, 5)):
        item = {"label": label} if source is None else {"label": label, "source": source}
        torch.testing.assert_close(transform(item)["weight"], FuzzyBoundaryWeights(size)(label))
    assert not torch.equal(
        transform({"label": label, "source": "clean"})["weight"], transform({"label": label})["weight"]
    )
