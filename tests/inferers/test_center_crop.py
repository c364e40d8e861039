"""CenterCropSlidingWindowInferer: stitching equals full-image inference, and only window centres contribute."""

import pytest
import torch
import torch.nn.functional as F
from monai.bundle import ConfigParser
from monai.data import MetaTensor
from torch import nn

from custom_networks.inferers import CenterCropSlidingWindowInferer

torch.manual_seed(0)


def _reflect_reference(network: nn.Module, image: torch.Tensor, margin: tuple[int, ...]) -> torch.Tensor:
    """Full-image output with the same reflected context at the image border."""
    pad = [p for m in reversed(margin) for p in (m, m)]
    crop = tuple(slice(m, -m) for m in margin)
    return network(F.pad(image, pad, mode="reflect"))[(slice(None), slice(None), *crop)]


@pytest.mark.parametrize(
    "image_size, roi_size, margin, overlap, kernel",
    [
        ((37, 50), (16, 20), (4, 3), None, 5),  # centre crops tile the image, sizes no multiple of the step
        ((37, 50), (16, 16), 4, 0.5, 5),  # 50 % overlap: step = centre
        ((21, 30), (16, 16), 4, 0.75, 9),  # centres overlap and are averaged
        ((5, 7), (16, 16), 4, None, 3),  # image smaller than a window
        ((13, 17, 11), (8, 8, 8), 2, None, 3),  # 3-D
        ((13, 17, 11), (8, 8, 6), (2, 2, 1), 0.5, 3),  # 3-D, 50 % overlap
    ],
)
def test_equals_full_image_inference_when_the_margin_covers_the_receptive_field(
    image_size, roi_size, margin, overlap, kernel
):
    # a conv with zero padding is exact away from the window border: the margin discards its border artefacts
    conv = (nn.Conv2d if len(image_size) == 2 else nn.Conv3d)(2, 3, kernel, padding=kernel // 2)
    inferer = CenterCropSlidingWindowInferer(roi_size, margin, overlap=overlap, sw_batch_size=16)
    image = torch.rand(2, 2, *image_size)
    with torch.no_grad():
        output = inferer(image, conv)
        reference = _reflect_reference(conv, image, inferer.margin)
    torch.testing.assert_close(output, reference, rtol=1e-4, atol=1e-5)


def test_without_enough_margin_window_borders_show():
    conv = nn.Conv2d(1, 1, 9, padding=4)
    image = torch.rand(1, 1, 24, 24)
    inferer = CenterCropSlidingWindowInferer((16, 16), margin=2, overlap=0.75, sw_batch_size=16)
    with torch.no_grad():
        assert not torch.allclose(inferer(image, conv), _reflect_reference(conv, image, (2, 2)), atol=1e-3)


def _window_position(x: torch.Tensor) -> torch.Tensor:
    """A network whose output is the voxel's position inside its window (channel d: index along dimension d)."""
    grids = torch.meshgrid(*(torch.arange(n, dtype=x.dtype) for n in x.shape[2:]), indexing="ij")
    return torch.stack(grids).expand(x.shape[0], -1, *x.shape[2:]).contiguous()


def _expected_position(size: int, roi: int, margin: int, step: int) -> torch.Tensor:
    """Mean window position of each voxel over the windows whose centre holds it (last window flush with the end)."""
    padded = size + 2 * margin
    starts = sorted({min(s, padded - roi) for s in range(0, max(padded - roi, 0) + step, step)})
    expected = torch.zeros(size)
    for i in range(size):
        inside = [i + margin - s for s in starts if margin <= i + margin - s < roi - margin]
        expected[i] = sum(inside) / len(inside)
    return expected


@pytest.mark.parametrize(
    "image_size, roi_size, margin, overlap",
    [((45, 29), (16, 12), (4, 2), None), ((45, 29), (16, 12), (4, 3), 0.5), ((9, 23, 14), (6, 8, 8), (1, 2, 2), None)],
)
def test_only_window_centres_contribute(image_size, roi_size, margin, overlap):
    inferer = CenterCropSlidingWindowInferer(roi_size, margin, overlap=overlap, sw_batch_size=16)
    output = inferer(torch.zeros(1, 1, *image_size), _window_position)
    for d, (size, roi, m) in enumerate(zip(image_size, roi_size, inferer.margin, strict=True)):
        position = output[0, d].movedim(d, 0)
        assert position.min() >= m - 1e-3 and position.max() <= roi - m - 1 + 1e-3  # borders included
        step = int(roi * (1 - inferer.overlap[d]))
        expected = _expected_position(size, roi, m, step).reshape(-1, *[1] * (len(image_size) - 1))
        torch.testing.assert_close(position, expected.expand_as(position), rtol=0, atol=1e-3)


def test_weight_map_is_one_on_the_centre_and_tiny_on_the_margin():
    inferer = CenterCropSlidingWindowInferer((8, 10, 6), margin=(2, 3, 1), margin_weight=1e-5)
    weights = inferer.roi_weight_map
    assert weights.shape == (8, 10, 6)
    assert torch.all(weights[2:6, 3:7, 1:5] == 1)
    assert weights.sum() == pytest.approx(4 * 4 * 4 + 1e-5 * (8 * 10 * 6 - 4 * 4 * 4))


def test_metatensor_metadata_is_kept():
    affine = torch.diag(torch.tensor([0.5, 0.25, 1.0], dtype=torch.float64))
    image = MetaTensor(torch.rand(1, 1, 30, 21), affine=affine, meta={"filename_or_obj": "slide.tif"})
    # a copy: MONAI weights the network output in place, which must not be a view of the input windows
    output = CenterCropSlidingWindowInferer((12, 12), margin=3)(image, torch.clone)
    assert isinstance(output, MetaTensor) and output.meta["filename_or_obj"] == "slide.tif"
    assert torch.equal(output.affine, affine)
    torch.testing.assert_close(output.as_tensor(), image.as_tensor())


@pytest.mark.parametrize("container", [tuple, dict])
def test_outputs_of_several_resolutions(container):
    conv = nn.Conv2d(1, 2, 1)

    def network(x: torch.Tensor):
        y = conv(x)
        outputs = (y, F.interpolate(y, scale_factor=2, mode="nearest"))
        return dict(zip(("full", "up"), outputs, strict=True)) if container is dict else outputs

    image = torch.rand(1, 1, 30, 21)
    with torch.no_grad():
        outputs = CenterCropSlidingWindowInferer((12, 12), margin=3)(image, network)
        reference = conv(image)
    full, up = outputs.values() if container is dict else outputs
    torch.testing.assert_close(full, reference, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(up, F.interpolate(reference, scale_factor=2), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"roi_size": (8, 8), "margin": 4},  # no centre left
        {"roi_size": (0, 8), "margin": 1},
        {"roi_size": (16, 16), "margin": 4, "overlap": 0.25},  # steps of 12 over centres of 8
        {"roi_size": (16, 16), "margin": 4, "margin_weight": 0.0},
    ],
)
def test_invalid_configuration_raises(kwargs):
    with pytest.raises(ValueError):
        CenterCropSlidingWindowInferer(**kwargs)


def test_json_construction_of_the_papers_settings():
    config = {
        "msunet": {
            "_target_": "custom_networks.inferers.CenterCropSlidingWindowInferer",
            "roi_size": [1024, 1024],
            "margin": 256,
            "overlap": 0.5,
        },
        "mildnet": {
            "_target_": "custom_networks.inferers.CenterCropSlidingWindowInferer",
            "roi_size": [288, 288],
            "margin": 16,
        },
    }
    parser = ConfigParser(config)
    for key, step in (("msunet", 512), ("mildnet", 256)):
        inferer = parser.get_parsed_content(key)
        assert isinstance(inferer, CenterCropSlidingWindowInferer)
        assert [int(r * (1 - o)) for r, o in zip(inferer.roi_size, inferer.overlap, strict=True)] == [step, step]
