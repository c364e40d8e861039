"""Albumentationsd: image and masks stay aligned, types and metadata are kept, MONAI seeding, JSON construction."""

import albumentations as A
import cv2
import numpy as np
import pytest
import torch
from monai.bundle import ConfigParser
from monai.data import MetaTensor
from monai.transforms import Compose
from monai.utils import set_determinism
from scipy import ndimage

from custom_networks.transforms import Albumentationsd
from custom_networks.transforms.augmentation import mildnet_augmentation
from custom_networks.zoo import bundles_root

SIZE = 64
LEVELS = (0.1, 0.5, 0.9)  # image intensity of labels 0, 1, 2


def _label() -> torch.Tensor:
    """(1, H, W) int64 labels: a rectangle (1) and a disk (2) on background (0)."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    label = np.zeros((SIZE, SIZE), np.int64)
    label[8:30, 10:50] = 1
    label[(yy - 44) ** 2 + (xx - 36) ** 2 < 14**2] = 2
    return torch.as_tensor(label)[None]


def _image(label: torch.Tensor) -> torch.Tensor:
    """(3, H, W) float image in [0, 1] whose intensity encodes the label."""
    return torch.tensor(LEVELS, dtype=torch.float32)[label[0]].expand(3, -1, -1).clone()


def _data() -> dict:
    label = _label()
    return {"image": _image(label), "label": label}


def _decode(image: torch.Tensor) -> np.ndarray:
    """Labels recovered by thresholding the image halfway between the intensity levels."""
    return np.digitize(image[0].numpy(), [(a + b) / 2 for a, b in zip(LEVELS, LEVELS[1:], strict=False)])


def test_spatial_transforms_keep_image_and_mask_aligned():
    pipeline = [
        A.Affine(rotate=(-40, 40), shear=(-20, 20), scale=(0.8, 1.2), p=1.0),
        A.HorizontalFlip(p=1.0),
        A.ElasticTransform(alpha=40, sigma=6, border_mode=cv2.BORDER_REFLECT_101, p=1.0),
    ]
    transform = Albumentationsd(["image", "label"], pipeline)
    transform.set_random_state(seed=0)
    data = _data()
    for _ in range(3):
        out = transform(data)
        label = out["label"][0].numpy()
        assert not np.array_equal(label, data["label"][0].numpy())
        assert set(np.unique(label)) <= {0, 1, 2}
        # disagreement only where the image was interpolated across a label boundary
        boundary = ndimage.maximum_filter(label, size=5) != ndimage.minimum_filter(label, size=5)
        mismatch = _decode(out["image"]) != label
        assert mismatch.any() and not (mismatch & ~boundary).any()


def test_pixel_transforms_change_the_image_only():
    pipeline = [
        A.ColorJitter(0.2, 0.2, 0.2, 0.2, p=1.0),
        A.GaussianBlur(blur_limit=(3, 7), p=1.0),
        A.GaussNoise(p=1.0),
    ]
    data = _data()
    out = Albumentationsd(["image", "label"], pipeline)(data)
    assert not torch.allclose(out["image"], data["image"])
    assert torch.equal(out["label"], data["label"])


@pytest.mark.parametrize(
    "image, label",
    [
        (torch.rand(3, 40, 48), torch.randint(0, 3, (1, 40, 48))),
        (torch.rand(1, 40, 48, dtype=torch.float64), torch.randint(0, 2, (1, 40, 48)).float()),
        (torch.randint(0, 256, (3, 40, 48), dtype=torch.uint8), torch.randint(0, 2, (1, 40, 48), dtype=torch.uint8)),
        (torch.rand(3, 40, 48).numpy(), torch.randint(0, 2, (2, 40, 48), dtype=torch.bool).numpy()),
    ],
)
def test_types_shapes_and_labels_are_kept(image, label):
    transform = Albumentationsd(["image", "label"], mildnet_augmentation(p=1.0))
    out = transform({"image": image, "label": label})
    for key, value in (("image", image), ("label", label)):
        assert type(out[key]) is type(value)
        assert out[key].dtype == value.dtype
        assert out[key].shape == value.shape
    assert set(np.unique(np.asarray(out["label"]))) <= set(np.unique(np.asarray(label)))
    if image.dtype != torch.uint8:
        assert 0 <= out["image"].min() and out["image"].max() <= 1


def test_metatensor_metadata_is_kept():
    data = _data()
    affine = torch.diag(torch.tensor([0.5, 0.5, 1.0, 1.0], dtype=torch.float64))
    data = {
        key: MetaTensor(value, affine=affine, meta={"filename_or_obj": f"{key}.png"}) for key, value in data.items()
    }
    out = Albumentationsd(["image", "label"], A.VerticalFlip(p=1.0))(data)
    for key in data:
        assert isinstance(out[key], MetaTensor)
        assert out[key].meta["filename_or_obj"] == f"{key}.png"
        assert torch.equal(out[key].affine, affine)
    assert torch.equal(out["label"].as_tensor(), data["label"].as_tensor().flip(1))


def test_several_masks_and_image_key():
    data = _data()
    data["weight"] = torch.rand(1, SIZE, SIZE, dtype=torch.float64)
    out = Albumentationsd(["label", "weight", "image"], A.Transpose(p=1.0), image_key="image")(data)
    for key in data:  # masks go through albumentations as float32
        torch.testing.assert_close(out[key], data[key].transpose(1, 2), rtol=1e-6, atol=0)
    missing = Albumentationsd(["image", "label", "weight"], A.Transpose(p=1.0), allow_missing_keys=True)
    assert set(missing(_data())) == {"image", "label"}


def _flips(transform: Albumentationsd, calls: int) -> list[tuple[bool, bool]]:
    """Which of the horizontal/vertical flips each call applied, read from a 2×2 image."""
    image = torch.arange(4, dtype=torch.uint8).reshape(1, 2, 2)
    flips = []
    for _ in range(calls):
        out = transform({"image": image})["image"]
        flips.append((bool(out[0, 0, 0] % 2), bool(out[0, 0, 0] // 2)))
    return flips


def _flip_transform() -> Albumentationsd:
    return Albumentationsd("image", [A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5)])


def test_set_random_state_reproduces_and_children_draw_independently():
    first, second, other = _flip_transform(), _flip_transform(), _flip_transform()
    first.set_random_state(seed=3)
    second.set_random_state(seed=3)
    other.set_random_state(seed=4)
    flips = _flips(first, 40)
    assert flips == _flips(second, 40)
    assert flips != _flips(other, 40)
    assert set(flips) == {(False, False), (False, True), (True, False), (True, True)}


def test_set_determinism_reproduces_through_monai_compose():
    runs = []
    for _ in range(2):
        set_determinism(seed=11)
        runs.append(_flips(Compose([_flip_transform()]).transforms[0], 20))
    set_determinism(seed=None)
    assert runs[0] == runs[1]


def test_prob_zero_returns_data_unchanged():
    data = _data()
    out = Albumentationsd(["image", "label"], A.HorizontalFlip(p=1.0), prob=0.0)(data)
    assert all(out[key] is data[key] for key in data)


def test_prob_applies_the_pipeline_on_that_share_of_calls():
    transform = Albumentationsd("image", A.HorizontalFlip(p=1.0), prob=0.5)
    transform.set_random_state(seed=0)
    assert sum(flipped for flipped, _ in _flips(transform, 200)) in range(80, 121)


@pytest.mark.parametrize(
    "data, error",
    [
        ({"image": torch.rand(1, 8, 8, 8)}, ValueError),  # 3-D volume
        ({"image": torch.rand(8, 8)}, ValueError),  # no channel dimension
        ({"image": torch.rand(3, 8, 8) * 255}, ValueError),  # float image outside [0, 1]
        ({"image": torch.zeros(3, 8, 8, dtype=torch.int16)}, TypeError),
    ],
)
def test_invalid_data_raises(data, error):
    with pytest.raises(error):
        Albumentationsd("image", A.HorizontalFlip())(data)


def test_image_key_must_be_a_key():
    with pytest.raises(ValueError):
        Albumentationsd(["image", "label"], A.HorizontalFlip(), image_key="img")


@pytest.mark.parametrize(
    "transform",
    [
        {
            "_target_": "albumentations.Compose",
            "transforms": [
                {"_target_": "albumentations.HorizontalFlip", "p": 0.5},
                {"_target_": "albumentations.Affine", "rotate": [-30, 30], "p": 0.5},
                {"_target_": "albumentations.ColorJitter", "brightness": 0.2, "p": 0.5},
            ],
        },
        [{"_target_": "albumentations.VerticalFlip"}, {"_target_": "albumentations.GaussNoise"}],
        {"_target_": "custom_networks.transforms.augmentation.mildnet_augmentation"},
    ],
)
def test_json_construction(transform):
    config = {
        "augmentation": {"_target_": "custom_networks.transforms.Albumentationsd", "keys": ["image", "label"]},
    }
    config["augmentation"]["transform"] = transform
    augmentation = ConfigParser(config).get_parsed_content("augmentation")
    assert isinstance(augmentation, Albumentationsd) and isinstance(augmentation.transform, A.Compose)
    data = _data()
    out = augmentation(data)
    assert out["image"].shape == data["image"].shape and out["label"].dtype == torch.int64


def test_mildnet_augmentation_follows_the_paper():
    compose = mildnet_augmentation()
    rotations, *others = compose.transforms
    assert [t.limit for t in rotations.transforms] == [(a, a) for a in (0, 60, 120, 180, 270)]
    names = [type(t).__name__ for t in others]
    assert names == [
        "HorizontalFlip",
        "VerticalFlip",
        "Affine",
        "Affine",
        "ElasticTransform",
        "ColorJitter",
        "GaussianBlur",
        "GaussNoise",
    ]
    noise = others[-1]
    assert noise.std_range == pytest.approx((10**0.5 / 255, 50**0.5 / 255))
    assert others[-2].sigma_limit == pytest.approx((0.8, 1.4))


@pytest.mark.parametrize(("override", "prob"), [({}, 1.0), ({"augment_prob": 0.0}, 0.0)])
def test_mildnet_bundles_augment_unless_told_not_to(override, prob):
    """``--augment_prob 0`` trains a MILDNet bundle without the paper's augmentation, as its comparisons ran."""
    parser = ConfigParser()
    parser.read_config(str(bundles_root() / "mildnet_dsb2018_nuclei" / "configs" / "train.json"))
    parser.update(override)
    augmentations = [t for t in parser.get_parsed_content("train#transforms") if isinstance(t, Albumentationsd)]
    assert [t.prob for t in augmentations] == [prob]
