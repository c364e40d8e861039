"""Overlays colour true positives green, false positives red and false negatives blue, in the image's orientation,
for binary and multi-class predictions."""

import numpy as np
import pytest
import torch
from monai.transforms import LoadImage
from PIL import Image

from custom_networks.transforms import SaveOverlayd, overlay_errors
from custom_networks.transforms.overlay import class_indices


def test_overlay_colours():
    image = torch.zeros(1, 2, 2)
    pred = torch.tensor([[[1.0, 1.0], [0.0, 0.0]]])
    label = torch.tensor([[[1.0, 0.0], [1.0, 0.0]]])
    rgb = overlay_errors(image, pred, label, alpha=1.0)
    assert rgb.dtype == torch.uint8 and rgb.shape == (3, 2, 2)
    assert rgb[:, 0, 0].tolist() == [0, 255, 0]  # TP
    assert rgb[:, 0, 1].tolist() == [255, 0, 0]  # FP
    assert rgb[:, 1, 0].tolist() == [0, 0, 255]  # FN
    assert rgb[:, 1, 1].tolist() == [0, 0, 0]  # TN keeps the image


def test_save_overlay_keeps_orientation(tmp_path):
    h, w = 6, 10
    Image.fromarray(np.full((h, w, 3), 128, np.uint8)).save(tmp_path / "case.png")
    image = LoadImage(image_only=True, ensure_channel_first=True)(tmp_path / "case.png")
    mask = torch.zeros(1, *image.shape[1:])
    mask[0, 0, 0] = 1  # the first pixel of the loaded array
    SaveOverlayd(str(tmp_path / "out"))({"image": image, "pred": mask, "label": mask})
    written = np.asarray(Image.open(tmp_path / "out" / "case_overlay.png"))
    assert written.shape == (h, w, 3)
    green = np.argwhere((written[..., 1] > written[..., 0]) & (written[..., 1] > written[..., 2]))
    assert green.tolist() == [[0, 0]]


def test_save_overlay_rejects_volumes(tmp_path):
    volume = torch.zeros(1, 4, 4, 4)
    with pytest.raises(ValueError, match="2-D images"):
        SaveOverlayd(str(tmp_path))({"image": volume, "pred": volume, "label": volume})


def test_class_indices_of_binary_index_and_one_hot_inputs():
    binary = torch.tensor([[[0.0, 0.5], [0.51, 1.0]]])
    assert class_indices(binary).tolist() == [[0, 0], [1, 1]]  # > 0.5 is foreground, as before
    indices = torch.tensor([[[0, 1], [2, 3]]], dtype=torch.uint8)
    assert class_indices(indices).tolist() == [[0, 1], [2, 3]]
    one_hot = torch.nn.functional.one_hot(indices[0].long(), 4).permute(2, 0, 1).float()
    assert class_indices(one_hot).tolist() == [[0, 1], [2, 3]]
    logits = torch.tensor([[[2.0, -1.0]], [[0.0, 3.0]]])  # (2, 1, 2): argmax over the channels
    assert class_indices(logits).tolist() == [[0, 1]]


def test_multi_class_overlay_colours():
    """TP: same foreground class; FP: foreground predicted, other class expected; FN: foreground missed."""
    image = torch.zeros(1, 2, 3)
    label = torch.tensor([[[1, 2, 2], [0, 1, 0]]])
    pred = torch.tensor([[[1, 1, 0], [2, 1, 0]]])
    cases = {
        (0, 0): [0, 255, 0],  # 1 vs 1: TP
        (0, 1): [255, 0, 0],  # 1 predicted, 2 expected: FP
        (0, 2): [0, 0, 255],  # background predicted, 2 expected: FN
        (1, 0): [255, 0, 0],  # 2 predicted on background: FP
        (1, 1): [0, 255, 0],  # TP
        (1, 2): [0, 0, 0],  # TN keeps the image
    }
    for p, t in ((pred, label), (_one_hot(pred, 3), _one_hot(label, 3))):
        rgb = overlay_errors(image, p, t, alpha=1.0)
        for (y, x), colour in cases.items():
            assert rgb[:, y, x].tolist() == colour, (y, x)


def test_two_class_one_hot_matches_binary():
    rng = np.random.default_rng(0)
    image = torch.rand(3, 8, 8)
    pred = torch.as_tensor(rng.integers(0, 2, (1, 8, 8)))
    label = torch.as_tensor(rng.integers(0, 2, (1, 8, 8)))
    binary = overlay_errors(image, pred.float(), label.float())
    assert torch.equal(overlay_errors(image, _one_hot(pred, 2), _one_hot(label, 2)), binary)


def test_overlay_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="spatial shape"):
        overlay_errors(torch.zeros(1, 4, 4), torch.zeros(1, 4, 5), torch.zeros(1, 4, 4))


def test_save_multi_class_overlay(tmp_path):
    h, w = 5, 7
    Image.fromarray(np.full((h, w), 100, np.uint8)).save(tmp_path / "grey.png")
    image = LoadImage(image_only=True, ensure_channel_first=True)(tmp_path / "grey.png")
    label = torch.zeros(1, *image.shape[1:])
    label[0, 0, 0], label[0, 1, 0] = 1, 2  # the first two pixels of the first row of the PNG
    pred = label.clone()
    pred[0, 1, 0] = 1  # class 2 mistaken for class 1: red
    SaveOverlayd(str(tmp_path / "out"))({"image": image, "pred": _one_hot(pred, 3), "label": _one_hot(label, 3)})
    written = np.asarray(Image.open(tmp_path / "out" / "grey_overlay.png"))
    assert written.shape == (h, w, 3)
    assert written[0, 0].argmax() == 1 and written[0, 1].argmax() == 0  # green TP, red FP
    assert (written[1:] == written[1, 0]).all() and (written[0, 2:] == written[1, 0]).all()  # the rest untouched


def _one_hot(indices: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(1, H, W) class indices → (N, H, W) float one-hot."""
    return torch.nn.functional.one_hot(indices[0].long(), num_classes).permute(2, 0, 1).float()
